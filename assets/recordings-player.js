/* /recordings in the browser: the playhead on the timeline, the jump buttons, mark-in / mark-out, and
 * the export pickers' check before anything is sent.
 *
 * The player's file starts at the instant in its data-span-start (epoch seconds, set by the page's
 * callback), so the absolute time shown is that plus currentTime; it is drawn on the timeline's
 * axis, which is naive local time in the site's zone (data-zone). A jump inside the loaded span
 * moves currentTime; out of it, the page's hidden #rec-seek-request asks the server for a new span.
 * Dash's inputs are React inputs: a value set from here goes through the native setter and an
 * "input" event, so Dash's state follows it. */
(function () {
  "use strict";
  var formatters = {};

  function player() { return document.getElementById("rec-player"); }

  function spanOf(video) {
    var start = parseFloat(video.getAttribute("data-span-start"));
    var end = parseFloat(video.getAttribute("data-span-end"));
    return isFinite(start) && isFinite(end) ? { start: start, end: end } : null;
  }

  function absoluteNow(video) {
    var span = spanOf(video);
    if (!span || !video.currentSrc) return null;
    return span.start + (video.currentTime || 0);
  }

  function localParts(epoch, zone) {
    var key = zone || "UTC";
    if (!formatters[key]) {
      formatters[key] = new Intl.DateTimeFormat("en-CA", {
        timeZone: key, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", second: "2-digit"
      });
    }
    var parts = {};
    formatters[key].formatToParts(new Date(epoch * 1000)).forEach(function (p) { parts[p.type] = p.value; });
    return parts;
  }

  /* "2026-12-05T01:58:30" in the site's zone: what a datetime-local picker and the axis take. */
  function localText(epoch, zone, sep) {
    var p = localParts(Math.floor(epoch), zone);
    var ms = Math.floor((epoch - Math.floor(epoch)) * 1000);
    var text = p.year + "-" + p.month + "-" + p.day + (sep || "T") + p.hour + ":" + p.minute + ":" + p.second;
    return sep === " " ? text + "." + String(ms).padStart(3, "0") : text;
  }

  function setReactValue(input, value) {
    if (!input) return;
    var setter = Object.getOwnPropertyDescriptor(window.HTMLInputElement.prototype, "value").set;
    setter.call(input, value);
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function timelineGraph() { return document.querySelector("#rec-timeline .js-plotly-plot"); }

  var lastDrawn = null;
  function drawPlayhead() {
    var video = player();
    if (!video) return;
    var zone = video.getAttribute("data-zone") || "UTC";
    var now = absoluteNow(video);
    var readout = document.getElementById("rec-playhead-time");
    var gd = timelineGraph();
    if (now === null) {
      if (readout) readout.textContent = "";
      return;
    }
    var axisText = localText(now, zone, " ");
    if (readout) {
      readout.textContent = (readout.getAttribute("data-label") || "") + " " + axisText.slice(0, 19) +
        " (" + (readout.getAttribute("data-local") || "") + ", " + zone + ")";
      readout.setAttribute("data-epoch", String(now));
    }
    if (!gd || !window.Plotly || !gd._fullLayout) return;
    var shapes = ((gd.layout && gd.layout.shapes) || []).filter(function (s) { return s.name !== "playhead"; });
    var current = ((gd.layout && gd.layout.shapes) || []).filter(function (s) { return s.name === "playhead"; })[0];
    if (current && current.x0 === axisText && lastDrawn === axisText) return;
    lastDrawn = axisText;
    shapes.push({
      name: "playhead", type: "line", xref: "x", yref: "paper", x0: axisText, x1: axisText, y0: 0, y1: 1,
      line: { color: "#ffffff", width: 2 }, layer: "above"
    });
    window.Plotly.relayout(gd, { shapes: shapes });
  }

  function seekRequest(epoch) {
    setReactValue(document.getElementById("rec-seek-request"), epoch.toFixed(3) + "|" + Date.now());
  }

  function jump(seconds) {
    var video = player();
    if (!video) return;
    var span = spanOf(video);
    var now = absoluteNow(video);
    if (now === null || !span) {
      var play = document.getElementById("rec-play");
      if (play) play.click();  // nothing loaded yet: start where Play starts
      return;
    }
    var target = now + seconds;
    if (target >= span.start && target < span.end - 0.5) {
      video.currentTime = target - span.start;
    } else {
      seekRequest(Math.max(0, target));
    }
  }

  function mark(which) {
    var video = player();
    if (!video) return;
    var now = absoluteNow(video);
    if (now === null) return;
    var text = localText(now, video.getAttribute("data-zone") || "UTC", "T");
    var ids = which === "in" ? ["rec-export-from", "rec-bm-from"] : ["rec-export-to", "rec-bm-to"];
    ids.forEach(function (id) { setReactValue(document.getElementById(id), text); });
    if (which === "in") {  // the bookmark form's end follows its start once; mark-out comes after
      setTimeout(function () { setReactValue(document.getElementById("rec-bm-from"), text); }, 300);
    }
  }

  /* naive "YYYY-MM-DDTHH:MM[:SS]" as seconds, zone-free: both ends are in the same (site) zone */
  function naiveSeconds(text) {
    var m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?/.exec(text || "");
    if (!m) return null;
    return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0)) / 1000;
  }

  function checkExport(form) {
    var from = naiveSeconds(form.querySelector("#rec-export-from").value);
    var to = naiveSeconds(form.querySelector("#rec-export-to").value);
    var limit = parseFloat(form.getAttribute("data-max-span-s")) || 86400;
    if (from === null || to === null) return form.getAttribute("data-msg-missing");
    if (to <= from) return form.getAttribute("data-msg-order");
    if (to - from > limit) return form.getAttribute("data-msg-span");
    return "";
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || form.id !== "rec-export-form") return;
    var problem = checkExport(form);
    if (problem) {
      event.preventDefault();
      event.stopPropagation();
      var error = document.getElementById("rec-export-error");
      if (error) { error.textContent = problem; error.setAttribute("data-client-check", "1"); }
    }
  }, true);

  /* The bookmark's and the lock's pickers: an end before the start is refused here, before the
   * click reaches Dash (a capture listener on the document runs before React's on its root). */
  var MARK_FORMS = {
    "rec-bm-submit": ["rec-bm-from", "rec-bm-to", "rec-bm-message"],
    "rec-lock-submit": ["rec-lock-from", "rec-lock-to", "rec-lock-message"]
  };
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button") : null;
    var form = button && MARK_FORMS[button.id];
    if (!form) return;
    var from = naiveSeconds((document.getElementById(form[0]) || {}).value);
    var to = naiveSeconds((document.getElementById(form[1]) || {}).value);
    var exportForm = document.getElementById("rec-export-form");
    if (from !== null && to !== null && to < from && exportForm) {
      event.preventDefault();
      event.stopPropagation();
      var message = document.getElementById(form[2]);
      if (message) {
        message.textContent = exportForm.getAttribute("data-msg-order");
        message.style.color = "#ff6b6b";
      }
    }
  }, true);

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button") : null;
    if (!button) return;
    if (button.classList.contains("rec-jump")) {
      jump(parseFloat(button.getAttribute("data-jump")));
    } else if (button.id === "rec-mark-in") {
      mark("in");
    } else if (button.id === "rec-mark-out") {
      mark("out");
    }
  });

  document.addEventListener("timeupdate", function (event) {
    if (event.target && event.target.id === "rec-player") drawPlayhead();
  }, true);
  document.addEventListener("seeked", function (event) {
    if (event.target && event.target.id === "rec-player") drawPlayhead();
  }, true);
  // The timeline is redrawn by Dash (new figure, no playhead): draw it again.
  setInterval(function () {
    var gd = timelineGraph();
    if (!gd || !gd.layout) return;
    var has = (gd.layout.shapes || []).some(function (s) { return s.name === "playhead"; });
    if (!has) { lastDrawn = null; drawPlayhead(); }
  }, 1000);
})();
