/* Plain SVG charts for the dashboard: a time series by day, week or month (line + area) and
   horizontal bars.
   No library: each chart is a few elements built with the DOM, sized by viewBox. */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var DAY = 86400000;

  function node(tag, attrs, text) {
    var element = document.createElementNS(NS, tag);
    Object.keys(attrs || {}).forEach(function (name) { element.setAttribute(name, attrs[name]); });
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function svg(width, height, label) {
    return node("svg", {viewBox: "0 0 " + width + " " + height, role: "img",
                        "aria-label": label, preserveAspectRatio: "xMidYMid meet"});
  }

  /* Round tick values from 0 to at least max (about `count` of them). */
  function ticks(max, count) {
    if (!(max > 0)) return [0, 1];
    var raw = max / count, power = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 5, 10].map(function (m) { return m * power; })
      .filter(function (s) { return s >= raw; })[0];
    var out = [];
    for (var v = 0; v <= max + step * 0.999; v += step) out.push(Math.round(v * 1e6) / 1e6);
    return out;
  }

  function utc(day) { return Date.parse(day + "T00:00:00Z"); }
  function isoDay(ms) { return new Date(ms).toISOString().slice(0, 10); }

  function isoWeek(ms) {  // ISO 8601 week of a day: the year of its Thursday, weeks from Monday
    var thursday = ms - ((new Date(ms).getUTCDay() + 6) % 7) * DAY + 3 * DAY;
    var year = new Date(thursday).getUTCFullYear(), jan4 = Date.UTC(year, 0, 4);
    var week1 = jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * DAY;
    var week = 1 + Math.round((thursday - 3 * DAY - week1) / (7 * DAY));
    return year + "-W" + (week < 10 ? "0" : "") + week;
  }

  /* Every day, ISO week or month from start to end (the operation's stratum keys: 2021-08-15,
     2021-W33, 2021-08), each at the day it starts: its value (0 when absent, null when masked). */
  function series(values, start, end, step) {
    var out = [], first = utc(start), last = utc(end);
    if (!(first <= last)) return out;
    var at = new Date(first);
    if (step === "week") at = new Date(first - ((at.getUTCDay() + 6) % 7) * DAY);
    if (step === "month") at.setUTCDate(1);
    while (at.getTime() <= last) {
      var ms = at.getTime();
      var key = step === "week" ? isoWeek(ms) : step === "month" ? isoDay(ms).slice(0, 7) : isoDay(ms);
      out.push({day: isoDay(ms), key: key, value: key in values ? values[key] : 0});
      if (step === "month") at.setUTCMonth(at.getUTCMonth() + 1);
      else at = new Date(ms + (step === "week" ? 7 : 1) * DAY);
    }
    return out;
  }

  function monthTicks(first, last) {
    var out = [], date = new Date(first);
    date.setUTCDate(1);
    var stepMonths = Math.max(1, Math.ceil((last - first) / DAY / 30 / 10));
    while (date.getTime() <= last) {
      if (date.getTime() >= first) out.push(date.getTime());
      date.setUTCMonth(date.getUTCMonth() + stepMonths);
    }
    return out;
  }

  /* points: [{day, key, value|null}]; opts: {label, format(number), formatPoint(point),
     formatMonth(day), maskedText} */
  function line(container, points, opts) {
    var W = 860, H = 260, L = 60, R = 16, T = 14, B = 34;
    var chart = svg(W, H, opts.label);
    container.replaceChildren(chart);
    if (!points.length) return chart;
    var first = utc(points[0].day), last = utc(points[points.length - 1].day);
    var max = Math.max.apply(null, points.map(function (p) { return p.value || 0; }));
    var yTicks = ticks(max, 4), top = yTicks[yTicks.length - 1];
    function x(ms) { return L + (last > first ? (ms - first) / (last - first) : 0.5) * (W - L - R); }
    function y(v) { return T + (1 - v / top) * (H - T - B); }
    yTicks.forEach(function (v) {
      chart.appendChild(node("line", {x1: L, x2: W - R, y1: y(v), y2: y(v), "class": "grid"}));
      chart.appendChild(node("text", {x: L - 6, y: y(v) + 4, "class": "tick end"}, opts.format(v)));
    });
    monthTicks(first, last).forEach(function (ms) {
      chart.appendChild(node("line", {x1: x(ms), x2: x(ms), y1: H - B, y2: H - B + 4, "class": "axis"}));
      chart.appendChild(node("text", {x: x(ms), y: H - B + 18, "class": "tick middle"},
                             opts.formatMonth(isoDay(ms))));
    });
    var d = "", area = "", run = [];
    function flush() {  // close the filled area under the last unbroken run of days
      if (run.length) {
        area += "M" + run[0][0] + "," + y(0).toFixed(1) + "L" + run.map(function (at) {
          return at.join(",");
        }).join("L") + "L" + run[run.length - 1][0] + "," + y(0).toFixed(1) + "Z";
      }
      run = [];
    }
    points.forEach(function (p) {
      if (p.value === null) { flush(); return; }
      var at = [x(utc(p.day)).toFixed(1), y(p.value).toFixed(1)];
      d += (run.length ? "L" : "M") + at.join(",");
      run.push(at);
    });
    flush();
    chart.appendChild(node("path", {d: area, "class": "area"}));
    chart.appendChild(node("path", {d: d, "class": "series", "data-points": points.length}));
    chart.appendChild(node("line", {x1: L, x2: W - R, y1: H - B, y2: H - B, "class": "axis"}));
    points.forEach(function (p) {  // hover targets: one thin column per day
      var width = Math.max(1, (W - L - R) / points.length);
      var column = node("rect", {x: x(utc(p.day)) - width / 2, y: T, width: width,
                                 height: H - T - B, "class": "hover", "data-day": p.key});
      column.appendChild(node("title", {}, opts.formatPoint(p) + ": " +
                              (p.value === null ? opts.maskedText : opts.format(p.value))));
      chart.appendChild(column);
    });
    return chart;
  }

  /* rows: [{code, label, value|null, text}]; opts: {label, max} */
  function bars(container, rows, opts) {
    var W = 520, row = 18, L = 170, R = 70, T = 4;
    var H = T * 2 + row * Math.max(rows.length, 1);
    var chart = svg(W, H, opts.label);
    container.replaceChildren(chart);
    var max = opts.max || Math.max.apply(null, rows.map(function (r) { return r.value || 0; }));
    rows.forEach(function (r, i) {
      var top = T + i * row, width = max > 0 && r.value ? (r.value / max) * (W - L - R) : 0;
      chart.appendChild(node("text", {x: L - 6, y: top + 13, "class": "label end"}, r.label));
      var bar = node("rect", {x: L, y: top + 2, width: width.toFixed(1), height: row - 4,
                              "class": r.value === null ? "bar masked" : "bar",
                              "data-code": r.code, "data-value": r.value === null ? "" : r.value});
      bar.appendChild(node("title", {}, r.label + ": " + r.text));
      chart.appendChild(bar);
      chart.appendChild(node("text", {x: L + width + 4, y: top + 13, "class": "value"}, r.text));
    });
    return chart;
  }

  window.Charts = {line: line, bars: bars, series: series, node: node, svg: svg};
})();
