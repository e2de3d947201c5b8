/* Incidents, pushed: the wall's ticker and centre counts follow incident.changed; lists that Dash
 * draws (the county page's 待处置, /incidents) reload through their hidden button. City command
 * acknowledges an incident on the wall with a click (the server checks the rules again). */
(function () {
  "use strict";
  var incidents = {};  // id -> summary, not closed
  var RELOAD_MS = 800;
  var reloadTimer = null, reloadCentres = {}, reloadAll = false;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // An incident's time in the site's zone (the header clock's data-zone), not the browser's.
  function siteTime(iso) {
    var options = { hourCycle: "h23" }, clock = document.getElementById("wall-clock");  // not hour12: false (24:05 at midnight)
    var zone = clock && clock.getAttribute("data-zone");
    if (zone) options.timeZone = zone;
    return new Date(iso).toLocaleTimeString(document.documentElement.lang || "zh-CN", options);
  }

  function json(node, name) {
    try { return JSON.parse(node.getAttribute(name) || "{}"); } catch (e) { return {}; }
  }

  function order(a, b) {
    if (a.overdue !== b.overdue) return a.overdue ? -1 : 1;
    return String(b.opened_at).localeCompare(String(a.opened_at));
  }

  function renderTicker() {
    var ticker = document.getElementById("incident-ticker");
    if (!ticker) return;
    var names = json(ticker, "data-names"), labels = json(ticker, "data-labels");
    var canAck = ticker.getAttribute("data-can-ack") === "1";
    var list = Object.keys(incidents).map(function (id) { return incidents[id]; }).sort(order);
    ticker.replaceChildren();
    if (!list.length) { ticker.appendChild(el("span", "ticker-empty", ticker.getAttribute("data-empty"))); return; }
    list.forEach(function (incident) {
      var cls = "ticker-item incident-item";
      if (incident.state !== "open") cls += " acknowledged";
      if (incident.overdue) cls += " overdue";
      var item = el("span", cls);
      item.setAttribute("data-incident", String(incident.id));
      item.setAttribute("data-state", incident.state);
      item.setAttribute("data-kind", incident.kind);
      item.setAttribute("data-recovered", incident.recovered ? "1" : "0");
      if (incident.camera_id) item.setAttribute("data-camera", incident.camera_id);
      var what = incident.camera_id ? ((names.cameras || {})[incident.camera_id] || incident.camera_id)
        : ((names.centres || {})[incident.county] || incident.county) + " " + (incident.subject || "");
      var since = incident.opened_at ? siteTime(incident.opened_at) : "";
      var text = what + " · " + ((labels.kinds || {})[incident.kind] || incident.kind) + " · " + since;
      if (incident.count > 1) text += " ×" + incident.count;
      if (incident.recovered) text += " · " + labels.recovered;
      if (incident.overdue) text += " · " + labels.overdue;
      item.textContent = text;
      if (canAck && incident.state === "open") {
        item.classList.add("can-ack");
        item.title = ticker.getAttribute("data-ack-hint") || "";
        item.addEventListener("click", function () { acknowledge(incident); });
      }
      ticker.appendChild(item);
    });
  }

  function renderCounts() {
    var perCentre = {};
    Object.keys(incidents).forEach(function (id) {
      var incident = incidents[id], centre = incident.centre || incident.county;
      var counts = perCentre[centre] || (perCentre[centre] = { open: 0, overdue: 0 });
      counts.open++;
      if (incident.overdue) counts.overdue++;
    });
    var ticker = document.getElementById("incident-ticker");
    var labels = ticker ? json(ticker, "data-labels") : {};
    document.querySelectorAll("[data-incidents-centre]").forEach(function (node) {
      var counts = perCentre[node.getAttribute("data-incidents-centre")] || { open: 0, overdue: 0 };
      var text = counts.open + " " + (labels.open || "");
      if (counts.overdue) text += " · " + counts.overdue + " " + (labels.overdue_count || "");
      // only real changes: the page's observer (below) sees every text change and calls this again
      if (node.textContent !== text) node.textContent = text;
      if (node.classList.contains("has-overdue") !== counts.overdue > 0) node.classList.toggle("has-overdue", counts.overdue > 0);
    });
  }

  function render() { renderTicker(); renderCounts(); }

  function reloadLists(incident) {
    if (incident) reloadCentres[incident.centre] = reloadCentres[incident.county] = true;
    else reloadAll = true;
    if (reloadTimer) return;
    reloadTimer = setTimeout(function () {
      var centres = reloadCentres, all = reloadAll;
      reloadTimer = null; reloadCentres = {}; reloadAll = false;
      document.querySelectorAll('[data-push-refresh~="incidents"]').forEach(function (button) {
        var centre = button.getAttribute("data-centre");
        if (all || !centre || centres[centre]) button.click();
      });
    }, RELOAD_MS);
  }

  var versions = {};  // id -> newest version seen: a push that arrives after a newer one is dropped
  function onChanged(incident) {
    if (versions[incident.id] > incident.version) return;
    versions[incident.id] = incident.version;
    if (incident.state === "closed") delete incidents[incident.id];
    else incidents[incident.id] = incident;
    render();
    reloadLists(incident);
  }

  var socket = null;
  function acknowledge(incident) {
    if (!socket) return;
    socket.emit("incident.act", { id: incident.id, action: "acknowledge", version: incident.version }, function (answer) {
      var status = document.getElementById("incident-ticker-status");
      if (answer && answer.ok) { onChanged(answer.incident); if (status) status.textContent = ""; }
      else if (status) status.textContent = (answer && answer.error) || "?";
    });
  }

  function load() {
    socket.emit("incidents.open", {}, function (answer) {
      if (!answer || !answer.ok) return;
      incidents = {};
      answer.incidents.forEach(function (incident) { incidents[incident.id] = incident; });
      render();
    });
  }

  function bind(found) {
    socket = found;
    socket.on("incident.changed", onChanged);
    socket.on("connect", function () { load(); reloadLists(null); });
    if (socket.connected) load();
  }

  function start() {
    if (window.watchwallSocket) bind(window.watchwallSocket);
    else document.addEventListener("watchwall:socket", function (event) { bind(event.detail); }, { once: true });
    // Dash draws the wall after the socket connects: draw into the ticker once it appears
    new MutationObserver(function () {
      var ticker = document.getElementById("incident-ticker");
      if (ticker && !ticker.hasAttribute("data-drawn")) { ticker.setAttribute("data-drawn", "1"); render(); }
      else if (document.querySelector("[data-incidents-centre]")) renderCounts();
    }).observe(document.body, { childList: true, subtree: true });
  }
  window.WatchWallIncidents = { state: function () { return incidents; } };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
