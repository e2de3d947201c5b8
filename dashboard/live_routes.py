"""Live video and snapshots over HTTP: fMP4 over a WebSocket into the browser's MSE, JPEG posters.

Protocol of ``/live/<camera>`` (server to browser only): a JSON text message
``{"type": "init", "codec": "avc1.4D401F"}`` followed by the init segment as a
binary message, then one binary message per frame (moof+mdat). ``{"type":
"jump"}`` says the viewer fell behind and the next fragment starts at the live
edge; ``{"type": "reset"}`` that the stream restarts with a new init;
``{"type": "unsupported", "codec": ...}`` that the browser cannot play it.
"""

from __future__ import annotations

import json
import logging
import time

import flask
from simple_websocket import ConnectionClosed, Server

from dashboard.context import AppContext, current

log = logging.getLogger(__name__)
IDLE_POLL_S = 1.0


def _camera_or_404(context: AppContext, camera_id: str):
    try:
        return context.site.camera(camera_id)
    except KeyError:
        flask.abort(404)


def register(server: flask.Flask) -> None:
    @server.route("/live/<camera_id>", websocket=True)
    def live(camera_id: str):
        context = current()
        _camera_or_404(context, camera_id)
        hub = context.extras.get("live_hub")
        if hub is None or camera_id not in context.ingest.fanouts:
            flask.abort(404)
        ws = Server.accept(flask.request.environ, ping_interval=10)
        channel = hub.channel(camera_id)
        viewer = channel.attach()
        try:
            stream_live(ws, viewer, channel)
        except (ConnectionClosed, OSError):  # the viewer went away
            pass
        finally:
            viewer.close()
            try:
                ws.close()
            except (ConnectionClosed, OSError):
                pass
        return ""

    @server.route("/snapshot/<camera_id>.jpg")
    def snapshot(camera_id: str):
        context = current()
        _camera_or_404(context, camera_id)
        worker = context.ingest.keyframe_workers.get(camera_id) if context.ingest else None
        jpeg = worker.latest_jpeg if worker is not None else None
        if jpeg is None:
            flask.abort(404)
        response = flask.Response(jpeg, mimetype="image/jpeg")
        response.headers["Cache-Control"] = "no-store"
        return response


def stream_live(ws: Server, viewer, channel) -> None:
    announced_unsupported = None
    while ws.connected:
        message = viewer.get(timeout=IDLE_POLL_S)
        if message is None:
            if channel.unsupported_codec and channel.unsupported_codec != announced_unsupported:
                announced_unsupported = channel.unsupported_codec
                ws.send(json.dumps({"type": "unsupported", "codec": announced_unsupported}))
            continue
        kind, payload = message
        if kind == "init":
            codec, init = payload
            ws.send(json.dumps({"type": "init", "codec": codec, "at": time.time()}))
            ws.send(init)
        elif kind == "fragment":
            ws.send(payload)
        else:
            ws.send(json.dumps({"type": kind}))
