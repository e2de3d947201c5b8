/* WatchWall: while the web process cannot read the cameras' shared state (Redis), say so.
 * Asks /state/link every few seconds; on "lost" a banner names it and the camera tiles turn
 * grey (body.state-link-lost), so no one takes the last values for live ones. Clears itself. */
(function () {
  "use strict";
  var INTERVAL_MS = 3000;

  function banner() {
    var el = document.getElementById("state-link-banner");
    if (!el) {
      el = document.createElement("div");
      el.id = "state-link-banner";
      el.className = "state-link-banner";
      el.setAttribute("role", "alert");
      el.hidden = true;
      document.body.appendChild(el);
    }
    return el;
  }

  function show(ok, message) {
    var el = banner();
    el.hidden = ok;
    if (!ok) el.textContent = message;
    document.body.classList.toggle("state-link-lost", !ok);
    document.body.setAttribute("data-state-link", ok ? "ok" : "lost");
  }

  function ask() {
    if (location.pathname.indexOf("/login") === 0) return;
    var lang = document.documentElement.lang || "";
    fetch("/state/link?lang=" + encodeURIComponent(lang), { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (state) { if (state) show(state.ok, state.message); })
      .catch(function () { /* the web process itself is away: the push status shows that */ });
  }

  function start() { ask(); setInterval(ask, INTERVAL_MS); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
