/* Charts of the welfare pages: each [data-welfare-chart] element names the JSON data block
 * (json_script) it draws; no inline script, so the content security policy holds.
 * kind "bar": categories and series; kind "flow": nodes and links (money between areas). */
(function () {
  "use strict";
  var PALETTE = ["#1f6feb", "#d9480f", "#2f9e44", "#ae3ec9", "#f08c00", "#0c8599"];

  function bar(data) {
    return {
      color: PALETTE,
      title: { text: data.title, left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 24, top: 40, bottom: 8, containLabel: true },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: data.categories, inverse: true },
      series: data.series.map(function (s) { return { name: s.name, type: "bar", data: s.data }; }),
    };
  }

  function flow(data) {
    return {
      color: PALETTE,
      title: { text: data.title, left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "item" },
      series: [{
        type: "graph", layout: "circular", roam: true, top: 40,
        label: { show: true }, edgeSymbol: ["none", "arrow"], edgeSymbolSize: 10,
        data: data.nodes.map(function (n) { return { name: n.name, symbolSize: 28 }; }),
        links: data.links.map(function (l) {
          return { source: l.source, target: l.target, value: l.value,
                   label: { show: true, formatter: "¥" + l.value },
                   lineStyle: { width: 2, curveness: 0.2 } };
        }),
      }],
    };
  }

  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-welfare-chart"));
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var empty = data.kind === "flow" ? !data.links.length : !data.categories.length;
    if (empty) { element.hidden = true; return; }
    element.style.height = data.kind === "flow" ? "360px" : Math.max(200, 32 * data.categories.length + 60) + "px";
    var chart = window.echarts.init(element);
    chart.setOption(data.kind === "flow" ? flow(data) : bar(data));
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-welfare-chart]").forEach(draw);
  });
})();
