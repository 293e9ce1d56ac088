// The dashboard's charts, drawn by ECharts from the data the page carries in
// <script type="application/json">: the month's funnel (#dcc-funnel) and two periods' funnels
// side by side (#dcc-compare-chart), and headquarters' dealers × stages heat map (#dcc-heat).
// A click on a step or a cell opens the leads behind it.
(function () {
  "use strict";
  const PALETTE = ["#0b4f8a", "#1765a8", "#2f7fc1", "#4f97cf", "#75b0dc", "#9cc8e8"];

  function start(elementId, dataId, option) {
    const el = document.getElementById(elementId);
    const source = document.getElementById(dataId);
    if (!el || !source || !window.echarts) return;
    const data = JSON.parse(source.textContent);
    if (data.dealers) el.style.height = Math.max(220, 90 + 36 * data.dealers.length) + "px";
    const chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(Object.assign(
      { textStyle: { fontFamily: getComputedStyle(document.body).fontFamily } },
      option(data, window.echarts.format.encodeHTML),
    ));
    chart.on("click", (item) => {
      const drill = item.data && item.data.drill;
      if (drill) window.location.href = el.dataset.drillUrl + "?" + drill;
    });
    window.addEventListener("resize", () => chart.resize());
  }

  function funnel(data, encode) {
    return {
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
        max: Math.max(1, ...data.steps.map((step) => step.value)),
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
    };
  }

  function sideBySide(data) {
    return {
      color: ["#9cc8e8", "#0b4f8a"],
      legend: { top: 4 },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      // Two periods' names may not fit one line of legend on a phone.
      grid: { left: 8, right: 16, top: window.innerWidth < 576 ? 68 : 36, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.steps.map((step) => step.name) },
      yAxis: { type: "value", minInterval: 1 },
      series: data.periods.map((period, index) => ({
        name: period,
        type: "bar",
        cursor: "pointer",
        label: { show: true, position: "top" },
        data: data.steps.map((step) => ({ value: step.values[index], drill: step.drills[index] })),
      })),
    };
  }

  // Dealers × funnel rates, each cell coloured by its gap to the brand average (percentage
  // points, red below, green above); a ring marks a rate significantly below the brand.
  function heat(data, encode) {
    const narrow = window.innerWidth < 576;
    // A sample too small to judge is drawn grey, outside the scale, its rate still shown.
    const judged = data.cells.filter((cell) => cell.judged);
    const unjudged = data.cells.filter((cell) => !cell.judged);
    // The scale's reach (percentage points either side) and its two ends, worded by the server.
    const reach = data.reach;
    return {
      tooltip: {
        formatter: (item) => {
          const cell = item.data.cell;
          return encode(data.dealers[cell.y]) + "<br>" + encode(data.metrics[cell.x]) + ": "
            + encode(cell.rate) + " (" + encode(cell.parts) + ")<br>"
            + encode(data.labels.brand) + ": " + encode(cell.brand)
            + (cell.low ? "<br><b>" + encode(data.labels.low) + "</b>" : "")
            + (cell.judged ? "" : "<br>" + encode(data.labels.small));
        },
      },
      grid: { left: 8, right: 8, top: 8, bottom: 56, containLabel: true },
      xAxis: {
        type: "category",
        data: data.metrics,
        axisLabel: { interval: 0, rotate: narrow ? 60 : 20, fontSize: narrow ? 10 : 12 },
        splitArea: { show: true },
      },
      yAxis: {
        type: "category",
        data: data.dealers,
        inverse: true,
        axisLabel: {
          fontSize: narrow ? 10 : 12,
          formatter: (name) => (narrow ? name.split(" ")[0] : name),
        },
      },
      visualMap: {
        type: "continuous",
        dimension: 2,
        seriesIndex: 0,
        min: -reach,
        max: reach,
        calculable: false,
        orient: "horizontal",
        left: "center",
        bottom: 0,
        itemHeight: narrow ? 120 : 200,
        text: [data.labels.above, data.labels.below],
        inRange: { color: ["#c0392b", "#f4d3cf", "#f7f7f7", "#cfe8d5", "#2e8b57"] },
      },
      series: [judged, unjudged].map((cells, index) => ({
        type: "heatmap",
        cursor: "pointer",
        label: {
          show: true,
          fontSize: narrow ? 9 : 12,
          formatter: (item) => item.data.cell.rate + (item.data.cell.low ? " !" : ""),
        },
        data: cells.map((cell) => ({
          value: [cell.x, cell.y, index ? 0 : cell.gap],
          cell: cell,
          drill: cell.drill,
          itemStyle: Object.assign(
            index ? { color: "#e9ecef" } : {},
            cell.low
              ? { borderColor: "#7b1010", borderWidth: 3 }
              : { borderColor: "#fff", borderWidth: 1 },
          ),
        })),
      })),
    };
  }

  document.addEventListener("DOMContentLoaded", () => {
    start("dcc-heat", "dcc-heat-data", heat);
    start("dcc-funnel", "dcc-funnel-data", funnel);
    start("dcc-compare-chart", "dcc-compare-data", sideBySide);
  });
})();
