/* The what-if page: switch sites on and off, recompute the audit's figures (no routing).
 * Data: every community's reachable sites ordered by travel time (ties in site order), the
 * minutes as the audit rounds them (times 100), and how many lead entries lie within the
 * community's circle. The nearest open site is the first open one in the row. Names from the
 * data are only ever set as textContent. */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("wi-data").textContent);
  var L_ = D.labels;
  var nCom = D.com.id.length, nSite = D.sites.id.length, nDist = D.districts.length;
  var rowPtr, within, centi, site;
  var isOpen = new Uint8Array(nSite);
  var nearest = new Int32Array(nCom), covered = new Uint8Array(nCom);
  var status = new Uint8Array(nCom); // 0 covered, 1 not covered, 2 unreachable
  var comMarkers = [], siteMarkers = [], theMap = null;
  var api = { lastMs: NaN, ready: null };
  window.whatif = api;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  // numpy's rint (round half to even) and numpy.round(x, d) = rint(x * 10^d) / 10^d
  function rint(x) {
    var r = Math.round(x);
    if (r - x === 0.5 && r % 2 !== 0) { r -= 1; }
    return r;
  }
  function round(x, d) { var f = Math.pow(10, d); return rint(x * f) / f; }
  function share(num, den) { return den > 0 ? num / den : NaN; }

  function decode(b64) {
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).arrayBuffer();
  }

  function unpack(buf) {
    var nnz = D.nnz, off = 0;
    rowPtr = new Uint32Array(buf, off, nCom + 1); off += 4 * (nCom + 1);
    within = new Uint32Array(buf, off, nCom); off += 4 * nCom;
    centi = new Uint32Array(buf, off, nnz); off += 4 * nnz;
    site = D.site_bytes === 2 ? new Uint16Array(buf, off, nnz) : new Uint32Array(buf, off, nnz);
    for (var i = 0; i < nCom; i++) { // minutes were stored as differences along each row
      for (var e = rowPtr[i] + 1; e < rowPtr[i + 1]; e++) { centi[e] += centi[e - 1]; }
    }
  }

  function assign() {
    for (var i = 0; i < nCom; i++) {
      var lo = rowPtr[i], hi = rowPtr[i + 1], e = lo;
      while (e < hi && !isOpen[site[e]]) { e++; }
      if (e < hi) {
        nearest[i] = e;
        covered[i] = e - lo < within[i] ? 1 : 0;
        status[i] = covered[i] ? 0 : 1;
      } else {
        nearest[i] = -1; covered[i] = 0; status[i] = 2;
      }
    }
  }

  function median(v) { // v sorted; the audit's median of a group
    var n = v.length;
    if (!n) { return NaN; }
    return (v[Math.floor((n - 1) / 2)] + v[Math.floor(n / 2)]) / 2;
  }

  function districtTable() {
    var names = ["communities", "covered", "not_covered", "unreachable", "population",
      "population_covered", "urban_communities", "urban_covered", "urban_population",
      "urban_population_covered", "rural_communities", "rural_covered", "rural_population",
      "rural_population_covered"];
    var sums = [], mins = [], d, q, i;
    for (d = 0; d <= nDist; d++) { sums.push(new Float64Array(names.length)); mins.push([]); }
    var kind = D.com.k, pop = D.com.pop, code = D.com.d;
    for (i = 0; i < nCom; i++) {
      var c = covered[i], p = pop[i], u = kind[i] === 0 ? 1 : 0, r = kind[i] === 1 ? 1 : 0;
      var w = [1, c, status[i] === 1 ? 1 : 0, status[i] === 2 ? 1 : 0, p, p * c,
        u, u & c, p * u, p * (u & c), r, r & c, p * r, p * (r & c)];
      for (q = 0; q < w.length; q++) { sums[code[i]][q] += w[q]; sums[nDist][q] += w[q]; }
      if (nearest[i] >= 0) {
        var m = centi[nearest[i]] / 100;
        mins[code[i]].push(m); mins[nDist].push(m);
      }
    }
    var rows = [];
    for (d = 0; d <= nDist; d++) {
      var s = {}, row = { district: d < nDist ? D.districts[d] : D.total_key };
      names.forEach(function (n, k) { s[n] = sums[d][k]; });
      ["communities", "covered", "not_covered", "unreachable"].forEach(function (n) {
        row[n] = s[n];
      });
      row.covered_share = share(s.covered, s.communities);
      row.population = s.population;
      row.population_covered = s.population_covered;
      row.population_covered_share = share(s.population_covered, s.population);
      ["urban", "rural"].forEach(function (k) {
        row[k + "_communities"] = s[k + "_communities"];
        row[k + "_covered"] = s[k + "_covered"];
        row[k + "_covered_share"] = share(s[k + "_covered"], s[k + "_communities"]);
        row[k + "_population"] = s[k + "_population"];
        row[k + "_population_covered"] = s[k + "_population_covered"];
        row[k + "_population_covered_share"] = share(
          s[k + "_population_covered"], s[k + "_population"]);
      });
      var v = mins[d].sort(function (a, b) { return a - b; });
      row.median_travel_time_min = round(median(v), 2);
      row.max_travel_time_min = v.length ? round(v[v.length - 1], 2) : NaN;
      rows.push(row);
    }
    return rows;
  }

  function hallTable() {
    var served = new Float64Array(nSite), cov = new Float64Array(nSite);
    var pop = new Float64Array(nSite), hh = new Float64Array(nSite), i;
    for (i = 0; i < nCom; i++) {
      if (nearest[i] < 0) { continue; }
      var s = site[nearest[i]];
      served[s] += 1; cov[s] += covered[i]; pop[s] += D.com.pop[i]; hh[s] += D.com.hh[i];
    }
    var rows = [];
    for (var j = 0; j < nSite; j++) {
      if (!isOpen[j]) { continue; }
      var need = hh[j] / 100.0 * D.floor_std, area = D.sites.area[j];
      var known = area !== null;
      rows.push({
        site: j, hall_id: D.sites.id[j], communities_served: served[j],
        communities_covered: cov[j], population_served: pop[j], households_served: hh[j],
        floor_area_m2: known ? area : NaN, required_floor_area_m2: round(need, 1),
        floor_area_adequate: known ? area >= need : null,
        floor_area_gap_m2: known ? round(Math.max(need - area, 0), 1) : NaN
      });
    }
    return rows;
  }

  // ---- display ----
  var fmtInt = new Intl.NumberFormat(D.lang === "zh" ? "zh-CN" : "en-GB");
  function show(col, v) {
    if (v === null || (typeof v === "number" && isNaN(v))) { return "–"; }
    if (typeof v === "boolean") { return v ? L_.yes : L_.no; }
    if (typeof v !== "number") { return String(v); }
    if (/_share$/.test(col)) { return (v * 100).toFixed(1) + "%"; }
    if (/_min$/.test(col)) { return v.toFixed(2); }
    if (/_m2$/.test(col)) { return v.toFixed(1); }
    return fmtInt.format(v);
  }
  function cell(tr, col, v, tag) {
    var td = el(tag || "td", null, show(col, v));
    // the exact figure, for checks: String() of a double is its shortest round trip
    td.setAttribute("data-col", col);
    td.setAttribute("data-v", v === null ? "null" : String(v));
    tr.appendChild(td);
  }
  function fill(table, cols, rows, label) {
    var tb = table.tBodies[0];
    while (tb.firstChild) { tb.removeChild(tb.firstChild); }
    rows.forEach(function (row) {
      var tr = el("tr");
      cols.forEach(function (c) { cell(tr, c, label ? label(c, row) : row[c]); });
      tb.appendChild(tr);
    });
  }
  function header(table, cols) {
    var tr = el("tr");
    cols.forEach(function (c) { tr.appendChild(el("th", null, D.headers[c] || c)); });
    table.tHead.appendChild(tr);
  }

  var distTable, hallTableEl, summary, timing;
  var hallCols = ["hall_id", "name", "communities_served", "communities_covered",
    "population_served", "households_served", "floor_area_m2", "required_floor_area_m2",
    "floor_area_adequate", "floor_area_gap_m2"];

  function styleSite(j) {
    var m = siteMarkers[j];
    if (!m) { return; }
    var on = isOpen[j], ex = D.sites.existing[j];
    var color = ex ? D.colors.hall : D.colors.candidate;
    if (on) {
      m.setStyle({ color: "#fff", fillColor: color, fillOpacity: 0.95, weight: 1.5,
        dashArray: null, opacity: 1 });
      m.setRadius(ex ? 7 : 6);
    } else { // switched off: a dashed ring that leaves the communities visible
      m.setStyle({ color: ex ? color : "#a0522d", fillColor: "#fff", fillOpacity: 0.05,
        weight: 1.2, dashArray: "2 3", opacity: ex ? 0.9 : 0.55 });
      m.setRadius(ex ? 6 : 4);
    }
  }
  var shownStatus = new Int8Array(nCom).fill(-1);
  function styleCommunities() {
    var colors = [D.colors.covered, D.colors.not_covered, D.colors.unreachable];
    for (var i = 0; i < nCom; i++) {
      if (shownStatus[i] !== status[i]) {
        shownStatus[i] = status[i];
        comMarkers[i].setStyle({ color: colors[status[i]], fillColor: colors[status[i]] });
      }
    }
  }

  function update() {
    var t0 = performance.now();
    assign();
    var dist = districtTable(), halls = hallTable();
    api.districts = dist; api.halls = halls;
    fill(distTable, D.district_cols, dist, function (c, row) {
      return c === "district" && row.district === D.total_key ? D.total_label : row[c];
    });
    fill(hallTableEl, hallCols, halls, function (c, row) {
      return c === "name" ? D.sites.name[row.site] : row[c];
    });
    styleCommunities();
    var tot = dist[dist.length - 1], nOpen = halls.length, nNew = 0, nClosed = 0;
    for (var j = 0; j < nSite; j++) {
      if (D.sites.existing[j] && !isOpen[j]) { nClosed++; }
      if (!D.sites.existing[j] && isOpen[j]) { nNew++; }
    }
    summary.textContent = L_.summary.replace("{open}", nOpen).replace("{closed}", nClosed)
      .replace("{added}", nNew).replace("{covered}", fmtInt.format(tot.covered))
      .replace("{communities}", fmtInt.format(tot.communities))
      .replace("{share}", show("covered_share", tot.covered_share))
      .replace("{pshare}", show("population_covered_share", tot.population_covered_share));
    api.lastMs = performance.now() - t0;
    timing.textContent = L_.timing.replace("{ms}", api.lastMs.toFixed(1));
    return api.lastMs;
  }

  function inspect(i) {
    var words = [L_.status_covered, L_.status_not_covered, L_.status_unreachable];
    var text = D.com.name[i] + " (" + D.com.id[i] + ") · " + words[status[i]];
    if (nearest[i] >= 0) {
      var s = site[nearest[i]];
      text += " · " + L_.nearest + " " + D.sites.name[s] + " (" + D.sites.id[s] + "), " +
        show("travel_time_min", centi[nearest[i]] / 100) + " " + L_.minutes;
    }
    document.getElementById("wi-info").textContent = text;
    return text;
  }

  function toggle(j) {
    isOpen[j] = isOpen[j] ? 0 : 1;
    styleSite(j);
    return update();
  }

  // ---- the scenario TOML (the shared contract: name, description, coord_system, halls) ----
  function tomlValue(v) {
    if (typeof v === "number") { return String(v); }
    var s = String(v).replace(/[\\"\u0000-\u001f\u007f]/g, function (c) {
      var map = { "\\": "\\\\", "\"": "\\\"", "\n": "\\n", "\t": "\\t", "\r": "\\r" };
      if (map[c]) { return map[c]; }
      return "\\u" + ("0000" + c.charCodeAt(0).toString(16).toUpperCase()).slice(-4);
    });
    return "\"" + s + "\"";
  }
  function toml() {
    var closed = [], lines = [];
    lines.push("name = " + tomlValue(L_.toml_name));
    lines.push("description = " + tomlValue(L_.toml_description));
    lines.push("coord_system = \"wgs84\"", "", "[halls]");
    for (var j = 0; j < nSite; j++) {
      if (D.sites.existing[j] && !isOpen[j]) { closed.push(tomlValue(D.sites.id[j])); }
    }
    lines.push("close = [" + closed.join(", ") + "]");
    for (j = 0; j < nSite; j++) {
      if (D.sites.existing[j] || !isOpen[j]) { continue; }
      lines.push("", "[[halls.add]]", "hall_id = " + tomlValue(D.sites.id[j]));
      lines.push("name = " + tomlValue(D.sites.name[j]));
      lines.push("lon = " + D.sites.lon84[j], "lat = " + D.sites.lat84[j]);
      if (D.sites.area[j] !== null) { lines.push("floor_area_m2 = " + D.sites.area[j]); }
    }
    return lines.join("\n") + "\n";
  }
  function copy(box, note) {
    var text = toml();
    box.value = text;
    box.style.display = "block";
    function fallback() {
      box.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (err) { ok = false; }
      note.textContent = ok ? L_.copied : L_.copy_failed;
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { note.textContent = L_.copied; },
        fallback);
    } else { fallback(); }
    return text;
  }

  // ---- the map ----
  function buildMap() {
    var map = theMap = L.map("wi-map", { preferCanvas: true, zoomControl: true });
    var renderer = L.canvas({ padding: 0.2 });
    if (D.tiles) {
      var note = false, layer = L.tileLayer(D.tiles.url, {
        attribution: D.tiles.attribution, maxZoom: D.tiles.max_zoom,
        subdomains: D.tiles.subdomains || "abc"
      });
      layer.on("tileerror", function () {
        if (note) { return; }
        note = true;
        document.getElementById("wi-tile-note").style.display = "block";
      });
      layer.addTo(map);
    }
    map.attributionControl.addAttribution(D.attribution);
    var bounds = [];
    for (var i = 0; i < nCom; i++) {
      var ll = [D.com.lat[i], D.com.lon[i]];
      bounds.push(ll);
      var m = L.circleMarker(ll, {
        renderer: renderer, radius: 4, weight: 1, fillOpacity: 0.75, interactive: true
      });
      m.bindTooltip(el("span", null, D.com.name[i] + " (" + D.com.id[i] + ")"));
      m.on("click", (function (k) { return function () { inspect(k); }; })(i));
      m.addTo(map);
      comMarkers.push(m);
    }
    var sitePane = map.createPane("wi-sites");
    sitePane.style.zIndex = 450;
    for (var j = 0; j < nSite; j++) {
      if (D.sites.lat[j] === null) { siteMarkers.push(null); continue; }
      var s = L.circleMarker([D.sites.lat[j], D.sites.lon[j]], {
        pane: "wi-sites", radius: D.sites.existing[j] ? 7 : 6, bubblingMouseEvents: false
      });
      var tip = el("span", null, D.sites.name[j] + " (" + D.sites.id[j] + ") · " +
        (D.sites.existing[j] ? L_.existing : L_.candidate) +
        (D.sites.on[j] ? "" : " · " + L_.off_network));
      s.bindTooltip(tip);
      s.on("click", (function (k) { return function () { toggle(k); }; })(j));
      s.addTo(map);
      siteMarkers.push(s);
      bounds.push([D.sites.lat[j], D.sites.lon[j]]);
    }
    if (bounds.length) { map.fitBounds(bounds, { padding: [10, 10] }); }
    else { map.setView([30.27, 120.15], 12); }
  }

  function build() {
    distTable = document.getElementById("wi-districts");
    hallTableEl = document.getElementById("wi-halls");
    summary = document.getElementById("wi-summary");
    timing = document.getElementById("wi-timing");
    header(distTable, D.district_cols);
    header(hallTableEl, hallCols);
    var box = document.getElementById("wi-toml"), note = document.getElementById("wi-copied");
    document.getElementById("wi-copy").addEventListener("click", function () {
      copy(box, note);
    });
    document.getElementById("wi-reset").addEventListener("click", function () {
      for (var j = 0; j < nSite; j++) { isOpen[j] = D.sites.existing[j] ? 1 : 0; styleSite(j); }
      update();
    });
    buildMap();
    for (var j = 0; j < nSite; j++) { isOpen[j] = D.sites.existing[j] ? 1 : 0; styleSite(j); }
    update();
  }

  api.toggle = function (id) { return toggle(D.sites.id.indexOf(id)); };
  api.open = function () {
    var out = [];
    for (var j = 0; j < nSite; j++) { if (isOpen[j]) { out.push(D.sites.id[j]); } }
    return out;
  };
  api.setOpen = function (ids) {
    var want = {};
    ids.forEach(function (id) { want[JSON.stringify(id)] = true; });
    for (var j = 0; j < nSite; j++) {
      isOpen[j] = want[JSON.stringify(D.sites.id[j])] ? 1 : 0; styleSite(j);
    }
    return update();
  };
  api.toml = toml;
  api.focus = function (id, zoom) { // centre the map on a site
    var j = D.sites.id.indexOf(id);
    theMap.setView([D.sites.lat[j], D.sites.lon[j]], zoom || 15, { animate: false });
  };
  api.point = function (id) { // where a site is drawn, in page pixels (for real clicks)
    var j = D.sites.id.indexOf(id), box = theMap.getContainer().getBoundingClientRect();
    var pt = theMap.latLngToContainerPoint([D.sites.lat[j], D.sites.lon[j]]);
    return [box.left + pt.x, box.top + pt.y];
  };
  api.inspect = inspect;
  api.copy = function () { document.getElementById("wi-copy").click(); };
  api.ready = decode(D.bin).then(function (buf) {
    unpack(buf);
    build();
    document.body.setAttribute("data-ready", "1");
  }).catch(function (err) {
    document.getElementById("wi-summary").textContent = L_.broken + " " + err;
    throw err;
  });
})();
