/* Charts of the research page and the dashboard (#14): Chart.js (vendored, chart.umd.js) draws every
   <canvas data-fs-chart='{"type": "bar", "labels": [...], "datasets": [{"label": ..., "data": [...]}]}'>.
   The same numbers always stand in a table next to the chart (screen readers do not read canvas). */
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }
  var palette = ["#2c6e9b", "#e08a1e", "#3b9b5c", "#b8434a", "#7a5ea8", "#8c6d3f", "#d16fae", "#6f7a86",
                 "#a5a83a", "#2aa2b0"];
  var german = new Intl.NumberFormat("de-DE", {maximumFractionDigits: 2});
  document.querySelectorAll("canvas[data-fs-chart]").forEach(function (canvas) {
    var spec;
    try { spec = JSON.parse(canvas.getAttribute("data-fs-chart")); } catch (e) { return; }
    var pie = spec.type === "pie";
    spec.datasets.forEach(function (set, i) {
      var colour = pie ? spec.labels.map(function (_, j) { return palette[j % palette.length]; }) : palette[i % palette.length];
      set.backgroundColor = colour;
      set.borderColor = pie ? "#fff" : palette[i % palette.length];
      set.fill = false;
    });
    new Chart(canvas, {
      type: spec.type,
      data: {labels: spec.labels, datasets: spec.datasets},
      options: {
        locale: "de-DE", animation: false, responsive: true, maintainAspectRatio: false,
        plugins: {
          legend: {display: pie || spec.datasets.length > 1, position: "bottom"},
          tooltip: {callbacks: {label: function (ctx) {
            var v = pie ? ctx.parsed : (ctx.parsed.y !== undefined ? ctx.parsed.y : ctx.parsed);
            return (ctx.dataset.label ? ctx.dataset.label + ": " : "") + german.format(v);
          }}}
        },
        scales: pie ? {} : {y: {beginAtZero: true, ticks: {callback: function (v) { return german.format(v); }}},
                             x: {ticks: {autoSkip: true, maxRotation: 45}}}
      }
    });
  });
}());
