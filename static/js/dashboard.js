// The dashboard's funnel chart: the steps of <script id="dcc-funnel-data">, drawn by ECharts
// into #dcc-funnel; a click on a step opens the leads behind it.
(function () {
  "use strict";
  const PALETTE = ["#0b4f8a", "#1765a8", "#2f7fc1", "#4f97cf", "#75b0dc", "#9cc8e8"];

  function draw() {
    const el = document.getElementById("dcc-funnel");
    const source = document.getElementById("dcc-funnel-data");
    if (!el || !source || !window.echarts) return;
    const data = JSON.parse(source.textContent);
    const encode = window.echarts.format.encodeHTML;
    const largest = Math.max(1, ...data.steps.map((step) => step.value));
    const chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
      color: PALETTE,
      tooltip: {
        trigger: "item",
        formatter: (item) => encode(item.name) + "<br>"
          + encode(data.month) + ": " + item.value + "<br>"
          + encode(data.previous_month) + ": " + item.data.previous
          + (item.data.conversion ? "<br>" + encode(item.data.conversion) : ""),
      },
      series: [{
        type: "funnel",
        sort: "none",
        min: 0,
        max: largest,
        minSize: "12%",
        left: "4%",
        width: "92%",
        top: 8,
        bottom: 8,
        gap: 3,
        cursor: "pointer",
        label: {
          show: true,
          position: "inside",
          color: "#fff",
          textBorderColor: "#0b2a47",
          textBorderWidth: 2,
          formatter: (item) => item.name + "  " + item.value,
        },
        data: data.steps.map((step) => ({
          name: step.name,
          value: step.value,
          previous: step.previous,
          conversion: step.conversion,
          drill: step.drill,
        })),
      }],
    });
    chart.on("click", (item) => {
      if (item.data && item.data.drill) window.location.href = el.dataset.drillUrl + "?" + item.data.drill;
    });
    window.addEventListener("resize", () => chart.resize());
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
