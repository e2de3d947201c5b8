/* WatchWall push client: socket.io events become Dash prop changes.
 * The socket.io client reconnects by itself after a network drop or a server
 * restart; every reconnect asks the page to catch up. */
(function () {
  "use strict";
  var RETRY_MS = 500;


  function showStatus(online) {
    var el = document.getElementById("push-status");
    if (!el) return;
    el.textContent = el.getAttribute(online ? "data-online" : "data-offline");
    el.className = "push-status " + (online ? "online" : "offline");
  }

  function refreshFigures() {
    // a click on the hidden button is an ordinary Dash input: the figures' callback runs again
    var button = document.getElementById("push-refresh");
    if (button) button.click();
  }

  var lastCentreRefresh = 0;
  function refreshCentre(payload) {
    // the county page's health panel follows its centre's camera events, at most every 2 s
    var page = document.querySelector("[data-centre].centre-page");
    var button = document.getElementById("centre-refresh");
    if (!page || !button || (payload && payload.centre !== page.getAttribute("data-centre"))) return;
    if (Date.now() - lastCentreRefresh < 2000) return;
    lastCentreRefresh = Date.now();
    button.click();
  }

  // cameras.changed comes once per centre whose camera list changed; a burst becomes one refresh
  var CAMERAS_SETTLE_MS = 300;
  var camerasTimer = null, changedCentres = {}, everyCentre = false;
  function refreshCameraLists(payload) {
    if (payload && payload.centre) changedCentres[payload.centre] = true;
    else everyCentre = true;
    if (camerasTimer) return;
    camerasTimer = setTimeout(function () {
      var centres = changedCentres, all = everyCentre;
      camerasTimer = null; changedCentres = {}; everyCentre = false;
      // a camera list's hidden button carries data-push-refresh="cameras", and data-centre if it shows one centre
      document.querySelectorAll('[data-push-refresh~="cameras"]').forEach(function (button) {
        var centre = button.getAttribute("data-centre");
        if (all || !centre || centres[centre]) button.click();
      });
      if (!all) refreshFigures();  // the wall's centre board counts the cameras (a reconnect refreshed it already)
    }, CAMERAS_SETTLE_MS);
  }

  // The site's time (data-zone, e.g. Asia/Shanghai), whatever zone the browser is in.
  function tickClock() {
    var el = document.getElementById("wall-clock");
    if (!el) return;
    var options = { hour12: false }, zone = el.getAttribute("data-zone");
    if (zone) options.timeZone = zone;
    var now = new Date();
    var tagged = el.closest("[lang]");  // the page's language (the wall sets it on its page)
    el.textContent = now.toLocaleString((tagged && tagged.getAttribute("lang")) || "zh-CN", options);
    el.setAttribute("datetime", now.toISOString());
  }

  function start() {
    if (typeof window.io !== "function") { setTimeout(start, RETRY_MS); return; }
    var socket = window.io({ transports: ["websocket"], reconnectionDelayMax: 3000 });
    window.watchwallSocket = socket;
    var connectedOnce = false;
    socket.on("connect", function () {
      showStatus(true);
      if (connectedOnce) { refreshFigures(); refreshCameraLists(null); }  // catch up on what was missed meanwhile
      connectedOnce = true;
    });
    socket.on("disconnect", function () { showStatus(false); });
    socket.on("metrics.changed", function () { refreshFigures(); });
    socket.on("cameras.changed", refreshCameraLists);
    socket.on("camera.status", refreshCentre);
    socket.on("camera.alarm", refreshCentre);
    document.dispatchEvent(new CustomEvent("watchwall:socket", { detail: socket }));
    tickClock();
    setInterval(tickClock, 1000);
    setInterval(function () { showStatus(socket.connected); }, 2000);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
