/* The reports page: fetch the figures for the chosen range, draw each table's chart with
   Chart.js (vendored), and put the data table beside it (the accessible form of the chart,
   with a CSV download). Charts are kept on window.gincoreReports.charts by table name. */
(function () {
  "use strict";
  var t = window.gincoreTexts.t;
  var script = document.currentScript;
  var API = script.dataset.api;
  var charts = {};
  window.gincoreReports = { charts: charts };

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined && text !== null) n.textContent = String(text);
    return n;
  }
  function iso(d) { return d.toISOString().slice(0, 10); }
  // Numbers in the page's language ("1,5 min" in German).
  var oneDecimal = new Intl.NumberFormat(window.gincoreTexts.lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  function duration(s) {
    if (s === null || s === undefined) return "–";
    if (s < 60) return t("{value} s", { value: Math.round(s) });
    if (s < 3600) return t("{value} min", { value: oneDecimal.format(s / 60) });
    return t("{value} h", { value: oneDecimal.format(s / 3600) });
  }
  function query() {
    var p = new URLSearchParams({ from: $("gc-report-from").value, to: $("gc-report-to").value, tz: String(-new Date().getTimezoneOffset()) });
    return p.toString();
  }

  function summary(s) {
    var dl = $("gc-report-summary");
    dl.textContent = "";
    [
      [t("Conversations"), s.conversations],
      [t("Answered"), s.answered],
      [t("Missed"), s.missed],
      [t("First response, median"), duration(s.first_response_median)],
      [t("First response, 90th percentile"), duration(s.first_response_p90)],
      [t("Resolution, median"), duration(s.resolution_median)],
      [t("Resolution, 90th percentile"), duration(s.resolution_p90)],
      [t("Ratings"), s.ratings],
      [t("Average rating"), s.rating_average === null ? "–" : t("{average} / 5", { average: s.rating_average })]
    ].forEach(function (pair) {
      var box = el("div");
      box.appendChild(el("dt", null, pair[0]));
      box.appendChild(el("dd", null, pair[1]));
      dl.appendChild(box);
    });
  }

  function dataTable(tbl) {
    var table = el("table", "gc-report-table");
    table.id = "gc-table-" + tbl.name;
    table.appendChild(el("caption", "gc-sr", tbl.title));
    var head = el("tr");
    tbl.columns.forEach(function (c) { var th = el("th", null, c.label); th.scope = "col"; head.appendChild(th); });
    table.appendChild(el("thead")).appendChild(head);
    var body = el("tbody");
    tbl.rows.forEach(function (r) {
      var tr = el("tr");
      tbl.columns.forEach(function (c, i) {
        var cell = el(i ? "td" : "th", null, r[c.key] === null ? "" : r[c.key]);
        if (!i) cell.scope = "row";
        cell.dataset.key = c.key;
        tr.appendChild(cell);
      });
      body.appendChild(tr);
    });
    table.appendChild(body);
    return table;
  }

  var COLORS = ["#1f4fc4", "#a8201a", "#2e7d32", "#8a5a00", "#6a1b9a"];
  function bars(labels, sets, stacked) {
    return {
      type: "bar",
      data: {
        labels: labels,
        datasets: sets.map(function (s, i) { return { label: s[0], data: s[1], backgroundColor: COLORS[i % COLORS.length] }; })
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { x: { stacked: !!stacked }, y: { beginAtZero: true, stacked: !!stacked } } }
    };
  }
  function column(tbl, key) { return tbl.rows.map(function (r) { return r[key]; }); }

  function chartConfig(tbl) {
    if (tbl.name === "daily") return bars(column(tbl, "day"), [[t("Answered"), column(tbl, "answered")], [t("Missed"), column(tbl, "missed")], [t("Conversations"), column(tbl, "conversations")]]);
    if (tbl.name === "ratings") return bars(column(tbl, "score").map(function (s) { return s + " ★"; }), [[t("Ratings"), column(tbl, "count")]]);
    if (tbl.name === "hours") return heatMap(tbl);
    // Response times by source / manager / label: medians and 90th percentiles, in minutes.
    var minutes = function (key) { return column(tbl, key).map(function (v) { return v === null ? null : Math.round(v / 6) / 10; }); };
    return bars(column(tbl, "name"), [
      [t("First response, median (min)"), minutes("first_response_median")],
      [t("First response, 90th pct (min)"), minutes("first_response_p90")],
      [t("Resolution, median (min)"), minutes("resolution_median")],
      [t("Resolution, 90th pct (min)"), minutes("resolution_p90")]
    ]);
  }
  function heatMap(tbl) {
    var cells = [], max = 1;
    tbl.rows.forEach(function (r) {
      for (var h = 0; h < 24; h++) {
        var v = r["h" + (h < 10 ? "0" : "") + h];
        if (v > max) max = v;
        cells.push({ x: h, y: r.weekday, v: v });
      }
    });
    return {
      type: "matrix",
      data: {
        datasets: [{
          label: t("Conversations started"),
          data: cells,
          backgroundColor: function (c) { var v = c.raw ? c.raw.v : 0; return "rgba(31, 79, 196, " + (0.06 + 0.94 * v / max).toFixed(3) + ")"; },
          width: function (c) { var a = c.chart.chartArea; return a ? a.width / 24 - 2 : 10; },
          height: function (c) { var a = c.chart.chartArea; return a ? a.height / 7 - 2 : 10; }
        }]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: false }, tooltip: { callbacks: { label: function (c) { return t("{day} {hour}:00 · {count}", { day: c.raw.y, hour: c.raw.x, count: c.raw.v }); } } } },
        scales: {
          x: { type: "linear", min: -0.5, max: 23.5, offset: false, ticks: { stepSize: 1 }, grid: { display: false } },
          y: { type: "category", labels: column(tbl, "weekday"), offset: true, grid: { display: false } }
        }
      }
    };
  }

  function render(data) {
    summary(data.summary);
    var box = $("gc-report-tables");
    Object.keys(charts).forEach(function (k) { charts[k].destroy(); delete charts[k]; });
    box.textContent = "";
    data.tables.forEach(function (tbl) {
      var sec = el("section", "gc-report");
      sec.id = "gc-report-" + tbl.name;
      var h = el("h2", "gc-h2", tbl.title);
      h.id = "gc-report-h-" + tbl.name;
      sec.setAttribute("aria-labelledby", h.id);
      sec.appendChild(h);
      var csv = el("a", "gc-button gc-ghost", t("Download CSV"));
      csv.href = API + "/" + tbl.name + ".csv?" + query();
      csv.setAttribute("download", "");
      csv.setAttribute("aria-label", t("Download {title} as CSV", { title: tbl.title }));
      sec.appendChild(csv);
      var row = el("div", "gc-report-row");
      var frame = el("div", "gc-report-chart");
      var canvas = el("canvas");
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", t("{title} (chart; the table beside it has the figures)", { title: tbl.title }));
      frame.appendChild(canvas);
      row.appendChild(frame);
      var wrap = el("div", "gc-report-data");
      wrap.tabIndex = 0;
      wrap.setAttribute("aria-label", t("{title} (table)", { title: tbl.title }));
      wrap.appendChild(dataTable(tbl));
      row.appendChild(wrap);
      sec.appendChild(row);
      box.appendChild(sec);
      charts[tbl.name] = new window.Chart(canvas, chartConfig(tbl));
    });
  }

  function load() {
    var status = $("gc-report-status");
    status.textContent = t("Loading…");
    return fetch(API + "?" + query(), { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body.error || t("HTTP {status}", { status: r.status }));
        return body;
      });
    }).then(function (body) {
      render(body);
      status.textContent = t("Figures from {from} to {to}.", { from: body.from, to: body.to });
      document.body.dataset.reportLoaded = body.from + ".." + body.to;
    }, function (e) { status.textContent = t("The report could not be loaded: {error}", { error: e.message }); });
  }

  var params = new URLSearchParams(location.search);
  var today = new Date(), start = new Date(today.getTime() - 29 * 864e5);
  $("gc-report-from").value = params.get("from") || iso(start);
  $("gc-report-to").value = params.get("to") || iso(today);
  $("gc-report-range").addEventListener("submit", function (e) {
    e.preventDefault();
    history.replaceState(null, "", "?from=" + $("gc-report-from").value + "&to=" + $("gc-report-to").value);
    load();
  });
  load();
})();
