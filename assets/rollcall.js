/* Roll-calls (视频点名), pushed. On every page: when the user's centre is called, a prompt with the
 * countdown and the 到 button (the server decides whether the user may answer: "answerable").
 * On the wall and /rollcall: the board of the called centres, each with its roll-call camera live,
 * turning green (passed) or red (failed); the wall's centre rows get the same colour.
 * rollcall.changed only says something changed: the page then asks rollcall.active for what it may see. */
(function () {
  "use strict";
  var calls = {}, names = { centres: {}, cameras: {} }, labels = {};
  var socket = null, fetchTimer = null, answering = {}, messages = {}, failedToday = null;
  var FETCH_SETTLE_MS = 150;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function language() {
    var node = document.querySelector("[lang]");
    return node ? node.getAttribute("lang") : "zh-CN";
  }

  function label(key, fallback) { return labels[key] || fallback || key; }

  function remaining(call) {
    if (call.state !== "called") return 0;
    return Math.max(0, Math.ceil(call.remaining_s - (Date.now() - call.received) / 1000));
  }

  function stateText(call) {
    var text = label("state." + call.state, call.state);
    if (call.state === "called") text += " · " + remaining(call) + " " + label("seconds", "s");
    if (call.reason) text += " · " + label("reason." + call.reason, call.reason);
    if (call.face_present !== null && call.face_present !== undefined && call.reason !== "no_face") {
      text += " · " + label(call.face_present ? "face.yes" : "face.no");
    }
    if (call.time_to_answer_s !== null && call.time_to_answer_s !== undefined) text += " · " + call.time_to_answer_s + " s";
    return text;
  }

  function ordered() {
    return Object.keys(calls).map(function (id) { return calls[id]; }).sort(function (a, b) {
      return b.rollcall_id - a.rollcall_id || String(a.county).localeCompare(String(b.county));
    });
  }

  function renderBoard() {
    var board = document.getElementById("rollcall-board");
    if (!board) return;
    var list = ordered();
    var latest = list.length ? list[0].rollcall_id : null;
    var shown = list.filter(function (call) { return call.rollcall_id === latest || call.state === "called" || call.state === "answered"; });
    var keep = {};
    shown.forEach(function (call) {
      var tile = board.querySelector('.rollcall-tile[data-call="' + call.id + '"]');
      if (!tile) {
        tile = el("div", "rollcall-tile");
        tile.setAttribute("data-call", String(call.id));
        tile.setAttribute("data-county", call.county);
        tile.appendChild(el("div", "rollcall-tile-name", (names.centres[call.county] || call.county) + " · " + (names.cameras[call.camera_id] || call.camera_id)));
        var video = el(call.watch ? "video" : "div", "rollcall-tile-video");
        if (call.watch) {
          video.muted = true; video.autoplay = true; video.playsInline = true;
          video.setAttribute("data-live-camera", call.camera_id);
          video.setAttribute("data-live-stream", "sub");
        }
        tile.appendChild(video);
        tile.appendChild(el("div", "rollcall-tile-state"));
        board.appendChild(tile);
      }
      tile.setAttribute("data-state", call.state);
      tile.setAttribute("data-camera", call.camera_id);
      tile.className = "rollcall-tile state-" + call.state;
      var state = tile.querySelector(".rollcall-tile-state");
      var text = stateText(call);
      if (state.textContent !== text) state.textContent = text;
      keep[call.id] = true;
    });
    board.querySelectorAll(".rollcall-tile").forEach(function (tile) {
      if (!keep[tile.getAttribute("data-call")]) tile.remove();
    });
    var figures = document.getElementById("rollcall-figures");
    if (figures && failedToday !== null) {
      var figure = label("failed_today", "") + ": " + failedToday;
      if (figures.textContent !== figure) { figures.textContent = figure; figures.setAttribute("data-failed-today", String(failedToday)); }
    }
    var empty = board.querySelector(".rollcall-empty");
    if (!shown.length && !empty) board.appendChild(el("div", "rollcall-empty", label("board.empty", "")));
    if (shown.length && empty) empty.remove();
    // the wall's centre rows take the colour of their latest call
    document.querySelectorAll(".centre-row[data-centre]").forEach(function (row) {
      var call = shown.filter(function (c) { return c.county === row.getAttribute("data-centre"); })[0];
      ["called", "answered", "passed", "failed"].forEach(function (s) {
        var on = !!call && call.state === s;
        if (row.classList.contains("rollcall-" + s) !== on) row.classList.toggle("rollcall-" + s, on);
      });
    });
  }

  function renderPrompt() {
    var mine = ordered().filter(function (call) { return call.answerable && remaining(call) > 0; });
    var prompt = document.getElementById("rollcall-prompt");
    if (!mine.length && !Object.keys(messages).length) { if (prompt) prompt.remove(); return; }
    if (!prompt) {
      prompt = el("div", "rollcall-prompt");
      prompt.id = "rollcall-prompt";
      prompt.setAttribute("role", "alertdialog");
      document.body.appendChild(prompt);
    }
    var keep = {};
    mine.forEach(function (call) {
      var row = prompt.querySelector('.rollcall-prompt-call[data-call="' + call.id + '"]');
      if (!row) {
        row = el("div", "rollcall-prompt-call");
        row.setAttribute("data-call", String(call.id));
        row.appendChild(el("div", "rollcall-prompt-text"));
        row.appendChild(el("div", "rollcall-countdown"));
        var button = el("button", "rollcall-answer", label("answer", "到"));
        button.id = "rollcall-answer-" + call.id;
        button.addEventListener("click", function () { answer(call.id); });
        row.appendChild(button);
        prompt.appendChild(row);
      }
      row.querySelector(".rollcall-prompt-text").textContent = label("prompt", "") + " " +
        (names.centres[call.county] || call.county) + " · " + label("camera", "") + " " + (names.cameras[call.camera_id] || call.camera_id);
      var countdown = row.querySelector(".rollcall-countdown");
      var left = String(remaining(call));
      if (countdown.textContent !== left) countdown.textContent = left;
      row.querySelector("button").disabled = !!answering[call.id];
      keep[call.id] = true;
    });
    prompt.querySelectorAll(".rollcall-prompt-call").forEach(function (row) {
      if (!keep[row.getAttribute("data-call")]) row.remove();
    });
    var note = prompt.querySelector(".rollcall-message");
    var text = Object.keys(messages).map(function (id) { return messages[id]; }).join(" ");
    if (text && !note) { note = el("div", "rollcall-message"); note.setAttribute("role", "status"); prompt.appendChild(note); }
    if (note && note.textContent !== text) note.textContent = text;
  }

  function render() { renderBoard(); renderPrompt(); }

  function showMessage(id, text) {
    messages[id] = text;
    render();
    setTimeout(function () { delete messages[id]; render(); }, 8000);
  }

  function answer(id) {
    if (!socket || answering[id]) return;
    answering[id] = true;
    render();
    socket.emit("rollcall.answer", { id: id }, function (reply) {
      delete answering[id];
      if (reply && reply.ok) { reply.call.received = Date.now(); calls[reply.call.id] = reply.call; showMessage(id, label("answered", "OK")); }
      else showMessage(id, label("refused", "") + ": " + ((reply && reply.error) || "?"));
      fetchSoon();
    });
  }

  function fetchActive() {
    fetchTimer = null;
    if (!socket) return;
    socket.emit("rollcall.active", { lang: language() }, function (reply) {
      if (!reply || !reply.ok) return;
      var now = Date.now();
      calls = {};
      reply.calls.forEach(function (call) { call.received = now; calls[call.id] = call; });
      failedToday = reply.failed_today;
      names = reply.names || names;
      labels = reply.labels || labels;
      render();
    });
  }

  function fetchSoon() { if (!fetchTimer) fetchTimer = setTimeout(fetchActive, FETCH_SETTLE_MS); }

  function reloadLists() {
    document.querySelectorAll('[data-push-refresh~="rollcall"]').forEach(function (button) { button.click(); });
  }

  function bind(found) {
    socket = found;
    socket.on("rollcall.changed", function () { fetchSoon(); reloadLists(); });
    socket.on("connect", fetchSoon);
    if (socket.connected) fetchSoon();
  }

  function start() {
    if (window.watchwallSocket) bind(window.watchwallSocket);
    else document.addEventListener("watchwall:socket", function (event) { bind(event.detail); }, { once: true });
    setInterval(render, 500);  // the countdowns
    // Dash draws the board after the socket connects: draw into it once it appears
    new MutationObserver(function () {
      var board = document.getElementById("rollcall-board");
      if (board && !board.hasAttribute("data-drawn")) { board.setAttribute("data-drawn", "1"); renderBoard(); }
    }).observe(document.body, { childList: true, subtree: true });
  }
  window.WatchWallRollcall = { calls: function () { return calls; } };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
