/* The wall's live tiles with their tour, camera states, alarms and the incident ticker.
 * Tiles are plain DOM that Dash never re-renders: the grid element carries the tour as JSON
 * (data-tour: pages of one centre each); states and alarms arrive over socket.io, incidents
 * through incidents.js (which draws the ticker; this file makes its items open their camera).
 *
 * A click (or Enter / Space) on a tile, a ticker item or a centre opens that camera or centre
 * through the URL's hash (#camera=ID, #centre=CODE: wall-view.js shows it, browser back closes
 * it); a double-click (or E) enlarges a tile in place. */
(function () {
  "use strict";
  var cameraState = {};   // camera id -> "online" | "stalled" | ...
  var activeAlarms = {};  // camera id + kind -> alarm payload
  var tour = null, tourText = null, page = 0, tourTimer = null, grid = null, renders = 0;
  var paused = false;     // the operator paused the tour
  var holds = {};         // reasons the tour waits for now (a camera open, a tile enlarged)
  var CHARTS_WAIT_MAX_MS = 3000;  // a tile that cannot play does not hold the charts back longer
  var DOUBLE_CLICK_MS = 250;      // a click waits this long for a second one (double-click enlarges)
  var TICKER_PAGE_MS = 4000;      // a ticker longer than its bar turns a page this often
  var SEVERITY_COLOURS = { high: "#ff3b3b", medium: "#ffb547", low: "#ffe066" };
  var SEVERITY_ORDER = { high: 3, medium: 2, low: 1 };

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function json(node, name) {
    try { return JSON.parse((node && node.getAttribute(name)) || "{}"); } catch (e) { return {}; }
  }

  function pageCount() { return tour ? tour.pages.length : 0; }
  function currentPage() { return pageCount() ? tour.pages[page % pageCount()] : null; }

  function renderTiles() {
    if (!grid || !tour) return;
    grid.classList.remove("has-enlarged");
    delete holds.enlarged;
    if (!pageCount()) { grid.replaceChildren(); showTourPosition(); return; }
    var shown = currentPage();
    grid.replaceChildren();
    grid.setAttribute("data-page", String(page % pageCount()));
    grid.setAttribute("data-centre", shown.centre);
    renders++;  // the tiles of one render share one live socket (live-player.js)
    var hint = (tour.labels || {}).open_hint || "";
    shown.cameras.forEach(function (camera) {
      var tile = el("div", "tile");
      tile.setAttribute("data-camera", camera.id);
      tile.setAttribute("data-state", cameraState[camera.id] || "connecting");
      tile.setAttribute("tabindex", "0");
      tile.setAttribute("role", "button");
      tile.setAttribute("aria-label", camera.aria + (hint ? " — " + hint : ""));
      var video = document.createElement("video");
      video.muted = true; video.autoplay = true; video.playsInline = true;
      video.setAttribute("data-live-camera", camera.id);
      video.setAttribute("data-live-group", "wall-" + renders);
      video.setAttribute("poster", "/snapshot/" + encodeURIComponent(camera.id) + ".jpg");
      video.setAttribute("aria-label", camera.aria);  // the video's accessible name: camera, room, centre
      // which of the camera's streams the tile shows, and why not the sub stream (live-player.js)
      video.setAttribute("data-stream-labels", JSON.stringify(tour.streams || {}));
      tile.appendChild(video);
      tile.appendChild(el("div", "tile-label", camera.label));
      tile.appendChild(el("div", "live-stream-label", ""));
      tile.appendChild(el("div", "tile-state", ""));
      tile.appendChild(el("div", "tile-alarm", ""));
      grid.appendChild(tile);
    });
    showTourPosition();
    updateTileStates();
    updateTileAlarms();
  }

  function showTourPosition() {
    var shown = currentPage();
    var centre = document.getElementById("tour-centre");
    if (centre) centre.textContent = shown ? shown.centre_label : "";
    var position = document.getElementById("tour-page");
    if (position) {
      var template = position.getAttribute("data-template") || "{page} / {pages}";
      position.textContent = pageCount() ? template.replace("{page}", String(page % pageCount() + 1)).replace("{pages}", String(pageCount())) : "";
    }
    var pause = document.getElementById("tour-pause");
    if (pause) {
      var label = pause.getAttribute(paused ? "data-resume" : "data-pause") || "";
      pause.textContent = paused ? "▶▶" : "❚❚";
      pause.setAttribute("aria-pressed", paused ? "true" : "false");
      pause.setAttribute("aria-label", label);
      pause.title = label;
    }
    var bar = document.getElementById("tour-bar");
    if (bar) bar.setAttribute("data-paused", paused ? "1" : "0");
    markCentreOnShow();
  }

  // the centre board marks the centre whose cameras are on screen (Dash redraws the board on push)
  function markCentreOnShow() {
    var shown = currentPage(), code = shown ? shown.centre : null;
    document.querySelectorAll(".centre-board .centre-row[data-centre]").forEach(function (row) {
      var on = row.getAttribute("data-centre") === code;
      if (row.classList.contains("on-tour") !== on) row.classList.toggle("on-tour", on);
      if (on && row.getAttribute("aria-current") !== "true") row.setAttribute("aria-current", "true");
      else if (!on && row.hasAttribute("aria-current")) row.removeAttribute("aria-current");
    });
  }

  function updateTileStates() {
    document.querySelectorAll(".tile[data-camera]").forEach(function (tile) {
      var id = tile.getAttribute("data-camera");
      var state = cameraState[id] || "connecting";
      tile.setAttribute("data-state", state);
      var badge = tile.querySelector(".tile-state");
      if (badge) badge.textContent = state === "online" ? "" : (tour && tour.states[state]) || state;
    });
  }

  // The camera's open alarms: raised by the media plane (camera.alarm) or open incidents of the
  // camera that have not recovered. Most severe first.
  function alarmsOf(cameraId) {
    var kinds = {};
    Object.keys(activeAlarms).forEach(function (key) {
      var alarm = activeAlarms[key];
      if (alarm.camera_id === cameraId) kinds[alarm.kind] = true;
    });
    var incidents = window.WatchWallIncidents ? window.WatchWallIncidents.state() : {};
    Object.keys(incidents).forEach(function (id) {
      var incident = incidents[id];
      if (incident.camera_id === cameraId && !incident.recovered) kinds[incident.kind] = true;
    });
    var severity = (tour && tour.severity) || {};
    return Object.keys(kinds).sort(function (a, b) {
      return (SEVERITY_ORDER[severity[b]] || 0) - (SEVERITY_ORDER[severity[a]] || 0);
    });
  }

  function kindLabels() {
    return json(document.getElementById("incident-ticker"), "data-labels").kinds || {};
  }

  function updateTileAlarms() {
    var labels = kindLabels(), severity = (tour && tour.severity) || {};
    document.querySelectorAll(".tile[data-camera]").forEach(function (tile) {
      var kinds = alarmsOf(tile.getAttribute("data-camera"));
      var box = tile.querySelector(".tile-alarm");
      if (!kinds.length) {
        tile.removeAttribute("data-alarm");
        tile.style.removeProperty("--alarm-colour");
        if (box) box.textContent = "";
        return;
      }
      var worst = severity[kinds[0]] || "high";
      tile.setAttribute("data-alarm", worst);
      tile.style.setProperty("--alarm-colour", SEVERITY_COLOURS[worst] || SEVERITY_COLOURS.high);
      if (box) box.textContent = kinds.map(function (kind) { return labels[kind] || kind; }).join(" · ");
    });
  }

  function turnPage(step) {
    if (!pageCount()) return;
    page = ((page + step) % pageCount() + pageCount()) % pageCount();
    renderTiles();
  }

  function nextPage() { if (pageCount() > 1) turnPage(1); }

  function tick() {
    if (paused || Object.keys(holds).length) return;
    nextPage();
  }

  function setPaused(value) { paused = !!value; showTourPosition(); }

  function hold(reason, on) {
    if (on) holds[reason] = true;
    else delete holds[reason];
  }

  // The centre's first page, the tour paused on it.
  function showCentre(code) {
    if (!tour) return false;
    for (var index = 0; index < pageCount(); index++) {
      if (tour.pages[index].centre === code) {
        if (page !== index || grid.getAttribute("data-centre") !== code) { page = index; renderTiles(); }
        setPaused(true);
        return true;
      }
    }
    return false;
  }

  function enlarge(tile) {
    var on = !tile.classList.contains("enlarged");
    grid.querySelectorAll(".tile.enlarged").forEach(function (other) { other.classList.remove("enlarged"); });
    tile.classList.toggle("enlarged", on);
    grid.classList.toggle("has-enlarged", on);
    hold("enlarged", on);
  }

  function openCamera(cameraId) { location.hash = "camera=" + encodeURIComponent(cameraId); }
  function openCentre(code) { location.hash = "centre=" + encodeURIComponent(code); }

  // Tiles: a click opens the camera unless a second click makes it a double-click (enlarge).
  function bindGrid(node) {
    var pending = null;
    node.addEventListener("click", function (event) {
      var tile = event.target.closest(".tile[data-camera]");
      if (!tile) return;
      if (pending) clearTimeout(pending);
      pending = setTimeout(function () { pending = null; openCamera(tile.getAttribute("data-camera")); }, DOUBLE_CLICK_MS);
    });
    node.addEventListener("dblclick", function (event) {
      var tile = event.target.closest(".tile[data-camera]");
      if (!tile) return;
      if (pending) { clearTimeout(pending); pending = null; }
      enlarge(tile);
    });
    node.addEventListener("keydown", function (event) {
      var tile = event.target.closest(".tile[data-camera]");
      if (!tile) return;
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); openCamera(tile.getAttribute("data-camera")); }
      else if (event.key === "e" || event.key === "E") { event.preventDefault(); enlarge(tile); }
      else if (event.key === "Escape" && tile.classList.contains("enlarged")) enlarge(tile);
    });
  }

  // Ticker items and centre rows are drawn by others (incidents.js, Dash): handled here by
  // delegation, before the item's own click (which acknowledged it: that is in the camera view now).
  function activate(target) {
    var item = target.closest("#incident-ticker .incident-item");
    if (item) {
      var camera = item.getAttribute("data-camera");
      if (camera) { openCamera(camera); return true; }
      var incidents = window.WatchWallIncidents ? window.WatchWallIncidents.state() : {};
      var incident = incidents[item.getAttribute("data-incident")];
      if (incident && (incident.centre || incident.county)) { openCentre(incident.centre || incident.county); return true; }
      return false;
    }
    var row = target.closest(".centre-board .centre-row[data-centre]");
    if (row) { openCentre(row.getAttribute("data-centre")); return true; }
    return false;
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest && activate(event.target)) event.stopPropagation();
  }, true);
  document.addEventListener("keydown", function (event) {
    if ((event.key === "Enter" || event.key === " ") && event.target.closest && activate(event.target)) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  // The ticker: every item reachable by Tab, its count beside the title, and a ticker longer than
  // its bar turns a page every few seconds so that no item stays cut off unseen.
  var tickerObserver = null, tickerNode = null, tickerTimer = null;
  function decorateTicker() {
    var ticker = document.getElementById("incident-ticker");
    if (!ticker) return;
    var items = ticker.querySelectorAll(".incident-item");
    items.forEach(function (item) {
      if (item.hasAttribute("tabindex")) return;
      item.setAttribute("tabindex", "0");
      item.setAttribute("role", "button");
      item.addEventListener("focus", function () { item.scrollIntoView({ block: "nearest", inline: "nearest" }); });
    });
    var count = document.getElementById("ticker-count");
    if (count && count.textContent !== String(items.length)) count.textContent = String(items.length);
    updateTileAlarms();
    if (window.WatchWallView) window.WatchWallView.incidentsChanged();
  }

  function pageTicker() {
    var ticker = document.getElementById("incident-ticker");
    if (!ticker || ticker.scrollWidth <= ticker.clientWidth + 1) return;
    if (ticker.contains(document.activeElement) || ticker.matches(":hover")) return;  // being read
    var atEnd = ticker.scrollLeft + ticker.clientWidth >= ticker.scrollWidth - 1;
    ticker.scrollTo({ left: atEnd ? 0 : ticker.scrollLeft + ticker.clientWidth, behavior: "smooth" });
  }

  function watchTicker() {
    var ticker = document.getElementById("incident-ticker");
    if (ticker === tickerNode) return;
    if (tickerObserver) tickerObserver.disconnect();
    tickerNode = ticker;
    if (!ticker) return;
    tickerObserver = new MutationObserver(decorateTicker);
    tickerObserver.observe(ticker, { childList: true });
    decorateTicker();
    if (!tickerTimer) tickerTimer = setInterval(pageTicker, TICKER_PAGE_MS);
  }

  function alarmKey(alarm) { return alarm.camera_id + "/" + alarm.kind; }

  function onStatus(payload) {
    cameraState[payload.camera_id] = payload.state;
    updateTileStates();
    if (window.WatchWallView) window.WatchWallView.stateChanged(payload.camera_id);
  }

  function onAlarm(payload) {
    var key = alarmKey(payload);
    if (payload.active) activeAlarms[key] = payload;
    else delete activeAlarms[key];
    updateTileAlarms();
  }

  function onSnapshot(snapshot) {
    cameraState = {};
    Object.keys(snapshot.cameras || {}).forEach(function (id) { cameraState[id] = snapshot.cameras[id].state; });
    activeAlarms = {};
    (snapshot.alarms || []).forEach(function (alarm) { activeAlarms[alarmKey(alarm)] = alarm; });
    updateTileStates();
    updateTileAlarms();
    // A camera opened full screen from the URL before the snapshot came shows "connecting" until
    // told: a steady camera sends no camera.status of its own.
    if (window.WatchWallView) Object.keys(cameraState).forEach(function (id) { window.WatchWallView.stateChanged(id); });
  }

  function bindSocket(socket) {
    socket.on("camera.status", onStatus);
    socket.on("camera.alarm", onAlarm);
    socket.on("camera.snapshot", onSnapshot);
  }

  // The charts' text is sized from the screen's width (the server draws them): tell it, then ask.
  function askForCharts() {
    if (window.dash_clientside && window.dash_clientside.set_props) {
      window.dash_clientside.set_props("wall-viewport", { data: { width: window.innerWidth, height: window.innerHeight } });
    }
    var button = document.getElementById("wall-charts-go");
    if (button) button.click();
  }

  // The charts take the page's main thread for a second or more while plotly draws them; the
  // tiles' first pictures need that thread too (socket messages, MSE appends), so the charts
  // are asked for once every tile shows a picture.
  function drawChartsOnceTilesShow() {
    var videos = grid.querySelectorAll("video");
    var waiting = videos.length, asked = false;
    function once() {
      if (asked) return;
      asked = true;
      askForCharts();
    }
    if (!waiting) { once(); return; }
    videos.forEach(function (video) {
      video.addEventListener("loadeddata", function () { if (--waiting === 0) once(); }, { once: true });
    });
    setTimeout(once, CHARTS_WAIT_MAX_MS);
  }

  var resizeTimer = null, drawnWidth = window.innerWidth;
  window.addEventListener("resize", function () {
    if (resizeTimer) clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      if (!grid || window.innerWidth === drawnWidth) return;
      drawnWidth = window.innerWidth;
      askForCharts();
    }, 500);
  });

  function pageOf(someTour, index) {
    return someTour && someTour.pages.length ? JSON.stringify(someTour.pages[index % someTour.pages.length]) : "";
  }

  function bindTourControls() {
    var controls = { "tour-prev": function () { turnPage(-1); }, "tour-next": function () { turnPage(1); },
      "tour-pause": function () { setPaused(!paused); } };
    Object.keys(controls).forEach(function (id) {
      var button = document.getElementById(id);
      if (button && !button.hasAttribute("data-bound")) {
        button.setAttribute("data-bound", "1");
        button.addEventListener("click", controls[id]);
      }
    });
  }

  // a new grid starts the tour; a new data-tour on the same grid (cameras.changed) redraws the
  // tiles only if the page on show changed, so the other tiles' video carries on
  function findGrid() {
    watchTicker();
    if (tour) markCentreOnShow();
    var found = document.getElementById("tile-grid");
    var text = found ? found.getAttribute("data-tour") : null;
    if (found === grid && text === tourText) return;
    var fresh = found !== grid;
    grid = found;
    tourText = text;
    if (!grid) {
      if (tourTimer) { clearInterval(tourTimer); tourTimer = null; }
      tour = null;
      if (window.WatchWallView) window.WatchWallView.wallGone();
      return;
    }
    var before = pageOf(tour, page);
    tour = JSON.parse(text);
    if (fresh) { page = 0; paused = false; holds = {}; bindGrid(grid); bindTourControls(); }
    if (fresh || pageOf(tour, page) !== before) renderTiles();
    else showTourPosition();
    if (fresh) drawChartsOnceTilesShow();
    if (tourTimer) clearInterval(tourTimer);
    tourTimer = setInterval(tick, Math.max(5, tour.interval) * 1000);
    if (fresh && window.WatchWallView) window.WatchWallView.wallReady();
  }

  function start() {
    if (window.watchwallSocket) bindSocket(window.watchwallSocket);
    else document.addEventListener("watchwall:socket", function (event) { bindSocket(event.detail); }, { once: true });
    new MutationObserver(findGrid).observe(document.body, {
      childList: true, subtree: true, attributes: true, attributeFilter: ["data-tour"],
    });
    findGrid();
  }
  window.WatchWallTiles = {
    nextPage: nextPage,
    turnPage: turnPage,
    setPaused: setPaused,
    hold: hold,
    showCentre: showCentre,
    tour: function () { return tour; },
    camera: function (id) {
      var found = null;
      (tour ? tour.pages : []).forEach(function (shown) {
        shown.cameras.forEach(function (camera) { if (camera.id === id) found = camera; });
      });
      return found;
    },
    alarmsOf: alarmsOf,
    cameraState: function (id) { return cameraState[id]; },
    state: function () { return { cameraState: cameraState, activeAlarms: activeAlarms, page: page, paused: paused, holds: holds }; },
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
