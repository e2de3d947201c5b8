/* The wall's live tiles with their tour, camera states and the alarm ticker.
 * Tiles are plain DOM that Dash never re-renders: the grid element carries the
 * tour as JSON (data-tour); states and alarms arrive over socket.io. */
(function () {
  "use strict";
  var cameraState = {};   // camera id -> "online" | "stalled" | ...
  var activeAlarms = {};  // camera id + kind -> alarm payload
  var tour = null, tourText = null, page = 0, tourTimer = null, grid = null, renders = 0;
  var CHARTS_WAIT_MAX_MS = 3000;  // a tile that cannot play does not hold the charts back longer

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function renderTiles() {
    if (!grid || !tour) return;
    if (!tour.pages.length) { grid.replaceChildren(); return; }
    var cameras = tour.pages[page % tour.pages.length];
    grid.replaceChildren();
    grid.setAttribute("data-page", String(page % tour.pages.length));
    renders++;  // the tiles of one render share one live socket (live-player.js)
    cameras.forEach(function (camera) {
      var tile = el("div", "tile");
      tile.setAttribute("data-camera", camera.id);
      tile.setAttribute("data-state", cameraState[camera.id] || "connecting");
      var video = document.createElement("video");
      video.muted = true; video.autoplay = true; video.playsInline = true;
      video.setAttribute("data-live-camera", camera.id);
      video.setAttribute("data-live-group", "wall-" + renders);
      video.setAttribute("poster", "/snapshot/" + encodeURIComponent(camera.id) + ".jpg");
      // which of the camera's streams the tile shows, and why not the sub stream (live-player.js)
      video.setAttribute("data-stream-labels", JSON.stringify(tour.streams || {}));
      tile.appendChild(video);
      tile.appendChild(el("div", "tile-label", camera.label));
      tile.appendChild(el("div", "live-stream-label", ""));
      tile.appendChild(el("div", "tile-state", ""));
      grid.appendChild(tile);
    });
    updateTileStates();
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

  function nextPage() {
    if (!tour || tour.pages.length < 2) return;
    page = (page + 1) % tour.pages.length;
    renderTiles();
  }

  function alarmKey(alarm) { return alarm.camera_id + "/" + alarm.kind; }

  function renderTicker() {
    var ticker = document.getElementById("alarm-ticker");
    if (!ticker) return;
    var names = JSON.parse(ticker.getAttribute("data-cameras") || "{}");
    var kinds = JSON.parse(ticker.getAttribute("data-kinds") || "{}");
    ticker.replaceChildren();
    var keys = Object.keys(activeAlarms).sort(function (a, b) {
      return String(activeAlarms[b].start).localeCompare(String(activeAlarms[a].start));
    });
    if (!keys.length) { ticker.appendChild(el("span", "ticker-empty", ticker.getAttribute("data-empty"))); return; }
    keys.forEach(function (key) {
      var alarm = activeAlarms[key];
      var item = el("span", "ticker-item");
      item.setAttribute("data-alarm", key);
      item.setAttribute("data-kind", alarm.kind);
      var since = alarm.start ? new Date(alarm.start).toLocaleTimeString(document.documentElement.lang || "zh-CN", { hour12: false }) : "";
      item.textContent = (names[alarm.camera_id] || alarm.camera_id) + " · " + (kinds[alarm.kind] || alarm.kind) + " · " + since;
      ticker.appendChild(item);
    });
  }

  function onStatus(payload) {
    cameraState[payload.camera_id] = payload.state;
    updateTileStates();
  }

  function onAlarm(payload) {
    var key = alarmKey(payload);
    if (payload.active) activeAlarms[key] = payload;
    else delete activeAlarms[key];
    renderTicker();
  }

  function onSnapshot(snapshot) {
    cameraState = {};
    Object.keys(snapshot.cameras || {}).forEach(function (id) { cameraState[id] = snapshot.cameras[id].state; });
    activeAlarms = {};
    (snapshot.alarms || []).forEach(function (alarm) { activeAlarms[alarmKey(alarm)] = alarm; });
    updateTileStates();
    renderTicker();
  }

  function bindSocket(socket) {
    socket.on("camera.status", onStatus);
    socket.on("camera.alarm", onAlarm);
    socket.on("camera.snapshot", onSnapshot);
  }

  // The charts take the page's main thread for a second or more while plotly draws them; the
  // tiles' first pictures need that thread too (socket messages, MSE appends), so the charts
  // are asked for once every tile shows a picture.
  function drawChartsOnceTilesShow() {
    var videos = grid.querySelectorAll("video");
    var waiting = videos.length, asked = false;
    function askForCharts() {
      if (asked) return;
      asked = true;
      var button = document.getElementById("wall-charts-go");
      if (button) button.click();
    }
    if (!waiting) { askForCharts(); return; }
    videos.forEach(function (video) {
      video.addEventListener("loadeddata", function () { if (--waiting === 0) askForCharts(); }, { once: true });
    });
    setTimeout(askForCharts, CHARTS_WAIT_MAX_MS);
  }

  function pageOf(someTour, index) {
    return someTour && someTour.pages.length ? JSON.stringify(someTour.pages[index % someTour.pages.length]) : "";
  }

  // a new grid starts the tour; a new data-tour on the same grid (cameras.changed) redraws the
  // tiles only if the page on show changed, so the other tiles' video carries on
  function findGrid() {
    var found = document.getElementById("tile-grid");
    var text = found ? found.getAttribute("data-tour") : null;
    if (found === grid && text === tourText) return;
    var fresh = found !== grid;
    grid = found;
    tourText = text;
    if (!grid) return;
    var before = pageOf(tour, page);
    tour = JSON.parse(text);
    if (fresh) page = 0;
    if (fresh || pageOf(tour, page) !== before) renderTiles();
    if (fresh) drawChartsOnceTilesShow();
    renderTicker();
    if (tourTimer) clearInterval(tourTimer);
    tourTimer = setInterval(nextPage, Math.max(5, tour.interval) * 1000);
  }

  function start() {
    if (window.watchwallSocket) bindSocket(window.watchwallSocket);
    else document.addEventListener("watchwall:socket", function (event) { bindSocket(event.detail); }, { once: true });
    new MutationObserver(findGrid).observe(document.body, {
      childList: true, subtree: true, attributes: true, attributeFilter: ["data-tour"],
    });
    findGrid();
  }
  window.WatchWallTiles = { nextPage: nextPage, state: function () { return { cameraState: cameraState, activeAlarms: activeAlarms, page: page }; } };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
