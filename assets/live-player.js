/* WatchWall live player: fMP4 fragments over a WebSocket into Media Source Extensions.
 * Attaches itself to every <video data-live-camera="ID"> on the page (and detaches
 * when Dash removes one). Keeps the picture at the live edge; reconnects by itself. */
(function () {
  "use strict";
  var MAX_LAG_S = 0.8, KEEP_S = 20, RETRY_MIN_MS = 1000, RETRY_MAX_MS = 5000;

  function LivePlayer(video) {
    this.video = video;
    this.camera = video.getAttribute("data-live-camera");
    this.queue = [];
    this.retryMs = RETRY_MIN_MS;
    this.stopped = false;
    this.jumpPending = false;
    this.connect();
  }

  LivePlayer.prototype.setState = function (state) {
    this.video.setAttribute("data-player-state", state);
  };

  LivePlayer.prototype.connect = function () {
    var self = this;
    if (self.stopped) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + location.host + "/live/" + encodeURIComponent(self.camera));
    ws.binaryType = "arraybuffer";
    self.ws = ws;
    self.setState("connecting");
    ws.onmessage = function (event) {
      if (typeof event.data === "string") self.control(JSON.parse(event.data));
      else self.append(event.data);
    };
    ws.onclose = function () {
      self.teardown();
      if (self.stopped) return;
      self.setState("reconnecting");
      setTimeout(function () { self.connect(); }, self.retryMs);
      self.retryMs = Math.min(self.retryMs * 2, RETRY_MAX_MS);
    };
  };

  LivePlayer.prototype.control = function (message) {
    if (message.type === "init") {
      this.teardown();
      this.open(message.codec);
    } else if (message.type === "jump") {
      this.jumpPending = true;
    } else if (message.type === "reset") {
      this.teardown();
    } else if (message.type === "unsupported") {
      this.setState("unsupported");
      this.video.setAttribute("data-codec", message.codec);
    }
  };

  LivePlayer.prototype.open = function (codec) {
    var self = this, mime = 'video/mp4; codecs="' + codec + '"';
    if (!window.MediaSource || !MediaSource.isTypeSupported(mime)) { self.setState("unsupported"); return; }
    var source = new MediaSource();
    self.source = source;
    self.buffer = null;
    self.video.src = URL.createObjectURL(source);
    self.shown = false;
    self.video.addEventListener("loadeddata", function () { self.shown = true; }, { once: true });
    source.addEventListener("sourceopen", function () {
      if (self.source !== source) return;
      self.buffer = source.addSourceBuffer(mime);
      self.buffer.mode = "segments";
      self.buffer.addEventListener("updateend", function () { self.afterAppend(); });
      self.pump();
    }, { once: true });
  };

  LivePlayer.prototype.append = function (data) {
    if (!this.source) return;
    this.queue.push(data);
    if (this.queue.length > 300) this.queue.splice(1, this.queue.length - 150);  // never grow without bound
    this.pump();
  };

  LivePlayer.prototype.pump = function () {
    var buffer = this.buffer;
    if (!buffer || buffer.updating || !this.queue.length || this.source.readyState !== "open") return;
    try {
      buffer.appendBuffer(this.queue.shift());
    } catch (error) {
      if (error.name === "QuotaExceededError") this.trim(true);
      else { this.ws && this.ws.close(); }
    }
  };

  LivePlayer.prototype.afterAppend = function () {
    var video = this.video, ranges = video.buffered;
    if (ranges.length) {
      var end = ranges.end(ranges.length - 1), start = ranges.start(ranges.length - 1);
      // The first picture comes straight from the keyframe; only once it is on screen does the
      // player catch up with the live edge (a seek means decoding the GOP up to it).
      var behind = this.shown && end - video.currentTime > MAX_LAG_S;
      if (this.jumpPending || video.currentTime < start || behind) {
        video.currentTime = Math.max(start, end - 0.2);
        this.jumpPending = false;
      }
      if (video.paused) { var p = video.play(); if (p && p.catch) p.catch(function () {}); }
      this.setState("playing");
      this.retryMs = RETRY_MIN_MS;
    }
    this.trim(false);
    this.pump();
  };

  LivePlayer.prototype.trim = function (force) {
    var buffer = this.buffer, video = this.video;
    if (!buffer || buffer.updating || !video.buffered.length) return;
    var start = video.buffered.start(0), cut = video.currentTime - (force ? 2 : KEEP_S);
    if (cut - start > (force ? 0 : 5)) { try { buffer.remove(start, cut); } catch (e) { /* next time */ } }
  };

  LivePlayer.prototype.teardown = function () {
    this.queue = [];
    this.buffer = null;
    if (this.source) {
      try { if (this.source.readyState === "open") this.source.endOfStream(); } catch (e) { /* closing */ }
      URL.revokeObjectURL(this.video.src);
      this.source = null;
    }
  };

  LivePlayer.prototype.stop = function () {
    this.stopped = true;
    if (this.ws) this.ws.close();
    this.teardown();
  };

  var players = new Map();

  function scan() {
    document.querySelectorAll("video[data-live-camera]").forEach(function (video) {
      var existing = players.get(video);
      if (existing && existing.camera === video.getAttribute("data-live-camera")) return;
      if (existing) existing.stop();
      players.set(video, new LivePlayer(video));
    });
    players.forEach(function (player, video) {
      if (!document.body.contains(video)) { player.stop(); players.delete(video); }
    });
  }

  window.WatchWallLive = { scan: scan, players: players };
  function start() {
    new MutationObserver(function () { scan(); }).observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-live-camera"] });
    scan();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
