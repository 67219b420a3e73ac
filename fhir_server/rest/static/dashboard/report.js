/* Reading the indicator MeasureReports (R4 measurereport.html) into plain tables for the
   dashboard: per group (one measure of the indicator) its population counts and score, and per
   stratifier its strata. A count or score suppressed by the server (a data-absent-reason
   extension, e.g. "masked" for a cell under 5) reads as null and is shown as such. */
(function () {
  "use strict";
  var ABSENT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason";

  function codeOf(concept) {
    if (!concept) return "";
    if (Array.isArray(concept)) concept = concept[0];
    var coding = (concept && concept.coding) || [];
    for (var i = 0; i < coding.length; i++) {
      if (coding[i].code) return String(coding[i].code);
    }
    return concept && concept.text ? String(concept.text) : "";
  }

  function displayOf(concept) {
    var coding = (concept && concept.coding) || [];
    for (var i = 0; i < coding.length; i++) {
      if (coding[i].display) return String(coding[i].display);
    }
    return concept && concept.text ? String(concept.text) : codeOf(concept);
  }

  function absent(element) {
    var extensions = (element && element.extension) || [];
    for (var i = 0; i < extensions.length; i++) {
      if (extensions[i].url === ABSENT) return extensions[i].valueCode || "unknown";
    }
    return null;
  }

  function populations(list) {
    var out = {};
    (list || []).forEach(function (population) {
      var value = typeof population.count === "number" ? population.count : null;
      out[codeOf(population.code)] = value;
    });
    return out;
  }

  function score(holder) {
    var measureScore = holder && holder.measureScore;
    if (!measureScore || typeof measureScore.value !== "number") return null;
    return measureScore.value;
  }

  function stratum(item) {
    return {
      code: codeOf(item.value), display: displayOf(item.value),
      populations: populations(item.population), score: score(item),
      masked: Boolean(absent(item.measureScore) || absent(item._measureScore))
    };
  }

  /* {measure code: {populations, score, strata: {dimension: [stratum...]}}} */
  function read(report) {
    if (!report || report.resourceType !== "MeasureReport") {
      throw new Error("not a MeasureReport");
    }
    var groups = {};
    (report.group || []).forEach(function (group) {
      var strata = {};
      (group.stratifier || []).forEach(function (stratifier) {
        strata[codeOf(stratifier.code)] = (stratifier.stratum || []).map(stratum);
      });
      groups[codeOf(group.code)] = {
        populations: populations(group.population), score: score(group), strata: strata
      };
    });
    return groups;
  }

  /* The strata of one dimension across the groups: [{code, display, values: {group: stratum}}] */
  function rows(groups, dimension) {
    var order = [], byCode = {};
    Object.keys(groups).forEach(function (name) {
      (groups[name].strata[dimension] || []).forEach(function (item) {
        if (!byCode[item.code]) {
          byCode[item.code] = {code: item.code, display: item.display, values: {}};
          order.push(item.code);
        }
        byCode[item.code].values[name] = item;
      });
    });
    return order.map(function (code) { return byCode[code]; });
  }

  /* The message of an OperationOutcome (diagnostics, details, expression), else null. */
  function outcomeText(body) {
    if (!body || body.resourceType !== "OperationOutcome") return null;
    return (body.issue || []).map(function (issue) {
      var text = issue.diagnostics || (issue.details && issue.details.text) || issue.code || "";
      var where = (issue.expression || issue.location || []).join(", ");
      return where && text.indexOf(where) < 0 ? text + " (" + where + ")" : text;
    }).filter(Boolean).join("; ") || null;
  }

  window.Report = {read: read, rows: rows, outcomeText: outcomeText, codeOf: codeOf};
})();
