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
  function percent(v) {  // shares under 1 % keep two significant digits
    var options = v > 0 && v < 0.01 ? {maximumSignificantDigits: 2} : {maximumFractionDigits: 1};
    return new Intl.NumberFormat(lang === "vi" ? "vi-VN" : "en-GB", options).format(v * 100) + " %";
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
    fillSelects();
    draw();
    if (errors.length) status("error", errors.map(function (e) { return e(); }));
  }

  function fillSelect(kind, value) {
    var select = $(kind);
    if (value === undefined) value = select.value;
    select.replaceChildren(el("option", null, t("all")));
    select.firstChild.value = "";
    OPTIONS[kind].forEach(function (o) {
      var option = el("option", null, (kind === "group" ? o.code + ". " : "") + (o[lang] || o.vi));
      option.value = o.code;
      select.appendChild(option);
    });
    if (value && !OPTIONS[kind].some(function (o) { return o.code === value; })) {
      var unknown = el("option", null, value);  // a code from the URL: the server says why
      unknown.value = value;
      select.appendChild(unknown);
    }
    select.value = value || "";
  }
  function fillSelects() { ["area", "group", "vaccine"].forEach(function (k) { fillSelect(k); }); }

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
  /* One refresh at a time: a refresh token is single-use (a reused one revokes the session),
     so the calls that got a 401 together share one trade. */
  var refreshing = null;
  function refresh() {
    if (refreshing) return refreshing;
    var phone = session.phone;
    refreshing = post(BASE + "/auth/token", {grant_type: "refresh_token", refresh_token: session.refresh})
      .then(function (response) {
        if (!response.ok) throw new Error("refresh");
        return response.json().then(function (answer) { saveSession(answer, phone); });
      });
    refreshing.then(function () { refreshing = null; }, function () { refreshing = null; });
    return refreshing;
  }

  /* ---- calls ---- */
  function query(stratify) {
    var params = new URLSearchParams();
    FILTERS.forEach(function (name) { if ($(name).value) params.set(name, $(name).value); });
    params.set("stratify-by", stratify);
    return params.toString();
  }
  function call(operation, stratify, retried) {
    var url = BASE + "/MeasureReport/$" + operation + "?" + query(stratify), used = session.access;
    return fetch(url, {headers: {"Accept": "application/fhir+json", "Authorization": "Bearer " + used}})
      .then(function (response) {
        if (response.status === 401 && !retried && session && session.refresh) {
          var renewed = session.access !== used ? Promise.resolve() : refresh();  // done already?
          return renewed.then(function () { return call(operation, stratify, true); },
            function () {
              logout();
              $("login-error").textContent = t("error_session");
              $("login-error").hidden = false;
              throw new Error(t("error_session"));
            });
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
    {name: "doses", title: "doses_title", operation: "doses-administered",
     stratify: function () { return $("step").value; }},
    {name: "coverage", title: "coverage_title", operation: "vaccination-coverage",
     stratify: function () { return "province"; }, also: mapData},
    {name: "adverse", title: "ae_title", operation: "adverse-event-rates",
     stratify: function () { return "vaccine"; }}
  ];
  CALLS.forEach(function (c) {
    c.run = function () {
      return Promise.all([call(c.operation, c.stratify()), c.also ? c.also() : null])
        .then(function (both) { return both[0]; });
    };
  });

  /* The panel's figures as the operation's CSV (same filters), saved by the browser. */
  function download(c) {
    var url = BASE + "/MeasureReport/$" + c.operation + "?" + query(c.stratify());
    fetch(url, {headers: {"Accept": "text/csv", "Authorization": "Bearer " + session.access}})
      .then(function (response) {
        if (!response.ok) return problem(response).then(function (text) { throw new Error(text); });
        return response.blob();
      }, function () { throw new Error(t("error_network")); })
      .then(function (blob) {
        var link = el("a");
        link.href = URL.createObjectURL(blob);
        link.download = c.operation + ".csv";
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
      })
      .catch(function (error) { status("error", t(c.title) + ": " + t("error_call") + " " + error.message); });
  }

  function load(event) {
    if (event) event.preventDefault();
    if (!session) return;
    status("loading", t("loading"));
    errors = [];
    var filters = {start: $("period-start").value, end: $("period-end").value, area: $("area").value,
                   step: $("step").value};
    var failed = [];  // in the panels' order, whichever answers first
    Promise.all(CALLS.map(function (c, index) {
      return c.run().then(function (groups) { last[c.name] = {groups: groups, filters: filters}; },
        function (error) {
          delete last[c.name];
          failed[index] = function () { return t(c.title) + ": " + t("error_call") + " " + error.message; };
        });
    })).then(function () {
      errors = failed.filter(Boolean);
      draw();
      status(errors.length ? "error" : "ready", errors.map(function (e) { return e(); }));
    });
  }

  var drawers = null;
  function draw() {
    drawers = drawers || window.Panels.create({t: t, el: el, $: $, number: number, percent: percent,
      rate: rate, shown: shown, day: day, month: month, label: label, geojson: function () { return geojson; }});
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
    fillSelects();
    var today = new Date(), params = new URLSearchParams(location.search);
    $("period-end").value = today.toISOString().slice(0, 10);
    $("period-start").value = new Date(today.getTime() - 364 * 86400000).toISOString().slice(0, 10);
    FILTERS.forEach(function (name) {
      if (!params.has(name)) return;
      if ($(name).tagName === "SELECT") fillSelect(name, params.get(name));
      else $(name).value = params.get(name);
    });
    $("login-form").addEventListener("submit", login);
    $("filters").addEventListener("submit", load);
    $("logout").addEventListener("click", logout);
    $("measure").addEventListener("change", draw);
    $("step").addEventListener("change", load);
    CALLS.forEach(function (c) {
      $(c.name).querySelector("button.csv").addEventListener("click", function () { download(c); });
    });
    $("lang").addEventListener("click", function () { lang = t("switch_lang"); relabel(); });
    try { session = JSON.parse(sessionStorage.getItem(STORE) || "null"); } catch (e) { session = null; }
    showBoard(Boolean(session));
    if (session) load(); else BODY.setAttribute("data-state", "login");
  }

  try { start(); } catch (error) { status("error", t("error_call") + " " + error.message); }
})();
