/* The health-card verifier page: reads a shc:/ code (pasted, from a QR image, or from the
   camera; QR decoding by jsQR in the browser), posts it to the server's $verify-health-card
   (signature, trust, revocation are checked there) and shows the verdict. No network but that
   one POST; a card that is not valid shows its reasons and no personal data. */
(function () {
  "use strict";
  var TEXTS = JSON.parse(document.getElementById("texts").textContent);
  var API = document.body.getAttribute("data-api");
  var lang = document.body.getAttribute("data-lang") || "vi";
  var decodeQr = window.jsQR && (window.jsQR.default || window.jsQR);
  var SHC_LINE = /^shc:\/(\d+\/\d+\/)?\d+$/;
  var MAX_SIDE = 1600; // larger images are scaled down before decoding
  var VACCINES = { // CVX codes of the COVID-19 vaccines used in Viet Nam
    "207": "Moderna (Spikevax)", "208": "Pfizer-BioNTech (Comirnaty)",
    "210": "AstraZeneca (Vaxzevria)", "211": "Novavax", "212": "Janssen",
    "213": "COVID-19", "217": "Pfizer-BioNTech (Comirnaty)",
    "218": "Pfizer-BioNTech (Comirnaty)", "219": "Pfizer-BioNTech (Comirnaty)",
    "221": "Moderna (Spikevax)", "510": "Sinopharm (BIBP)", "511": "Sinovac (CoronaVac)"
  };
  var render = null; // the last result, drawn again when the language changes
  var scanning = null; // {stream, timer} while the camera is on

  function t(key) { return (TEXTS[lang] || TEXTS.vi)[key] || key; }
  function $(id) { return document.getElementById(id); }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function relabel() {
    document.documentElement.lang = lang;
    document.body.setAttribute("data-lang", lang);
    var labelled = document.querySelectorAll("[data-t]");
    for (var i = 0; i < labelled.length; i++) {
      labelled[i].textContent = t(labelled[i].getAttribute("data-t"));
    }
    $("scan").textContent = t(scanning ? "stop" : "scan");
    if (render) render();
  }

  function show(draw) {
    render = draw;
    var box = $("result");
    box.hidden = false;
    box.replaceChildren();
    draw();
  }

  function showError(key, detail) {
    show(function () {
      var box = $("result");
      box.replaceChildren();
      box.className = "error";
      box.setAttribute("data-verdict", "error");
      box.appendChild(el("p", "message", t(key) + (detail ? " " + detail : "")));
    });
  }

  function showBusy() {
    show(function () {
      var box = $("result");
      box.replaceChildren();
      box.className = "busy";
      box.setAttribute("data-verdict", "checking");
      box.appendChild(el("p", "message", t("checking")));
    });
  }

  function formatDate(value) {
    var parts = /^(\d{4})-(\d{2})-(\d{2})/.exec(value || "");
    if (!parts) return value || "";
    return lang === "vi" ? parts[3] + "/" + parts[2] + "/" + parts[1] : parts[0];
  }

  function field(list, label, value, className) {
    list.appendChild(el("dt", null, label));
    list.appendChild(el("dd", className, value));
  }

  function parse(parameters) {
    var out = { verdict: "invalid", reasons: [], warnings: [], doses: [], subject: null };
    (parameters.parameter || []).forEach(function (p) {
      var parts = {};
      (p.part || []).forEach(function (part) { parts[part.name] = part; });
      if (p.name === "verdict") out.verdict = p.valueCode;
      else if (p.name === "reason") out.reasons.push(p.valueString);
      else if (p.name === "warning") out.warnings.push(p.valueString);
      else if (p.name === "issuer") out.issuer = p.valueUri;
      else if (p.name === "issuerName") out.issuerName = p.valueString;
      else if (p.name === "subject") out.subject = {
        name: parts.name && parts.name.valueString,
        birthDate: parts.birthDate && parts.birthDate.valueDate };
      else if (p.name === "dose") out.doses.push({
        code: parts.vaccineCode && parts.vaccineCode.valueCoding.code,
        date: parts.occurrence && parts.occurrence.valueString,
        lot: parts.lotNumber && parts.lotNumber.valueString,
        performer: parts.performer && parts.performer.valueString });
    });
    return out;
  }

  function doseTable(doses) {
    var table = el("table", "doses");
    var head = el("tr");
    ["#", "vaccine", "date", "lot", "performer"].forEach(function (key) {
      head.appendChild(el("th", null, key === "#" ? "#" : t(key)));
    });
    table.appendChild(head);
    doses.forEach(function (dose, i) {
      var row = el("tr");
      [String(i + 1), VACCINES[dose.code] || dose.code || "?", formatDate(dose.date),
       dose.lot || "", dose.performer || ""].forEach(function (cell) {
        row.appendChild(el("td", null, cell));
      });
      table.appendChild(row);
    });
    return table;
  }

  function list(title, items, className) {
    var wrap = el("div", className);
    wrap.appendChild(el("h3", null, title));
    var ul = el("ul");
    items.forEach(function (item) { ul.appendChild(el("li", null, item)); });
    wrap.appendChild(ul);
    return wrap;
  }

  function showVerdict(result) {
    var valid = result.verdict === "valid";
    show(function () {
      var box = $("result");
      box.replaceChildren();
      box.className = valid ? "valid" : "invalid";
      box.setAttribute("data-verdict", result.verdict);
      box.appendChild(el("h2", "verdict", (valid ? "\u2714 " : "\u2718 ") + t(result.verdict)));
      box.appendChild(el("p", "note", t(valid ? "valid_note" : "invalid_note")));
      if (valid) {
        var facts = el("dl");
        if (result.subject) {
          field(facts, t("name"), result.subject.name || "", "name");
          field(facts, t("birth_date"), formatDate(result.subject.birthDate), "birth-date");
        }
        var issuer = result.issuerName ? result.issuerName + " \u2014 " + result.issuer
                                       : result.issuer;
        field(facts, t("issuer"), issuer || "", "issuer");
        box.appendChild(facts);
        box.appendChild(el("h3", null, t("doses") + " (" + result.doses.length + ")"));
        box.appendChild(doseTable(result.doses));
      } else if (result.reasons.length) {
        box.appendChild(list(t("reasons"), result.reasons, "reasons"));
      }
      if (result.warnings.length) box.appendChild(list(t("warnings"), result.warnings, "warnings"));
    });
  }

  function problem(body) {
    var issues = (body && body.issue) || [];
    return issues.map(function (i) { return i.diagnostics || i.code; }).join("; ");
  }

  function verifyText(raw) {
    var text = (raw || "").trim();
    if (!text) return showError("error_empty");
    var lines = text.split(/\s+/);
    for (var i = 0; i < lines.length; i++) {
      if (!SHC_LINE.test(lines[i])) return showError("error_format");
    }
    showBusy();
    var body = { resourceType: "Parameters", parameter: [{ name: "data", valueString: text }] };
    fetch(API, {
      method: "POST", credentials: "omit", body: JSON.stringify(body),
      headers: { "Content-Type": "application/fhir+json", "Accept": "application/fhir+json" }
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (json) {
        if (response.ok && json && json.resourceType === "Parameters") showVerdict(parse(json));
        else showError("error_server", problem(json) || "HTTP " + response.status);
      });
    }, function () { showError("error_network"); });
  }

  function decodeFrom(source, width, height) {
    var scale = Math.min(1, MAX_SIDE / Math.max(width, height));
    var canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    var context = canvas.getContext("2d", { willReadFrequently: true });
    context.fillStyle = "#fff"; // transparent PNGs: a white background, as printed
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(source, 0, 0, canvas.width, canvas.height);
    var pixels = context.getImageData(0, 0, canvas.width, canvas.height);
    var code = decodeQr(pixels.data, pixels.width, pixels.height);
    return code ? code.data : null;
  }

  function useDecoded(text) {
    if (text === null) return showError("error_no_qr");
    if (text.slice(0, 5).toLowerCase() !== "shc:/") return showError("error_not_shc");
    $("shc").value = text;
    verifyText(text);
  }

  function readImage(file) {
    if (!file) return;
    var url = URL.createObjectURL(file);
    var image = new Image();
    image.onload = function () {
      URL.revokeObjectURL(url);
      useDecoded(decodeFrom(image, image.naturalWidth, image.naturalHeight));
    };
    image.onerror = function () { URL.revokeObjectURL(url); showError("error_image"); };
    image.src = url;
  }

  function stopScan() {
    if (!scanning) return;
    clearInterval(scanning.timer);
    scanning.stream.getTracks().forEach(function (track) { track.stop(); });
    scanning = null;
    $("camera").hidden = true;
    $("scan").textContent = t("scan");
  }

  function startScan() {
    var media = navigator.mediaDevices;
    if (!media || !media.getUserMedia) return showError("error_camera", "getUserMedia");
    media.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (stream) {
        var video = $("camera");
        video.srcObject = stream;
        video.hidden = false;
        video.play();
        scanning = { stream: stream, timer: setInterval(function () {
          if (!video.videoWidth) return;
          var text = decodeFrom(video, video.videoWidth, video.videoHeight);
          if (text && text.slice(0, 5).toLowerCase() === "shc:/") {
            stopScan();
            useDecoded(text);
          }
        }, 250) };
        $("scan").textContent = t("stop");
      }, function (error) { showError("error_camera", error && error.name); });
  }

  $("check").addEventListener("click", function () { verifyText($("shc").value); });
  $("image").addEventListener("change", function (event) { readImage(event.target.files[0]); });
  $("scan").addEventListener("click", function () { if (scanning) stopScan(); else startScan(); });
  $("lang").addEventListener("click", function () {
    lang = t("switch_lang");
    relabel();
  });
  if (!decodeQr) $("image").disabled = true;
})();
