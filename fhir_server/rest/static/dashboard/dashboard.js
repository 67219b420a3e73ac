/* The campaign dashboard: analyst sign-in (POST /auth/login; tokens in this tab's
   sessionStorage, refreshed once on a 401), filters, and three indicator calls
   (MeasureReport/$doses-administered by day, $vaccination-coverage by province,
   $adverse-event-rates by vaccine) drawn as a time series, a table, bars and a map, and a
   table. A failed call shows the server's OperationOutcome text, never a blank page. */
(function () {
  "use strict";
  var TEXTS = JSON.parse(document.getElementById("texts").textContent);
  var OPTIONS = JSON.parse(document.getElementById("options").textContent);
  var BODY = document.body, BASE = BODY.getAttribute("data-base") || "";
  var STORE = "fhir-dashboard-session";
  var FILTERS = ["period-start", "period-end", "area", "group", "vaccine"];
  var lang = BODY.getAttribute("data-lang") || "vi";
  var session = null, geojson = null, last = {}, errors = [];

  function t(key) { return (TEXTS[lang] || TEXTS.vi)[key] || key; }
  function $(id) { return document.getElementById(id); }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function number(v) { return new Intl.NumberFormat(lang === "vi" ? "vi-VN" : "en-GB").format(v); }
  function percent(v) {
    var digits = v > 0 && v < 0.01 ? 3 : 1;  // small shares keep their first digits
    return new Intl.NumberFormat(lang === "vi" ? "vi-VN" : "en-GB",
                                 {maximumFractionDigits: digits}).format(v * 100) + " %";
  }
  function rate(v) { return number(Math.round(v * 10) / 10); }
  function shown(v, format) { return v === null || v === undefined ? t("masked") : (format || number)(v); }
  function day(value) {
    var p = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value || "");
    return p && lang === "vi" ? p[3] + "/" + p[2] + "/" + p[1] : value;
  }
  function month(value) { return lang === "vi" ? value.slice(5, 7) + "/" + value.slice(0, 4) : value.slice(0, 7); }
  function label(kind, code) {
    var found = (OPTIONS[kind] || []).filter(function (o) { return o.code === code; })[0];
    return found ? found[lang] || found.vi : code || "—";
  }

  function status(state, message) {
    var box = $("status");
    BODY.setAttribute("data-state", state);
    box.setAttribute("data-state", state);
    box.className = state;
    var lines = (Array.isArray(message) ? message : [message]).filter(Boolean);
    box.hidden = !lines.length;
    box.replaceChildren();
    lines.forEach(function (line) { box.appendChild(el("p", null, line)); });
  }

  function relabel() {
    document.documentElement.lang = lang;
    BODY.setAttribute("data-lang", lang);
    document.querySelectorAll("[data-t]").forEach(function (node) {
      node.textContent = t(node.getAttribute("data-t"));
    });
    ["area", "group", "vaccine"].forEach(fillSelect);
    draw();
    if (errors.length) status("error", errors.map(function (e) { return e(); }));
  }

  function fillSelect(kind) {
    var select = $(kind), value = select.value;
    select.replaceChildren(el("option", null, t("all")));
    select.firstChild.value = "";
    OPTIONS[kind].forEach(function (o) {
      var option = el("option", null, (kind === "group" ? o.code + ". " : "") + (o[lang] || o.vi));
      option.value = o.code;
      select.appendChild(option);
    });
    select.value = value;
  }

  /* ---- session ---- */
  function saveSession(answer, phone) {
    session = {access: answer.access_token, refresh: answer.refresh_token, phone: phone};
    sessionStorage.setItem(STORE, JSON.stringify(session));
  }
  function showBoard(on) {
    $("login").hidden = on; $("board").hidden = !on;
    $("logout").hidden = !on; $("who").hidden = !on;
    $("who-phone").textContent = on && session ? session.phone : "";
  }
  function post(url, body, token) {
    var headers = {"Content-Type": "application/json", "Accept": "application/json"};
    if (token) headers.Authorization = "Bearer " + token;
    return fetch(url, {method: "POST", headers: headers, body: JSON.stringify(body || {})});
  }
  function problem(response) {
    return response.json().catch(function () { return null; }).then(function (body) {
      var text = window.Report.outcomeText(body) ||
        (body && (body.error_description || body.error || body.message)) ||
        response.status + " " + response.statusText;
      return text;
    });
  }
  function login(event) {
    event.preventDefault();
    var phone = $("phone").value.trim(), box = $("login-error");
    box.hidden = true;
    $("login-button").disabled = true;
    post(BODY.getAttribute("data-login"), {username: phone, password: $("password").value})
      .then(function (response) {
        if (!response.ok) return problem(response).then(function (text) { throw new Error(text); });
        return response.json().then(function (answer) {
          saveSession(answer, phone);
          $("password").value = "";
          showBoard(true);
          load();
        });
      })
      .catch(function (error) {
        box.textContent = t("login_failed") + " " + (error.message || t("error_network"));
        box.hidden = false;
      })
      .then(function () { $("login-button").disabled = false; });
  }
  function logout() {
    var token = session && session.access;
    session = null;
    sessionStorage.removeItem(STORE);
    showBoard(false);
    if (token) post(BASE + "/auth/logout", {}, token).catch(function () { return null; });
  }
  function refresh() {
    return post(BASE + "/auth/token", {grant_type: "refresh_token", refresh_token: session.refresh})
      .then(function (response) {
        if (!response.ok) throw new Error("refresh");
        return response.json().then(function (answer) { saveSession(answer, session.phone); });
      });
  }

  /* ---- calls ---- */
  function query(stratify) {
    var params = new URLSearchParams();
    FILTERS.forEach(function (name) { if ($(name).value) params.set(name, $(name).value); });
    params.set("stratify-by", stratify);
    return params.toString();
  }
  function call(operation, stratify, retried) {
    var url = BASE + "/MeasureReport/$" + operation + "?" + query(stratify);
    return fetch(url, {headers: {"Accept": "application/fhir+json",
                                 "Authorization": "Bearer " + session.access}})
      .then(function (response) {
        if (response.status === 401 && !retried && session.refresh) {
          return refresh().then(function () { return call(operation, stratify, true); },
            function () { logout(); throw new Error(t("error_session")); });
        }
        if (!response.ok) return problem(response).then(function (text) { throw new Error(text); });
        return response.json().then(window.Report.read);
      }, function () { throw new Error(t("error_network")); });
  }
  function mapData() {
    if (geojson) return Promise.resolve(geojson);
    return fetch(BODY.getAttribute("data-map")).then(function (r) {
      if (!r.ok) throw new Error(t("error_map"));
      return r.json().then(function (value) { geojson = value; return value; });
    });
  }

  var CALLS = [
    {name: "doses", title: "doses_title", run: function () { return call("doses-administered", "day"); }},
    {name: "coverage", title: "coverage_title", run: function () {
      return Promise.all([call("vaccination-coverage", "province"), mapData()])
        .then(function (both) { return both[0]; });
    }},
    {name: "adverse", title: "ae_title", run: function () { return call("adverse-event-rates", "vaccine"); }}
  ];

  function load(event) {
    if (event) event.preventDefault();
    if (!session) return;
    status("loading", t("loading"));
    errors = [];
    var filters = {start: $("period-start").value, end: $("period-end").value, area: $("area").value};
    Promise.all(CALLS.map(function (c) {
      return c.run().then(function (groups) { last[c.name] = {groups: groups, filters: filters}; },
        function (error) {
          delete last[c.name];
          errors.push(function () { return t(c.title) + ": " + t("error_call") + " " + error.message; });
        });
    })).then(function () {
      draw();
      status(errors.length ? "error" : "ready", errors.map(function (e) { return e(); }));
    });
  }

  /* ---- drawing ---- */
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
    var strata = (data.groups.doses || {strata: {}}).strata.day || [], values = {};
    strata.forEach(function (s) { values[s.code] = count(s); });
    var start = data.filters.start || (strata[0] && strata[0].code), end = data.filters.end ||
      (strata.length && strata[strata.length - 1].code);
    var points = start && end ? window.Charts.daily(values, start, end) : [];
    window.Charts.line($("doses-chart"), points, {label: t("doses_title"), format: number,
      formatDay: day, formatMonth: month, maskedText: t("masked")});
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
    window.VnMap.draw($("coverage-map"), geojson, {
      label: t(withScore ? "map_title" : "map_people"), values: values,
      limits: window.VnMap.limits(values, withScore), format: withScore ? percent : number,
      name: function (f) { return label("area", f.properties.code); }, selected: data.filters.area || null,
      noData: t("no_data"), maskedText: t("masked")});
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

  function draw() {
    var drawers = {doses: drawDoses, coverage: drawCoverage, adverse: drawAdverse};
    var holders = {doses: ["doses-chart"], coverage: ["coverage-map", "coverage-bars", "coverage-table"],
                   adverse: ["ae-table"]};
    Object.keys(drawers).forEach(function (name) {
      if (last[name]) drawers[name](last[name]);
      else holders[name].forEach(function (id) { $(id).replaceChildren(); });
      if (!last[name] && name === "doses") $("doses-total").textContent = "";
    });
  }

  /* ---- start ---- */
  function start() {
    ["area", "group", "vaccine"].forEach(fillSelect);
    var today = new Date(), params = new URLSearchParams(location.search);
    $("period-end").value = today.toISOString().slice(0, 10);
    $("period-start").value = new Date(today.getTime() - 364 * 86400000).toISOString().slice(0, 10);
    FILTERS.forEach(function (name) {
      if (!params.has(name)) return;
      var field = $(name), value = params.get(name);
      if (field.tagName === "SELECT" && !field.querySelector('option[value="' + CSS.escape(value) + '"]')) {
        var option = el("option", null, value);  // an unknown code from the URL: the server says why
        option.value = value;
        field.appendChild(option);
      }
      field.value = value;
    });
    $("login-form").addEventListener("submit", login);
    $("filters").addEventListener("submit", load);
    $("logout").addEventListener("click", logout);
    $("measure").addEventListener("change", draw);
    $("lang").addEventListener("click", function () { lang = t("switch_lang"); relabel(); });
    try { session = JSON.parse(sessionStorage.getItem(STORE) || "null"); } catch (e) { session = null; }
    showBoard(Boolean(session));
    if (session) load(); else BODY.setAttribute("data-state", "login");
  }

  try { start(); } catch (error) { status("error", t("error_call") + " " + error.message); }
})();
