"""An ingest node's HTTP server: its health, and its cameras' live video and recorded segments for web nodes.

- ``GET /health``: the node's leases and its cameras' health (JSON), for operators and probes.
- ``GET /live/<camera>?stream=main|sub``: the stream's live fMP4 as framed messages
  (:mod:`watchwall.roles.live_wire`) while the node pulls the camera; the answer ends when the
  camera leaves the node, and the web node then asks the camera's new owner.
- ``GET /segments/<path>``: one recorded segment's file from this node's disk, as the index names it.

Video answers only with a token (:mod:`watchwall.roles.media_tokens`) for exactly that path and
query: the web role decides who may watch, the node checks that a web role asked.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from watchwall.roles import live_wire, media_tokens
from watchwall.video.record.segments import UnsafePathError, inside_recordings
from watchwall.video.state.view import MediaView

log = logging.getLogger(__name__)

CAMERA_PATH = re.compile(r"^/live/([A-Za-z0-9][A-Za-z0-9_.-]{0,62})$")
KEEPALIVE_S = 1.0
OWNER_CHECK_S = 1.0
READ_CHUNK = 256 * 1024


class MediaServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], *, key: bytes, recordings_dir: Path) -> None:
        """Bound at once (a busy port is refused before the node registers); serving once
        :meth:`start` gives it the node's view and health."""
        self.key = key
        self.recordings_dir = Path(recordings_dir)
        self.view: MediaView | None = None
        self.health: Callable[[], dict] = dict
        self.stopping = threading.Event()
        self.live_streams = 0
        super().__init__(address, MediaHandler)

    @property
    def address(self) -> str:
        host, port = self.server_address[:2]
        return f"{host}:{port}"

    def start(self, view: MediaView, health: Callable[[], dict]) -> MediaServer:
        self.view, self.health = view, health
        threading.Thread(target=self.serve_forever, name="node-media", daemon=True).start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()


class MediaHandler(BaseHTTPRequestHandler):
    server: MediaServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def do_GET(self):  # noqa: N802 (http.server's name)
        path = urlsplit(self.path).path
        if path == "/health":
            self._send_json(200, self.server.health())
            return
        if not (path.startswith("/live/") or path.startswith("/segments/")):
            self._send_json(404, {"error": "no such path"})
            return
        refused = media_tokens.check(self.server.key, self.path, self.headers.get(media_tokens.HEADER))
        if refused is not None:
            log.warning("node media: %s refused: %s", path, refused)
            self._send_json(403, {"error": f"refused: {refused}"})
            return
        if path.startswith("/live/"):
            self._live(path)
        else:
            self._segment(unquote(path.removeprefix("/segments/")))

    def _send_json(self, status: int, value: dict) -> None:
        body = json.dumps(value, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _segment(self, relative: str) -> None:
        try:
            path = inside_recordings(self.server.recordings_dir, relative)
        except UnsafePathError as exc:
            self._send_json(400, {"error": str(exc)})
            return
        if not path.is_file():
            self._send_json(404, {"error": f"no segment {relative} on this node"})
            return
        size = path.stat().st_size
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        with path.open("rb") as source:
            remaining = size
            while remaining > 0:
                chunk = source.read(min(READ_CHUNK, remaining))
                if not chunk:
                    break
                self.wfile.write(chunk)
                remaining -= len(chunk)

    def _live(self, path: str) -> None:
        match = CAMERA_PATH.match(path)
        stream = (parse_qs(urlsplit(self.path).query).get("stream") or ["main"])[0]
        if match is None or stream not in ("main", "sub"):
            self._send_json(400, {"error": "ask /live/<camera>?stream=main|sub"})
            return
        camera_id = match.group(1)
        view = self.server.view
        channel = view.live_channel(camera_id, stream)
        if channel is None:
            self._send_json(404, {"error": f"{camera_id} ({stream}) is not pulled on this node"})
            return
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "application/x-watchwall-live")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()
        viewer = channel.attach()
        self.server.live_streams += 1
        unsupported = None
        try:
            next_check = 0.0
            while not self.server.stopping.is_set():
                message = viewer.get(timeout=KEEPALIVE_S)
                if message is None:
                    self.wfile.write(live_wire.encode(live_wire.KEEPALIVE))
                else:
                    kind, payload = message
                    keyframe = kind == "fragment" and live_wire.is_keyframe_fragment(payload)
                    self.wfile.write(live_wire.encode_viewer_message(kind, payload, keyframe))
                if channel.unsupported_codec != unsupported:
                    unsupported = channel.unsupported_codec
                    if unsupported:
                        self.wfile.write(live_wire.encode(live_wire.UNSUPPORTED, unsupported.encode()))
                now = time.monotonic()
                if now >= next_check:  # the camera left this node (or restarted): the web asks again
                    next_check = now + OWNER_CHECK_S
                    if view.live_channel(camera_id, stream) is not channel:
                        break
        except OSError:  # the web node went away
            pass
        finally:
            viewer.close()
            self.server.live_streams -= 1
