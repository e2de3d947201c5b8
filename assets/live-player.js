/* WatchWall live player: fMP4 fragments over a WebSocket into Media Source Extensions.
 * Attaches itself to every <video data-live-camera="ID"> on the page (and detaches
 * when Dash removes one). Keeps the picture at the live edge; reconnects by itself.
 * Videos that share a data-live-group value (a wall's page of tiles) share one socket,
 * /live?cameras=a,b,c, whose messages carry the tile's index; others get /live/<camera>.
 *
 * Two streams per camera: the player tells the server which codecs this browser's MSE plays
 * (?play=h264,hevc, from MediaSource.isTypeSupported) and, for a small view or when the page
 * says so (data-live-stream), which stream it wants (?want=sub). The server answers with a
 * {"type": "stream"} message naming the stream shown (or none: thumbnails) and why; the video
 * gets data-stream / data-stream-reason and a label (.live-stream-label beside it) in the
 * page's words (data-stream-labels). */
(function () {
  "use strict";
  var MAX_LAG_S = 0.8, KEEP_S = 20, RETRY_MIN_MS = 1000, RETRY_MAX_MS = 5000;
  // The picture is kept a little behind the newest buffered frame: a joining viewer starts at
  // the GOP's keyframe, up to a GOP behind the live edge, and would stay that late (anywhere up
  // to MAX_LAG_S) without catching up. Playing a little faster closes the gap without a seek
  // (which would decode the GOP again). The lead is checked as a frame is appended, so it is one
  // frame interval (measured: 0.04 s at 25 fps, 0.1 s at 10 fps) plus LEAD_MARGIN_S for the
  // frames' jitter; with less the picture stalls between appends.
  var LEAD_MARGIN_S = 0.2, CATCH_UP_BAND_S = 0.1, CATCH_UP_RATE = 1.5;
  var SMALL_VIEW_PX = 480;  // a single view narrower than this takes the sub stream
  var THUMBNAIL_REFRESH_MS = 5000;
  var CODEC_PROBES = { h264: ["avc1.42E01E"], hevc: ["hvc1.1.6.L93.B0", "hev1.1.6.L93.B0"] };

  function mseSupports(codec) {
    return !!(window.MediaSource && MediaSource.isTypeSupported('video/mp4; codecs="' + codec + '"'));
  }

  // The codec families this browser plays through MSE; one found unplayable later is dropped.
  var playable = Object.keys(CODEC_PROBES).filter(function (family) {
    return CODEC_PROBES[family].some(mseSupports);
  });

  function familyOf(codec) {
    return /^(hvc1|hev1)/.test(codec) ? "hevc" : /^(avc1|avc3)/.test(codec) ? "h264" : codec;
  }
  // Chromium delays each new WebSocket by up to 1-5 s * 2^pending / 65536 (its per-renderer
  // throttle), so 16 tiles opening at once wait seconds for their last sockets. A few at a
  // time keep that delay near zero; the handshakes to one host are serialised anyway.
  var MAX_CONNECTING = 4;
  var freeSlots = MAX_CONNECTING, waitingToConnect = [];

  function connectWhenFree(start) {
    waitingToConnect.push(start);
    startWaiting();
  }

  function startWaiting() {
    while (freeSlots > 0 && waitingToConnect.length) {
      freeSlots--;
      waitingToConnect.shift()(slotReleaser());
    }
  }

  function slotReleaser() {
    var released = false;
    return function () {
      if (released) return;
      released = true;
      freeSlots++;
      startWaiting();
    };
  }

  function LivePlayer(video) {
    this.video = video;
    this.camera = video.getAttribute("data-live-camera");
    this.queue = [];
    this.stopped = false;
    this.jumpPending = false;
  }

  LivePlayer.prototype.setState = function (state) {
    this.video.setAttribute("data-player-state", state);
  };

  // The stream this view asks for: the page's choice, else the sub stream for a small single
  // view, else none (the server takes the camera's roles).
  LivePlayer.prototype.wanted = function (alone) {
    var asked = this.video.getAttribute("data-live-stream");
    if (asked) return asked;
    var width = this.video.clientWidth;
    return alone && width > 0 && width < SMALL_VIEW_PX ? "sub" : null;
  };

  LivePlayer.prototype.showStream = function (message) {
    var video = this.video;
    video.setAttribute("data-stream", message.stream || "thumbnails");
    video.setAttribute("data-stream-want", message.want || "");
    video.setAttribute("data-stream-reason", message.reason || "");
    var labels = {};
    try { labels = JSON.parse(video.getAttribute("data-stream-labels") || "{}"); } catch (e) { /* none */ }
    var shown = message.stream || "thumbnails", text = labels[shown] || shown;
    if (message.reason) text += " · " + (labels[message.want + "_" + message.reason] || message.reason);
    var label = video.parentElement && video.parentElement.querySelector(".live-stream-label");
    if (label) label.textContent = text;
    video.setAttribute("title", text);
    if (message.stream) this.stopThumbnails();
    else this.showThumbnails();
  };

  // No stream this browser can play is up: the keyframe thumbnails instead, refreshed.
  LivePlayer.prototype.showThumbnails = function () {
    var self = this, video = self.video;
    self.teardown();
    video.removeAttribute("src");
    try { video.load(); } catch (e) { /* nothing loaded */ }
    self.setState("thumbnails");
    function refresh() { video.setAttribute("poster", "/snapshot/" + encodeURIComponent(self.camera) + ".jpg?t=" + Date.now()); }
    refresh();
    if (!self.thumbnailTimer) self.thumbnailTimer = setInterval(refresh, THUMBNAIL_REFRESH_MS);
  };

  LivePlayer.prototype.stopThumbnails = function () {
    if (this.thumbnailTimer) { clearInterval(this.thumbnailTimer); this.thumbnailTimer = null; }
  };

  // A feed carries the messages of one socket to its players, and reconnects it.
  function Feed(players) {
    this.players = players;
    this.tagged = players.length > 1;  // see feedPath
    this.retryMs = RETRY_MIN_MS;
    this.ws = null;
    var self = this;
    players.forEach(function (player) { player.feed = self; });
    this.connect();
  }

  Feed.prototype.live = function () {
    return this.players.some(function (player) { return !player.stopped; });
  };

  Feed.prototype.connect = function () {
    var self = this;
    if (!self.live()) return;
    self.players.forEach(function (player) { player.setState("connecting"); player.prepare(); });
    connectWhenFree(function (release) { self.openSocket(release); });
  };

  Feed.prototype.openSocket = function (release) {
    var self = this;
    if (!self.live()) { release(); return; }
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + location.host + feedPath(self.players));
    ws.binaryType = "arraybuffer";
    self.ws = ws;
    ws.onopen = release;
    ws.onmessage = function (event) { self.deliver(event.data); };
    ws.onclose = function () {
      release();
      self.players.forEach(function (player) { player.teardown(); });
      if (!self.live()) return;
      self.players.forEach(function (player) { player.setState("reconnecting"); });
      setTimeout(function () { self.connect(); }, self.retryMs);
      self.retryMs = Math.min(self.retryMs * 2, RETRY_MAX_MS);
    };
  };

  Feed.prototype.deliver = function (data) {
    var tagged = this.tagged;
    if (typeof data === "string") {
      var message = JSON.parse(data), player = this.players[tagged ? message.tile : 0];
      if (player && !player.stopped) player.control(message);
    } else {
      var target = this.players[tagged ? new Uint8Array(data, 0, 1)[0] : 0];
      if (target && !target.stopped) target.append(tagged ? new Uint8Array(data, 1) : data);
    }
  };

  // The browser refused a codec it was thought to play: ask again without it.
  Feed.prototype.unplayable = function (family) {
    var before = playable.length;
    playable = playable.filter(function (known) { return known !== family; });
    if (playable.length !== before && this.ws) this.ws.close();
    return playable.length !== before;
  };

  Feed.prototype.playing = function () {
    this.retryMs = RETRY_MIN_MS;
  };

  Feed.prototype.playerStopped = function () {
    if (!this.live() && this.ws) this.ws.close();
  };

  LivePlayer.prototype.control = function (message) {
    if (message.type === "init") {
      if (this.mime) this.teardown();  // a stream restarts: a fresh MediaSource for its new init
      if (!mseSupports(message.codec) && this.feed && this.feed.unplayable(familyOf(message.codec))) return;
      this.stopThumbnails();
      this.open(message.codec);
    } else if (message.type === "stream") {
      this.showStream(message);
    } else if (message.type === "jump") {
      this.jumpPending = true;
    } else if (message.type === "reset") {
      this.teardown();
    } else if (message.type === "unavailable") {
      this.setState("unavailable");  // not pulled yet: its init follows on this socket when it is
    } else if (message.type === "unsupported") {
      this.setState("unsupported");
      this.video.setAttribute("data-codec", message.codec);
    }
  };

  // The MediaSource opens (asynchronously, through the main thread) while the socket connects,
  // so that the init segment finds it ready.
  LivePlayer.prototype.prepare = function () {
    var self = this;
    if (self.source || !window.MediaSource) return;
    var source = new MediaSource();
    self.source = source;
    self.buffer = null;
    self.mime = null;
    self.shown = false;
    self.video.src = URL.createObjectURL(source);
    self.video.addEventListener("loadeddata", function () { if (self.source === source) self.shown = true; }, { once: true });
    source.addEventListener("sourceopen", function () { if (self.source === source) self.addBuffer(); }, { once: true });
  };

  LivePlayer.prototype.open = function (codec) {
    var mime = 'video/mp4; codecs="' + codec + '"';
    if (!window.MediaSource || !MediaSource.isTypeSupported(mime)) { this.setState("unsupported"); return; }
    this.prepare();
    this.mime = mime;
    this.addBuffer();
  };

  LivePlayer.prototype.addBuffer = function () {
    var self = this, source = self.source;
    if (!self.mime || self.buffer || !source || source.readyState !== "open") return;
    self.buffer = source.addSourceBuffer(self.mime);
    self.buffer.mode = "segments";
    self.buffer.addEventListener("updateend", function () { self.afterAppend(); });
    self.pump();
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
    // Everything that arrived meanwhile goes in one append: a tile joining a stream gets the
    // init segment and the whole GOP at once, and one append per frame would cost a round
    // through the main thread (updateend) each.
    var data = this.queue.length === 1 ? this.queue.shift() : joined(this.queue.splice(0));
    try {
      buffer.appendBuffer(data);
    } catch (error) {
      if (error.name === "QuotaExceededError") { this.queue.unshift(data); this.trim(true); }
      else if (this.feed && this.feed.ws) this.feed.ws.close();  // start over from a new init
    }
  };

  function joined(chunks) {
    var size = 0, offset = 0;
    chunks.forEach(function (chunk) { size += chunk.byteLength; });
    var whole = new Uint8Array(size);
    chunks.forEach(function (chunk) { whole.set(new Uint8Array(chunk), offset); offset += chunk.byteLength; });
    return whole;
  }

  LivePlayer.prototype.afterAppend = function () {
    var video = this.video, ranges = video.buffered;
    if (ranges.length) {
      var end = ranges.end(ranges.length - 1), start = ranges.start(ranges.length - 1);
      // The first picture comes straight from the keyframe; only once it is on screen does the
      // player catch up with the live edge (a seek means decoding the GOP up to it).
      var behind = this.shown && end - video.currentTime > MAX_LAG_S;
      if (!this.shown && video.currentTime < start) {
        video.currentTime = start;
      } else if (this.jumpPending || video.currentTime < start || behind) {
        video.currentTime = Math.max(start, end - this.liveLead());
        this.jumpPending = false;
      }
      this.measureFrameInterval(end);
      this.catchUp(end - video.currentTime);
      if (video.paused) { var p = video.play(); if (p && p.catch) p.catch(function () {}); }
      this.setState("playing");
      if (this.feed) this.feed.playing();
    }
    this.trim(false);
    this.pump();
  };

  // The buffered end moves by one frame interval per frame appended (by more when several came at once).
  LivePlayer.prototype.measureFrameInterval = function (end) {
    var step = this.lastEnd === undefined ? 0 : end - this.lastEnd;
    this.lastEnd = end;
    if (step > 0 && step < 0.5) this.frameS = this.frameS ? Math.min(step, 0.9 * this.frameS + 0.1 * step) : step;
  };

  LivePlayer.prototype.liveLead = function () {
    return (this.frameS || 0.1) + LEAD_MARGIN_S;
  };

  LivePlayer.prototype.catchUp = function (lead) {
    var video = this.video, target = this.liveLead();
    if (!this.shown) return;
    if (lead > target + CATCH_UP_BAND_S) { if (video.playbackRate !== CATCH_UP_RATE) video.playbackRate = CATCH_UP_RATE; }
    else if (lead <= target && video.playbackRate !== 1) video.playbackRate = 1;
  };

  LivePlayer.prototype.trim = function (force) {
    var buffer = this.buffer, video = this.video;
    if (!buffer || buffer.updating || !video.buffered.length) return;
    var start = video.buffered.start(0), cut = video.currentTime - (force ? 2 : KEEP_S);
    if (cut - start > (force ? 0 : 5)) { try { buffer.remove(start, cut); } catch (e) { /* next time */ } }
  };

  LivePlayer.prototype.teardown = function () {
    this.queue = [];
    this.lastEnd = this.frameS = undefined;
    this.buffer = null;
    this.mime = null;
    if (this.source) {
      try { if (this.source.readyState === "open") this.source.endOfStream(); } catch (e) { /* closing */ }
      URL.revokeObjectURL(this.video.src);
      this.source = null;
    }
  };

  LivePlayer.prototype.stop = function () {
    this.stopped = true;
    this.stopThumbnails();
    this.teardown();
    if (this.feed) this.feed.playerStopped();
  };

  var players = new Map();

  function feedPath(members) {
    var cameras = members.map(function (player) { return player.camera; });
    var grouped = members[0].video.hasAttribute("data-live-group");
    var want = members[0].wanted(!grouped);
    // a page's tiles take the camera's tiles role, a single view its live role, unless asked
    var query = "play=" + playable.join(",") + (want ? "&want=" + want : "") + (grouped ? "&role=tiles" : "");
    if (cameras.length === 1) return "/live/" + encodeURIComponent(cameras[0]) + "?" + query;
    return "/live?cameras=" + cameras.map(encodeURIComponent).join(",") + "&" + query;
  }

  function scan() {
    var groups = {}, alone = [];
    document.querySelectorAll("video[data-live-camera]").forEach(function (video) {
      var existing = players.get(video);
      if (existing && existing.camera === video.getAttribute("data-live-camera")) return;
      if (existing) existing.stop();
      var player = new LivePlayer(video);
      players.set(video, player);
      var group = existing ? null : video.getAttribute("data-live-group");
      if (group) (groups[group] = groups[group] || []).push(player);
      else alone.push(player);
    });
    alone.forEach(function (player) { new Feed([player]); });
    Object.keys(groups).forEach(function (group) { new Feed(groups[group]); });
    players.forEach(function (player, video) {
      if (!document.body.contains(video)) { player.stop(); players.delete(video); }
    });
  }

  window.WatchWallLive = { scan: scan, players: players, playable: function () { return playable.slice(); } };
  function start() {
    new MutationObserver(function () { scan(); }).observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-live-camera"] });
    scan();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
