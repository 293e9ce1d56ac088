// Live countdowns to SLA deadlines and due times: <span class="dcc-countdown" data-deadline="ISO">.
(function () {
  "use strict";
  function format(ms) {
    const late = ms < 0;
    let s = Math.floor(Math.abs(ms) / 1000);
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    const text = (h ? h + ":" + String(m).padStart(2, "0") : String(m)) + ":" + String(s).padStart(2, "0");
    return late ? "-" + text : text;
  }
  function tick() {
    const now = Date.now();
    document.querySelectorAll(".dcc-countdown[data-deadline]").forEach(function (el) {
      const left = Date.parse(el.dataset.deadline) - now;
      el.textContent = format(left);
      el.classList.toggle("dcc-overdue", left < 0);
      el.classList.toggle("dcc-due", left >= 0 && left < 5 * 60 * 1000);
    });
  }
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSettle", tick);
  setInterval(tick, 1000);
})();
