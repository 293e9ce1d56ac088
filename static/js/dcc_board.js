// The DCC board's chart: this month's calls, appointments and arrivals per agent
// (#dcc-board-chart), drawn by ECharts from the JSON the table carries (#dcc-board-data), and
// redrawn whenever htmx brings a fresh table.
(function () {
  "use strict";
  const COLORS = ["#75b0dc", "#0b4f8a", "#2e8b57"];  // calls, appointments, arrivals
  let chart = null;

  function draw() {
    const el = document.getElementById("dcc-board-chart");
    const source = document.getElementById("dcc-board-data");
    if (!el || !source || !window.echarts) return;
    const data = JSON.parse(source.textContent);
    const narrow = window.innerWidth < 576;
    if (!chart) {
      chart = window.echarts.init(el, null, { renderer: "canvas" });
      window.addEventListener("resize", () => chart.resize());
    }
    chart.setOption({
      textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
      color: COLORS,
      legend: { top: 4 },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: {
        type: "category",
        data: data.agents,
        axisLabel: { interval: 0, rotate: narrow && data.agents.length > 3 ? 30 : 0 },
      },
      yAxis: { type: "value", minInterval: 1 },
      series: data.series.map((series) => ({
        name: series.name,
        type: "bar",
        label: { show: !narrow, position: "top" },
        data: series.values,
      })),
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
