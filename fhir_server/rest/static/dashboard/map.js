/* A choropleth of Viet Nam's 34 provinces (2025) from the shipped GeoJSON
   (vn-provinces-2025.geojson, made by terminology/scripts/make_province_map.py): an
   equirectangular projection corrected for latitude, one SVG path per province filled by class
   of its value, a legend, and the province's name and value as its tooltip. */
(function () {
  "use strict";
  var W = 320, H = 600, PAD = 6;
  var COLOURS = ["#deebf7", "#9ecae1", "#6baed6", "#3182bd", "#08519c"];
  var MASKED = "#c3ccd6", EMPTY = "#eceff3";  // a suppressed cell (<5); no figure at all

  function bounds(features) {
    var box = [Infinity, Infinity, -Infinity, -Infinity];
    function visit(coords) {
      if (typeof coords[0] === "number") {
        box[0] = Math.min(box[0], coords[0]); box[1] = Math.min(box[1], coords[1]);
        box[2] = Math.max(box[2], coords[0]); box[3] = Math.max(box[3], coords[1]);
        return;
      }
      coords.forEach(visit);
    }
    features.forEach(function (f) { visit(f.geometry.coordinates); });
    return box;
  }

  function projection(box) {
    var k = Math.cos(((box[1] + box[3]) / 2) * Math.PI / 180);
    var scale = Math.min((W - 2 * PAD) / ((box[2] - box[0]) * k), (H - 2 * PAD) / (box[3] - box[1]));
    return function (point) {
      return [PAD + (point[0] - box[0]) * k * scale, PAD + (box[3] - point[1]) * scale];
    };
  }

  function pathOf(geometry, project) {
    var polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
    return polygons.map(function (rings) {
      return rings.map(function (ring) {
        return "M" + ring.map(function (p) {
          var xy = project(p);
          return xy[0].toFixed(1) + "," + xy[1].toFixed(1);
        }).join("L") + "Z";
      }).join("");
    }).join("");
  }

  /* The class (0..4) of a value against the class limits, or -1 without a value. */
  function classOf(value, limits) {
    if (value === null || value === undefined) return -1;
    for (var i = 0; i < limits.length; i++) if (value <= limits[i]) return i;
    return limits.length - 1;
  }

  /* An archipelago offshore as a schematic mark: a few dots and its name, at its latitude on
     the sea side of the map (the source has no island shapes; not to scale). */
  function drawIsland(chart, project, island) {
    var Charts = window.Charts, at = project([island.lon, island.lat]);
    var group = Charts.node("g", {"class": "island", "data-island": island.id});
    [[0, 0], [7, 4], [3, 9], [11, 10], [-4, 6]].forEach(function (d) {
      group.appendChild(Charts.node("circle", {cx: at[0] + d[0], cy: at[1] + d[1], r: 1.6}));
    });
    island.name.split("\n").forEach(function (line, i) {
      group.appendChild(Charts.node("text", {x: W - 2, y: at[1] + 22 + i * 12, "class": "tick end"},
                                    line));
    });
    chart.appendChild(group);
  }

  /* opts: {label, values: {code: number|null}, limits: [5 upper bounds], format(v),
            name(feature), selected: code|null, noData: text} */
  function draw(container, geojson, opts) {
    var Charts = window.Charts;
    var chart = Charts.svg(W, H, opts.label);
    container.replaceChildren(chart);
    var project = projection(bounds(geojson.features));
    geojson.features.forEach(function (feature) {
      var code = feature.properties.code;
      var value = code in opts.values ? opts.values[code] : undefined;
      var level = classOf(value, opts.limits), masked = value === null;
      var shape = Charts.node("path", {
        d: pathOf(feature.geometry, project), "data-code": code,
        "class": "province" + (masked ? " masked" : level < 0 ? " empty" : "") +
                 (opts.selected === code ? " selected" : ""),
        fill: masked ? MASKED : level < 0 ? EMPTY : COLOURS[level]
      });
      shape.appendChild(Charts.node("title", {}, opts.name(feature) + ": " +
        (value === undefined ? opts.noData : value === null ? opts.maskedText : opts.format(value))));
      chart.appendChild(shape);
    });
    (opts.islands || []).forEach(function (island) { drawIsland(chart, project, island); });
    var legend = Charts.node("g", {"class": "legend", transform: "translate(4,330)"});  // over Laos
    opts.limits.forEach(function (limit, i) {
      var from = i === 0 ? 0 : opts.limits[i - 1];
      legend.appendChild(Charts.node("rect", {x: 0, y: i * 18, width: 14, height: 14, fill: COLOURS[i]}));
      legend.appendChild(Charts.node("text", {x: 20, y: i * 18 + 11, "class": "tick"},
                                     opts.format(from) + " – " + opts.format(limit)));
    });
    [[MASKED, opts.maskedText], [EMPTY, opts.noData]].forEach(function (item, i) {
      legend.appendChild(Charts.node("rect", {x: 0, y: 90 + i * 18, width: 14, height: 14, fill: item[0]}));
      legend.appendChild(Charts.node("text", {x: 20, y: 101 + i * 18, "class": "tick"}, item[1]));
    });
    chart.appendChild(legend);
    return chart;
  }

  /* Five class limits: equal round steps just covering the largest value (whole numbers for
     counts). */
  function limits(values, proportion) {
    var max = Math.max.apply(null, [0].concat(Object.keys(values).map(function (k) {
      return values[k] || 0;
    })));
    if (!(max > 0)) max = proportion ? 1 : 5;
    var raw = max / 5, power = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = Math.ceil(raw / power * 2) / 2 * power;  // a multiple of half a power of ten
    if (!proportion) step = Math.max(1, Math.ceil(step));
    return [1, 2, 3, 4, 5].map(function (i) { return Math.round(i * step * 1e9) / 1e9; });
  }

  window.VnMap = {draw: draw, limits: limits};
})();
