"""Live video and snapshots over HTTP: fMP4 over a WebSocket into the browser's MSE, JPEG posters.

Protocol of ``/live/<camera>`` (server to browser only): a JSON text message
``{"type": "init", "codec": "avc1.4D401F"}`` followed by the init segment as a
binary message, then one binary message per frame (moof+mdat). ``{"type":
"jump"}`` says the viewer fell behind and the next fragment starts at the live
edge; ``{"type": "reset"}`` that the stream restarts with a new init;
``{"type": "unsupported", "codec": ...}`` that the browser cannot play it.

``/live?cameras=a,b,c`` carries several cameras on one socket (a wall's page of tiles):
the same messages, text ones with ``"tile": i`` (the camera's index in the list) and binary
ones with that index as their first byte. Browsers open one WebSocket to a host at a time
(and Chromium throttles many at once), so one socket per page starts every tile sooner.
A camera of the list that is not pulled (just added, being restarted) gets
``{"type": "unavailable", "tile": i}`` and starts on the same socket once it is.

Which of a camera's streams is shown is chosen per viewer (video.live.stream_choice):
``?want=main|sub`` (else the camera's role ``?role=live|tiles``, by default ``live`` for
one camera and ``tiles`` for a page of them) and ``?play=h264,hevc`` (the codecs the browser's MSE plays; H.264 when not
given). Before a tile's first init, and whenever the choice changes (a sub stream down,
back), ``{"type": "stream", "stream": "sub", "want": "main", "reason": "unplayable"}``
says what is shown and why; ``"stream": null`` means no stream can be played: thumbnails.
"""

from __future__ import annotations

import json
import logging
import threading
import time

import flask
from simple_websocket import ConnectionClosed

from watchwall.dashboard import live_audit, live_socket, view_audit
from watchwall.dashboard.access import can_watch_live
from watchwall.dashboard.auth import client_address, current_principal
from watchwall.dashboard.context import AppContext, current
from watchwall.dashboard.web_security import origin_allowed
from watchwall.video.live.stream_choice import TileStream, parse_playable

log = logging.getLogger(__name__)
IDLE_POLL_S = 1.0
MAX_CAMERAS_PER_SOCKET = 64  # the wall shows at most 36 tiles; an index must fit in one byte
_writer_lock = threading.Lock()


def live_audit_writer(context: AppContext) -> live_audit.LiveAuditWriter:
    """This app's writer of live-view audit rows (see dashboard/live_audit.py for why a queue)."""
    extensions = flask.current_app.extensions
    with _writer_lock:
        writer = extensions.get(live_audit.EXTENSION_KEY)
        if writer is None or writer.engine is not context.engine:
            writer = extensions[live_audit.EXTENSION_KEY] = live_audit.LiveAuditWriter(context.engine)
        return writer


def _camera_or_404(context: AppContext, camera_id: str):
    try:
        return context.site.camera(camera_id)
    except KeyError:
        flask.abort(404)


def register(server: flask.Flask) -> None:
    @server.route("/live/<camera_id>", websocket=True)
    def live(camera_id: str):
        return serve_live([camera_id], tagged=False)

    @server.route("/live", websocket=True)
    def live_many():
        camera_ids = [part for part in flask.request.args.get("cameras", "").split(",") if part]
        if not camera_ids or len(camera_ids) > MAX_CAMERAS_PER_SOCKET:
            flask.abort(400)
        principal = current_principal()
        context = current()
        for camera_id in camera_ids:  # /live/<camera> is checked by the page rules; this path is not
            centre = _camera_or_404(context, camera_id).centre.code
            if principal is None or not can_watch_live(principal, centre):
                flask.abort(403)
        return serve_live(camera_ids, tagged=True)

    @server.route("/snapshot/<camera_id>.jpg")
    def snapshot(camera_id: str):
        context = current()
        _camera_or_404(context, camera_id)
        jpeg = context.media.thumbnail(camera_id) if context.media is not None else None
        if jpeg is None:
            flask.abort(404)
        view_audit.views().snapshot(current_principal().username, camera_id, len(jpeg))
        response = flask.Response(jpeg, mimetype="image/jpeg")
        response.headers["Cache-Control"] = "no-store"
        return response


def serve_live(camera_ids: list[str], tagged: bool):
    started = time.perf_counter()
    context = current()
    for camera_id in camera_ids:
        _camera_or_404(context, camera_id)
    environ = flask.request.environ
    if not origin_allowed(environ.get("HTTP_ORIGIN"), environ, context.settings.public_origins):
        flask.abort(403)  # another site's page may not open a socket with this user's cookie
    media = context.media
    if media is None or (not tagged and media.live_channel(camera_ids[0]) is None):
        flask.abort(404)  # a single camera's player retries; a page's socket waits for its camera
    wanted = flask.request.args.get("want")
    if wanted not in (None, "main", "sub"):
        flask.abort(400)
    role = flask.request.args.get("role") or ("tiles" if tagged else "live")
    if role not in ("tiles", "live"):
        flask.abort(400)
    playable = parse_playable(flask.request.args.get("play"))
    # No database work from here on: the audit rows go to one writer thread, so neither the
    # handshake nor the stream waits for the audit chain's lock or a pool connection.
    actor = current_principal().username
    address = client_address()
    audit_rows = live_audit_writer(context)
    target = _audit_target(camera_ids)
    ws = live_socket.accept(environ)
    audit_rows.put(actor, "live_view", target, {"cameras": camera_ids}, address)
    watching_since = time.monotonic()
    timing = ConnectionTiming(",".join(camera_ids), started)
    wakeup = threading.Event()
    tiles = [
        TileStream(
            media,
            camera_id,
            wanted or context.site.camera(camera_id).camera.stream_for(role),
            playable,
            media.stream_states,
            wakeup,
        )
        for camera_id in camera_ids
    ]
    try:
        stream_live(ws, tiles, wakeup, tagged, timing)
    except (ConnectionClosed, OSError):  # the viewer went away
        pass
    finally:
        for tile in tiles:
            tile.close()
        live_socket.end(ws, environ)
        duration = round(time.monotonic() - watching_since, 1)
        audit_rows.put(
            actor, "live_view_end", target, {"cameras": camera_ids, "duration_s": duration}, address
        )
    return live_socket.Ended()


def _audit_target(camera_ids: list[str]) -> str:
    return camera_ids[0] if len(camera_ids) == 1 else f"{len(camera_ids)} cameras"


class ConnectionTiming:
    """When a socket got its first init segment and its first frame, for the debug log."""

    def __init__(self, label: str, started: float) -> None:
        self.label = label
        self.started = started
        self.accepted = time.perf_counter()
        self.init_sent: float | None = None
        self.logged = False

    def sent(self, kind: str) -> None:
        if kind == "init" and self.init_sent is None:
            self.init_sent = time.perf_counter()
        elif kind == "fragment" and self.init_sent is not None and not self.logged:
            self.logged = True
            log.debug(
                "live %s: accepted after %.1f ms, init after %.1f ms, first fragment after %.1f ms",
                self.label,
                (self.accepted - self.started) * 1000,
                (self.init_sent - self.started) * 1000,
                (time.perf_counter() - self.started) * 1000,
            )


def stream_live(
    ws: live_socket.LiveSocket,
    tiles: list[TileStream],
    wakeup: threading.Event,
    tagged: bool,
    timing: ConnectionTiming | None = None,
) -> None:
    """Every tile's messages onto one socket until it closes; ``tagged`` marks each message
    with its tile's index (see the module's docstring). Every second each tile chooses its
    stream again (a camera not pulled yet, a stream gone down or back)."""
    announced_unsupported: list[str | None] = [None] * len(tiles)
    announced: list[object] = [False] * len(tiles)  # the choice last said, None for "unavailable"

    def send(index: int, kind: str, payload: object = None, **fields) -> None:
        tag = {"tile": index} if tagged else {}
        if kind in ("init", "fragment"):
            if kind == "init":
                codec, payload = payload
                ws.send(json.dumps({"type": "init", "codec": codec, "at": time.time(), **tag}))
            ws.send(bytes([index]) + payload if tagged else payload)
        else:
            ws.send(json.dumps({"type": kind, **fields, **tag}))
        if timing is not None:
            timing.sent(kind)

    next_choice = 0.0
    while ws.connected:
        if time.monotonic() >= next_choice:
            next_choice = time.monotonic() + IDLE_POLL_S
            for index, tile in enumerate(tiles):
                tile.update()
                if tile.choice != announced[index]:
                    announced[index] = tile.choice
                    if tile.choice is None:
                        send(index, "unavailable")
                    else:
                        send(index, "stream", **tile.choice.as_message())
                        announced_unsupported[index] = None
        wakeup.wait(IDLE_POLL_S)
        wakeup.clear()  # before draining: a message offered from now on sets it again
        # One message per viewer per round: when a page of tiles starts, every tile gets its
        # init segment and keyframe before any tile gets the rest of its GOP.
        pending = [(index, tile.viewer) for index, tile in enumerate(tiles) if tile.viewer is not None]
        while pending:
            still = []
            for index, viewer in pending:
                message = viewer.get(timeout=0)
                if message is not None:
                    send(index, *message)
                    still.append((index, viewer))
            pending = still
        for index, tile in enumerate(tiles):
            unsupported = tile.viewer.channel.unsupported_codec if tile.viewer is not None else None
            if unsupported and unsupported != announced_unsupported[index]:
                announced_unsupported[index] = unsupported
                send(index, "unsupported", codec=unsupported)
