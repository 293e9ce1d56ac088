// Small form behaviours declared in the markup, so that no page needs inline script (the
// Content-Security-Policy allows scripts from our static files only):
//   <select data-submit-on-change>     submits its form when a choice is made;
//   <input type="checkbox" data-check-all="NAME">  ticks or unticks every box named NAME in
//                                      its table.
//   <button data-print>                prints the page (a printable invitation).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    const el = event.target instanceof Element ? event.target.closest("[data-print]") : null;
    if (el) window.print();
  });
  document.addEventListener("change", function (event) {
    const el = event.target;
    if (!(el instanceof HTMLElement)) return;
    if (el.hasAttribute("data-submit-on-change") && el.form) {
      el.form.submit();
    }
    const name = el.dataset.checkAll;
    if (name) {
      const scope = el.closest("table") || document;
      scope.querySelectorAll('input[type="checkbox"][name="' + CSS.escape(name) + '"]').forEach(function (box) {
        box.checked = el.checked;
      });
    }
  });
})();
