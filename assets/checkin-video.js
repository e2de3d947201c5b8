/* Video-verified check-ins, pushed: a verdict stored by the face-check worker (checkin_video.changed,
 * to the county's room) reloads that county's list of checks and their frames (the hidden button
 * of dashboard/components/checkin_video_list.py), without reloading the page. */
(function () {
  "use strict";
  var RETRY_MS = 300, RELOAD_MS = 500;
  var pending = {}, timer = null;

  function reload(county) {
    pending[county] = true;
    if (timer) return;
    timer = setTimeout(function () {
      var counties = pending;
      timer = null; pending = {};
      document.querySelectorAll('[data-push-refresh~="checkin_video"]').forEach(function (button) {
        if (counties[button.getAttribute("data-centre")]) button.click();
      });
    }, RELOAD_MS);
  }

  function bind() {
    var socket = window.watchwallSocket;
    if (!socket) { setTimeout(bind, RETRY_MS); return; }
    socket.on("checkin_video.changed", function (verdict) {
      if (verdict && typeof verdict.county === "string") reload(verdict.county);
    });
  }

  bind();
})();
