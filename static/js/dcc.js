// Live countdowns to SLA deadlines and due times, rendered by the `countdown` template tag:
// <span class="dcc-countdown" data-deadline="ISO" data-late-min="{n} min overdue" ...>.
// Time left is a clock; time overdue is said in words, as the server's first paint says it.
(function () {
  "use strict";
  function clock(s) {
    const h = Math.floor(s / 3600); s -= h * 3600;
    const m = Math.floor(s / 60); s -= m * 60;
    return (h ? h + ":" + String(m).padStart(2, "0") : String(m)) + ":" + String(s).padStart(2, "0");
  }
  function overdue(el, s) {
    const say = function (phrase, n) {
      return (phrase || "-{n}").replace("{n}", String(n));
    };
    if (s < 3600) return say(el.dataset.lateMin, Math.max(1, Math.floor(s / 60)));
    if (s < 86400) return say(el.dataset.lateH, Math.floor(s / 3600));
    const days = Math.floor(s / 86400);
    return say(days === 1 ? el.dataset.lateDay : el.dataset.lateDays, days);
  }
  function tick() {
    const now = Date.now();
    document.querySelectorAll(".dcc-countdown[data-deadline]").forEach(function (el) {
      const left = Math.trunc((Date.parse(el.dataset.deadline) - now) / 1000);
      el.textContent = left >= 0 ? clock(left) : overdue(el, -left);
      el.classList.toggle("dcc-overdue", left < 0);
      el.classList.toggle("dcc-due", left >= 0 && left < 5 * 60);
    });
  }
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSettle", tick);
  setInterval(tick, 1000);
})();

// The call panel's talk timer: counts up from data-since, or shows the whole call once
// data-until (the end) is known.
(function () {
  "use strict";
  function clock(s) {
    const m = Math.floor(s / 60);
    return String(m).padStart(2, "0") + ":" + String(s - m * 60).padStart(2, "0");
  }
  function tick() {
    document.querySelectorAll(".dcc-talk-timer[data-since]").forEach(function (el) {
      const end = el.dataset.until ? Date.parse(el.dataset.until) : Date.now();
      el.textContent = clock(Math.max(0, Math.trunc((end - Date.parse(el.dataset.since)) / 1000)));
    });
  }
  document.addEventListener("htmx:afterSettle", tick);
  setInterval(tick, 1000);
})();
