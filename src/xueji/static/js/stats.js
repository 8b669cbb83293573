/* Charts of the statistics pages (xueji.stats): each [data-chart] element names the JSON data
 * block (json_script) it draws; no inline script, so a strict content security policy holds.
 * Hidden (suppressed) figures arrive as null and are drawn as gaps. */
(function () {
  "use strict";

  var PALETTE = ["#1f6feb", "#d9480f", "#2f9e44", "#ae3ec9", "#f08c00", "#0c8599", "#e64980"];

  function title(data) {
    return { text: data.title || "", left: "center", textStyle: { fontSize: 14 } };
  }

  function bar(data) {
    var horizontal = data.categories.length > 8;
    var categoryAxis = {
      type: "category",
      data: data.categories,
      axisLabel: { interval: 0, rotate: horizontal ? 0 : 30 },
    };
    var valueAxis = { type: "value", minInterval: 1 };
    return {
      color: PALETTE,
      title: title(data),
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 24, show: data.series.length > 1 },
      grid: { left: 8, right: 24, top: 56, bottom: 8, containLabel: true },
      xAxis: horizontal ? valueAxis : categoryAxis,
      yAxis: horizontal ? Object.assign({ inverse: true }, categoryAxis) : valueAxis,
      series: data.series.map(function (s) {
        return { name: s.name, type: "bar", stack: s.stack, data: s.data };
      }),
    };
  }

  function pyramid(data) {
    var boys = data.series[0];
    var girls = data.series[1];
    return {
      color: PALETTE,
      title: title(data),
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        valueFormatter: function (v) { return v === null || v === undefined ? "×" : Math.abs(v); },
      },
      legend: { top: 24 },
      grid: { left: 8, right: 24, top: 56, bottom: 8, containLabel: true },
      xAxis: { type: "value", axisLabel: { formatter: function (v) { return Math.abs(v); } } },
      yAxis: { type: "category", data: data.categories },
      series: [
        {
          name: boys.name, type: "bar", stack: "age",
          data: boys.data.map(function (v) { return v === null ? null : -v; }),
        },
        { name: girls.name, type: "bar", stack: "age", data: girls.data },
      ],
    };
  }

  function heatmap(data) {
    return {
      title: title(data),
      tooltip: { position: "top" },
      grid: { left: 8, right: 24, top: 40, bottom: 64, containLabel: true },
      xAxis: { type: "category", data: data.x, splitArea: { show: true } },
      yAxis: { type: "category", data: data.y, inverse: true, splitArea: { show: true } },
      visualMap: {
        min: 0, max: Math.max(1, data.max), calculable: true, orient: "horizontal",
        left: "center", bottom: 0, inRange: { color: ["#e7f0ff", "#1f6feb"] },
      },
      series: [{ type: "heatmap", data: data.data, label: { show: data.data.length <= 120 } }],
    };
  }

  function pie(data) {
    return {
      color: PALETTE,
      title: title(data),
      tooltip: { trigger: "item" },
      series: [{ type: "pie", radius: ["35%", "65%"], top: 24, data: data.data }],
    };
  }

  function sankey(data) {
    var labels = {};
    data.nodes.forEach(function (n) { labels[n.name] = n.label; });
    return {
      title: title(data),
      tooltip: { trigger: "item" },
      series: [{
        type: "sankey", top: 40, bottom: 8, left: 8, right: 120, nodeGap: 8,
        emphasis: { focus: "adjacency" },
        data: data.nodes.map(function (n) { return { name: n.name }; }),
        links: data.links,
        label: { formatter: function (p) { return labels[p.name] || p.name; } },
        lineStyle: { color: "gradient", curveness: 0.5 },
      }],
    };
  }

  var BUILDERS = { bar: bar, pyramid: pyramid, heatmap: heatmap, pie: pie, sankey: sankey };

  function draw(element) {
    var source = document.getElementById(element.dataset.source);
    if (!source || typeof echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var build = BUILDERS[data.type];
    if (!build) { return; }
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(build(data));
    element.dataset.rendered = "true";
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function autosubmit() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  function start() {
    document.querySelectorAll("[data-chart]").forEach(draw);
    autosubmit();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
