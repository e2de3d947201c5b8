"""The web role's live video from the ingest nodes: one upstream per camera stream, shared by its viewers.

Why a relay, not a token that sends the browser to the node: the node then needs no public
address, TLS certificate, CORS or cookie of its own (the county LANs' nodes stay behind the web
tier), a camera that moves to another node keeps its browser sockets (the web process asks the
new owner and the player gets a reset and a new init), and the relay costs one upstream
connection per watched camera stream per web process, however many browsers watch it
(benchmarks/cluster/relay.py measures the CPU and the added latency).

:class:`RelayMediaView` is the web role's :class:`~watchwall.video.state.view.MediaView`: what the
nodes publish in Redis (:class:`SharedStateView`), plus live channels that are
:class:`RemoteLiveChannel` objects with the interface of a local
:class:`~watchwall.video.live.channel.LiveChannel` (``attach`` gives a ``Viewer``), so the live
routes serve them as they serve a channel of their own process.
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
from collections.abc import Callable
from urllib.parse import quote

from watchwall.roles import live_wire, media_tokens
from watchwall.video.live.channel import Viewer
from watchwall.video.state.shared_state import STALE_AFTER_S, SharedStateView

log = logging.getLogger(__name__)

RETRY_S = 1.0
TIMEOUT_S = 5.0  # connect, and each read: the node sends a keep-alive every second
STATE_CACHE_S = 0.5  # one Redis read serves every tile's check in that time


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


class RemoteLiveChannel:
    """One camera stream's live fMP4 from the node that pulls it, shared by this process's viewers."""

    def __init__(
        self,
        camera_id: str,
        stream: str,
        locate: Callable[[str], str | None],
        key: bytes,
        *,
        max_backlog: int = 90,
    ) -> None:
        self.camera_id = camera_id
        self.stream = stream
        self.locate = locate
        self.key = key
        self.max_backlog = max_backlog
        self.unsupported_codec: str | None = None
        self.upstream: str | None = None  # the node address it reads from now
        self.connections = 0
        self._lock = threading.Lock()
        self._viewers: list[Viewer] = []
        self._init: tuple[str, bytes] | None = None
        self._gop: list[tuple[bytes, bool]] = []
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._connection: http.client.HTTPConnection | None = None

    @property
    def viewers(self) -> int:
        with self._lock:
            return len(self._viewers)

    def attach(self, wakeup: threading.Event | None = None) -> Viewer:
        viewer = Viewer(self, self.max_backlog, wakeup)
        with self._lock:
            if self._init is not None:
                viewer._offer("init", self._init)
                for data, keyframe in self._gop:
                    viewer._offer("fragment", data, keyframe)
            self._viewers.append(viewer)
            if self._thread is None:
                self._stop = threading.Event()
                self._thread = threading.Thread(
                    target=self._run, args=(self._stop,), name=f"relay-{self.camera_id}", daemon=True
                )
                self._thread.start()
        return viewer

    def detach(self, viewer: Viewer) -> None:
        with self._lock:
            if viewer in self._viewers:
                self._viewers.remove(viewer)
            if self._viewers:
                return
            thread, self._thread = self._thread, None
            self._stop.set()
            connection = self._connection
            self._init, self._gop = None, []
        _close(connection)  # the reader's blocking read ends now
        if thread is not None and thread is not threading.current_thread():
            thread.join(2.0)

    def stop(self) -> None:
        with self._lock:
            viewers = list(self._viewers)
        for viewer in viewers:
            viewer.close()

    # -- the upstream -----------------------------------------------------------------------------
    def _run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            address = self.locate(self.camera_id)
            if address is None:
                stop.wait(RETRY_S)
                continue
            try:
                self._pump(address, stop)
            except (OSError, http.client.HTTPException, ValueError) as exc:
                if not stop.is_set():
                    log.info("relay %s/%s from %s: %s", self.camera_id, self.stream, address, exc)
            except Exception:  # a bug must not end the relay of a camera people watch
                log.exception("relay %s/%s from %s", self.camera_id, self.stream, address)
            finally:
                self.upstream = None
            if stop.is_set():
                break
            self._upstream_ended()
            stop.wait(RETRY_S)

    def _pump(self, address: str, stop: threading.Event) -> None:
        host, port = split_address(address)
        target = f"/live/{quote(self.camera_id)}?stream={self.stream}"
        connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT_S)
        with self._lock:
            if stop.is_set():
                return
            self._connection = connection
        try:
            connection.request(
                "GET", target, headers={media_tokens.HEADER: media_tokens.sign(self.key, target)}
            )
            response = connection.getresponse()
            if response.status != 200:
                raise OSError(f"node answered {response.status} {response.reason}")
            self.upstream = address
            self.connections += 1
            while not stop.is_set():
                message = live_wire.read_message(response)
                if message is None:
                    return  # the node ended it: the camera left it, or the node stops
                self._deliver(*message)
        finally:
            with self._lock:
                if self._connection is connection:
                    self._connection = None
            _close(connection)

    def _deliver(self, kind: bytes, payload: bytes) -> None:
        if kind == live_wire.KEEPALIVE:
            return
        if kind == live_wire.UNSUPPORTED:
            self.unsupported_codec = payload.decode(errors="replace")
            return
        with self._lock:
            if kind == live_wire.INIT:
                codec, _, init = payload.partition(b"\n")
                self._init, self._gop = (codec.decode(), init), []
                self.unsupported_codec = None
                for viewer in self._viewers:
                    viewer._offer("init", self._init)
            elif kind in (live_wire.FRAGMENT, live_wire.KEYFRAME):
                keyframe = kind == live_wire.KEYFRAME
                if keyframe:
                    self._gop = []
                self._gop.append((payload, keyframe))
                for viewer in self._viewers:
                    viewer._offer("fragment", payload, keyframe)
            elif kind == live_wire.JUMP:
                self._gop = []
                for viewer in self._viewers:
                    viewer._offer("jump", None)
            elif kind == live_wire.RESET:
                self._reset_locked()

    def _upstream_ended(self) -> None:
        """The node went away or gave the camera up: the players start again on the next init."""
        with self._lock:
            if self._init is not None:
                self._reset_locked()

    def _reset_locked(self) -> None:
        self._init, self._gop = None, []
        for viewer in self._viewers:
            viewer._offer("reset", None)


def _close(connection: http.client.HTTPConnection | None) -> None:
    if connection is None:
        return
    try:
        if connection.sock is not None:
            connection.sock.shutdown(2)
    except OSError:
        pass
    connection.close()


class RelayMediaView(SharedStateView):
    """The web role's MediaView: state from Redis, live video relayed from each camera's node."""

    def __init__(self, redis_url: str, key: bytes, stale_after_s: float = STALE_AFTER_S) -> None:
        super().__init__(redis_url, stale_after_s)
        self._key = key
        self._channels: dict[tuple[str, str], RemoteLiveChannel] = {}
        self._channels_lock = threading.Lock()
        self._cache: tuple[float, dict[str, dict]] = (0.0, {})
        self._cache_lock = threading.Lock()

    def _fresh(self) -> dict[str, dict]:
        with self._cache_lock:
            at, value = self._cache
            if time.monotonic() - at < STATE_CACHE_S:
                return value
        value = super()._fresh()
        with self._cache_lock:
            self._cache = (time.monotonic(), value)
        return value

    def address_of(self, camera_id: str) -> str | None:
        """The media address of the node that pulls the camera now, as it publishes it."""
        entry = self._fresh().get(camera_id)
        return entry.get("address") if entry else None

    def live_channel(self, camera_id: str, stream: str = "main") -> RemoteLiveChannel | None:
        if self.address_of(camera_id) is None:
            return None
        with self._channels_lock:
            key = (camera_id, stream)
            if key not in self._channels:
                self._channels[key] = RemoteLiveChannel(camera_id, stream, self.address_of, self._key)
            return self._channels[key]

    def channel(self, camera_id: str, stream: str = "main") -> RemoteLiveChannel:
        channel = self.live_channel(camera_id, stream)
        if channel is None:
            raise KeyError(camera_id)
        return channel

    def upstreams(self) -> int:
        with self._channels_lock:
            return sum(1 for channel in self._channels.values() if channel.upstream is not None)
