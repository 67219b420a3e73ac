/* The three panels of the dashboard drawn from read MeasureReports (report.js): doses per day
   (charts.js line), coverage by province (table, bars, map.js), adverse-event rates (table).
   `ui` brings the page's words and number formats, so a language switch redraws the same data. */
(function () {
  "use strict";

  /* Hoàng Sa (Paracel) and Trường Sa (Spratly): their latitudes, drawn at the map's sea edge. */
  var ISLANDS = [{id: "hoang_sa", lon: 109.0, lat: 16.5}, {id: "truong_sa", lon: 108.6, lat: 10.2}];

  function create(ui) {
    var t = ui.t, el = ui.el, $ = ui.$, number = ui.number, percent = ui.percent, rate = ui.rate;
    var shown = ui.shown, day = ui.day, month = ui.month, label = ui.label;

    function count(stratum, group) {
      var values = stratum && stratum.values ? stratum.values[group] : stratum;
      if (!values) return undefined;
      var p = values.populations;
      return "numerator" in p ? p.numerator : p["initial-population"];
    }
    function cell(row, text, className) { row.appendChild(el("td", className, text)); }
    function table(node, heads, rows) {
      node.replaceChildren();
      var head = el("tr");
      heads.forEach(function (h) { head.appendChild(el("th", null, t(h))); });
      node.appendChild(head);
      rows.forEach(function (r) { node.appendChild(r); });
      if (!rows.length) {
        var row = el("tr"), td = el("td", "empty", t("empty"));
        td.colSpan = heads.length;
        row.appendChild(td);
        node.appendChild(row);
      }
    }

    function drawDoses(data) {
      var step = data.filters.step, values = {};
      var strata = (data.groups.doses || {strata: {}}).strata[step] || [];
      strata.forEach(function (s) { values[s.code] = count(s); });
      var start = data.filters.start || (strata[0] && strata[0].code), end = data.filters.end ||
        (strata.length && strata[strata.length - 1].code);
      var points = start && end ? window.Charts.series(values, start, end, step) : [];
      window.Charts.line($("doses-chart"), points, {label: t("doses_title"), format: number,
        formatMonth: month, maskedText: t("masked"), formatPoint: function (p) {
          return step === "day" ? day(p.day) : step === "month" ? month(p.day) : p.key;
        }});
      var total = data.groups.doses && count(data.groups.doses);
      $("doses-total").textContent = shown(total);
    }

    function drawCoverage(data) {
      var measure = $("measure").value, rows = window.Report.rows(data.groups, "province");
      var withScore = rows.some(function (r) { return r.values[measure] && r.values[measure].score !== null; });
      var values = {}, bars = [];
      rows.forEach(function (r) {
        var item = r.values[measure], value = item ? (withScore ? item.score : count(r, measure)) : undefined;
        values[r.code] = value === undefined ? null : value;
        bars.push({code: r.code, label: label("area", r.code), value: values[r.code],
                   text: shown(values[r.code], withScore ? percent : number)});
      });
      bars.sort(function (a, b) { return (b.value || 0) - (a.value || 0); });
      window.Charts.bars($("coverage-bars"), bars, {label: t("coverage_title") + " – " + t(measure)});
      window.VnMap.draw($("coverage-map"), ui.geojson(), {
        label: t(withScore ? "map_title" : "map_people"), values: values,
        limits: window.VnMap.limits(values, withScore), format: withScore ? percent : number,
        name: function (f) { return label("area", f.properties.code); }, selected: data.filters.area || null,
        noData: t("no_data"), maskedText: t("masked"), islands: ISLANDS.map(function (i) {
          return {id: i.id, lon: i.lon, lat: i.lat, name: t(i.id)};
        })});
      var heads = ["province", "population", "people_1plus", "coverage", "people_primary", "coverage",
                   "people_booster", "coverage"];
      table($("coverage-table"), heads, rows.map(function (r) {
        var row = el("tr");
        row.setAttribute("data-code", r.code);
        cell(row, label("area", r.code));
        var first = r.values.people_1plus || r.values.people_primary || r.values.people_booster;
        cell(row, first ? shown(first.populations.denominator) : "—", "n");
        ["people_1plus", "people_primary", "people_booster"].forEach(function (m) {
          var item = r.values[m];
          cell(row, item ? shown(count(r, m)) : "—", "n");
          cell(row, item && item.score !== null ? percent(item.score) : item && item.masked ? t("masked") : "—", "n");
        });
        return row;
      }));
    }

    function drawAdverse(data) {
      var rows = window.Report.rows(data.groups, "vaccine");
      function line(name, values) {
        var row = el("tr"), events = values.events, serious = values.serious;
        cell(row, name);
        cell(row, events ? shown(events.populations.denominator) : "—", "n");
        cell(row, events ? shown(events.populations.numerator) : "—", "n");
        cell(row, serious ? shown(serious.populations.numerator) : "—", "n");
        cell(row, events ? shown(events.score, rate) : "—", "n");
        cell(row, serious ? shown(serious.score, rate) : "—", "n");
        return row;
      }
      var body = rows.map(function (r) {
        var row = line(label("vaccine", r.code), r.values);
        row.setAttribute("data-code", r.code);
        return row;
      });
      if (rows.length) {
        var total = line(t("total"), data.groups);
        total.className = "total";
        body.push(total);
      }
      table($("ae-table"), ["vaccine", "doses", "events", "serious", "rate", "serious_rate"], body);
    }


    return {doses: drawDoses, coverage: drawCoverage, adverse: drawAdverse};
  }

  window.Panels = {create: create};
})();
