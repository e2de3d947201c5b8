/* One camera full screen on the wall (#camera-view, drawn by wall_camera_view.py), and the URL's
 * hash that opens it: #camera=ID shows the camera, #centre=CODE the centre's page of the tour, no
 * hash the tour. Tiles, ticker items and centre rows set the hash (wall-tiles.js), so the
 * browser's back button returns to where the operator was. */
(function () {
  "use strict";
  var shownCamera = null, openedFrom = null, arrivedWithHash = false;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function tiles() { return window.WatchWallTiles; }
  function tour() { return (tiles() && tiles().tour()) || null; }
  function labels() { return (tour() && tour().labels) || {}; }

  function route() {
    var found = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (part) {
      var at = part.indexOf("=");
      if (at > 0) found[part.slice(0, at)] = decodeURIComponent(part.slice(at + 1));
    });
    return found;
  }

  // The time ``date`` shows in ``zone``, as ISO 8601 with that zone's offset (2026-12-05T01:58:30+08:00).
  function isoInZone(date, zone) {
    var whole = new Date(Math.floor(date.getTime() / 1000) * 1000);
    var parts = {};
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).formatToParts(whole).forEach(function (part) { parts[part.type] = part.value; });
    var local = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
    var offset = Math.round((local - whole.getTime()) / 60000), sign = offset < 0 ? "-" : "+";
    offset = Math.abs(offset);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return parts.year + "-" + parts.month + "-" + parts.day + "T" + parts.hour + ":" + parts.minute + ":" +
      parts.second + sign + two(Math.floor(offset / 60)) + ":" + two(offset % 60);
  }

  // The one place the playback page's link is written (agreed with /recordings: camera, start).
  function playbackHref(cameraId, start, zone) {
    return "/recordings?camera=" + encodeURIComponent(cameraId) + "&start=" + encodeURIComponent(isoInZone(start, zone));
  }

  function showState() {
    var box = document.getElementById("camera-view-state");
    if (!box || !shownCamera) return;
    var state = (tiles() && tiles().cameraState(shownCamera)) || "connecting";
    box.setAttribute("data-state", state);
    box.textContent = (tour() && tour().states[state]) || state;
  }

  function showIncidents() {
    var list = document.getElementById("camera-view-incidents");
    if (!list || !shownCamera) return;
    var ticker = document.getElementById("incident-ticker");
    var kinds = {}, states = {}, canAck = ticker && ticker.getAttribute("data-can-ack") === "1";
    try { var texts = JSON.parse(ticker.getAttribute("data-labels")); kinds = texts.kinds || {}; states = texts.states || {}; } catch (e) { /* none */ }
    var incidents = window.WatchWallIncidents ? window.WatchWallIncidents.state() : {};
    var zone = (tour() && tour().zone) || undefined;
    var mine = Object.keys(incidents).map(function (id) { return incidents[id]; })
      .filter(function (incident) { return incident.camera_id === shownCamera; })
      .sort(function (a, b) { return String(b.opened_at).localeCompare(String(a.opened_at)); });
    list.replaceChildren();
    if (!mine.length) { list.appendChild(el("li", "camera-view-none", labels().no_incidents || "")); return; }
    mine.forEach(function (incident) {
      var item = el("li", "camera-view-incident");
      item.setAttribute("data-incident", String(incident.id));
      item.setAttribute("data-state", incident.state);
      var since = incident.opened_at ? new Date(incident.opened_at).toLocaleString(document.documentElement.lang || "zh-CN", { hour12: false, timeZone: zone }) : "";
      item.appendChild(el("span", "incident-what", (kinds[incident.kind] || incident.kind) + " · " + since + " · " + (states[incident.state] || incident.state)));
      if (canAck && incident.state === "open") {
        var ack = el("button", "tool-button camera-view-ack", labels().acknowledge || "OK");
        ack.type = "button";
        ack.setAttribute("data-ack", String(incident.id));
        ack.addEventListener("click", function () { acknowledge(incident, ack); });
        item.appendChild(ack);
      }
      list.appendChild(item);
    });
  }

  function acknowledge(incident, button) {
    var socket = window.watchwallSocket;
    if (!socket) return;
    button.disabled = true;
    socket.emit("incident.act", { id: incident.id, action: "acknowledge", version: incident.version }, function (answer) {
      button.disabled = false;
      // done: incident.changed comes to every wall (incidents.js), and this list follows it
      if (!answer || !answer.ok) button.title = (answer && answer.error) || "?";
    });
  }

  function refreshHealth() {
    var button = document.getElementById("camera-view-refresh");
    if (button) button.click();
  }

  function openCamera(cameraId) {
    var view = document.getElementById("camera-view"), holder = document.getElementById("camera-view-video");
    if (!view || !holder) return;
    if (shownCamera !== cameraId) {
      var camera = tiles() && tiles().camera(cameraId);
      var name = camera ? camera.label : cameraId;
      var centre = "";
      (tour() ? tour().pages : []).forEach(function (shown) { if (camera && shown.centre === camera.centre) centre = shown.centre_label; });
      document.getElementById("camera-view-name").textContent = centre ? centre + " · " + name : name;
      var video = document.createElement("video");
      video.muted = true; video.autoplay = true; video.playsInline = true;
      video.setAttribute("data-live-camera", cameraId);  // its own socket, the camera's live stream
      video.setAttribute("poster", "/snapshot/" + encodeURIComponent(cameraId) + ".jpg");
      video.setAttribute("aria-label", camera ? camera.aria : cameraId);
      video.setAttribute("data-stream-labels", JSON.stringify((tour() && tour().streams) || {}));
      holder.replaceChildren(video, el("div", "live-stream-label", ""));
      shownCamera = cameraId;
      view.setAttribute("data-camera", cameraId);
      refreshHealth();
    }
    var minutes = labels().playback_minutes || 5;
    document.getElementById("camera-view-playback").href =
      playbackHref(cameraId, new Date(Date.now() - minutes * 60000), (tour() && tour().zone) || "Asia/Shanghai");
    document.body.classList.add("camera-open");
    if (tiles()) tiles().hold("camera", true);
    showState();
    showIncidents();
    var back = document.getElementById("camera-view-back");
    if (back) back.focus();
  }

  function closeCamera() {
    if (!shownCamera) return;
    var holder = document.getElementById("camera-view-video");
    if (holder) holder.replaceChildren();  // live-player.js stops a removed video and its socket
    var view = document.getElementById("camera-view");
    if (view) view.removeAttribute("data-camera");
    document.body.classList.remove("camera-open");
    if (tiles()) tiles().hold("camera", false);
    var was = shownCamera;
    shownCamera = null;
    var tile = document.querySelector('.tile[data-camera="' + CSS.escape(was) + '"]') || openedFrom;
    if (tile && document.body.contains(tile)) tile.focus();
  }

  function follow() {
    if (!document.getElementById("tile-grid")) return;
    var where = route();
    if (where.camera) { openCamera(where.camera); return; }
    closeCamera();
    if (where.centre && tiles()) tiles().showCentre(where.centre);
  }

  function back() {
    if (arrivedWithHash) {  // opened from a link: back would leave the wall, so clear the hash instead
      arrivedWithHash = false;
      history.replaceState(null, "", location.pathname + location.search);
      follow();
    } else {
      history.back();
    }
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("#camera-view-back")) back();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && shownCamera) { event.preventDefault(); back(); }
  });
  document.addEventListener("focusin", function (event) {
    if (event.target.closest && event.target.closest(".tile, .incident-item, .centre-row")) openedFrom = event.target;
  });
  window.addEventListener("hashchange", follow);

  window.WatchWallView = {
    wallReady: function () { arrivedWithHash = !!location.hash; follow(); },
    wallGone: function () { shownCamera = null; document.body.classList.remove("camera-open"); },
    stateChanged: function (cameraId) { if (cameraId === shownCamera) { showState(); refreshHealth(); } },
    incidentsChanged: function () { if (shownCamera) showIncidents(); },
    playbackHref: playbackHref,
    isoInZone: isoInZone,
    shown: function () { return shownCamera; },
  };
})();
