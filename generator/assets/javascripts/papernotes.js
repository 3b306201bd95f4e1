/* papernotes: charts (plotly.js, loaded only on pages that draw one), sortable citation tables and their filter box.
   Everything re-initialises on Material's document$ so it survives instant navigation. */
(function () {
  "use strict";
  var plotlySrc = document.currentScript.src.replace(/papernotes\.js(\?.*)?$/, "plotly.min.js");
  var plotlyLoading = null;

  function loadPlotly() {
    if (window.Plotly) return Promise.resolve(window.Plotly);
    if (!plotlyLoading) {
      plotlyLoading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = plotlySrc;
        script.onload = function () { resolve(window.Plotly); };
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return plotlyLoading;
  }

  function themed(layout) {
    var style = getComputedStyle(document.body);
    var ink = style.getPropertyValue("--md-default-fg-color").trim() || "#333";
    var grid = style.getPropertyValue("--md-default-fg-color--lightest").trim() || "#ddd";
    return Object.assign({}, layout, {
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      font: Object.assign({}, layout.font || {}, { color: ink }),
      xaxis: Object.assign({}, layout.xaxis || {}, { gridcolor: grid }),
      yaxis: Object.assign({}, layout.yaxis || {}, { gridcolor: grid })
    });
  }

  function drawCharts() {
    var charts = document.querySelectorAll("[data-pn-chart]");
    if (!charts.length) return;
    loadPlotly().then(function (Plotly) {
      charts.forEach(function (el) {
        if (!el.dataset.pnFigure) return;
        var figure = JSON.parse(el.dataset.pnFigure);
        el.pnFigure = figure;
        Plotly.react(el, figure.data, themed(figure.layout), { responsive: true, displaylogo: false });
      });
    });
  }

  function sortTable(table, column, th) {
    var body = table.tBodies[0];
    var numeric = th.getAttribute("data-sort") === "number";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[column].getAttribute("data-value") || a.cells[column].textContent;
      var y = b.cells[column].getAttribute("data-value") || b.cells[column].textContent;
      var order;
      if (numeric) {
        var nx = x === "" ? -Infinity : Number(x), ny = y === "" ? -Infinity : Number(y);
        order = nx - ny;
      } else {
        order = x.localeCompare(y);
      }
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function initTables() {
    document.querySelectorAll("table[data-pn-sortable]").forEach(function (table) {
      if (table.pnSortable) return;
      table.pnSortable = true;
      table.querySelectorAll("th").forEach(function (th, column) {
        th.tabIndex = 0;
        th.addEventListener("click", function () { sortTable(table, column, th); });
        th.addEventListener("keydown", function (e) {
          if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortTable(table, column, th); }
        });
      });
    });
  }

  // A filter box above a long table: keeps the rows that contain every word typed (title, authors
  // with their full list, venue, year), and says how many it shows.
  function filterTable(table, input, count) {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var rows = Array.prototype.slice.call(table.tBodies[0].rows), shown = 0;
    rows.forEach(function (row) {
      var text = row.textContent.toLowerCase();
      var keep = words.every(function (w) { return text.indexOf(w) >= 0; });
      row.hidden = !keep;
      if (keep) shown += 1;
    });
    count.textContent = words.length ? shown + " of " + rows.length + " notes" : "";
  }

  function initFilters() {
    document.querySelectorAll("input[data-pn-filter]").forEach(function (input) {
      if (input.pnFilter) return;
      input.pnFilter = true;
      var table = document.getElementById(input.getAttribute("data-pn-filter"));
      var count = document.getElementById(input.getAttribute("aria-describedby"));
      if (!table || !count) return;
      input.addEventListener("input", function () { filterTable(table, input, count); });
    });
  }

  // Redraw charts in the new colours when the reader switches light/dark.
  new MutationObserver(function () {
    if (!window.Plotly) return;
    document.querySelectorAll("[data-pn-chart]").forEach(function (el) {
      if (el.pnFigure) window.Plotly.relayout(el, themed(el.pnFigure.layout));
    });
  }).observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });

  function init() { drawCharts(); initTables(); initFilters(); }
  if (window.document$) { window.document$.subscribe(init); } else { document.addEventListener("DOMContentLoaded", init); }
})();
