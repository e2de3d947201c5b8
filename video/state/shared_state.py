"""The media plane's current state across processes, in Redis: ingest nodes publish, web roles read.

Every ``interval_s`` a node writes one JSON value per camera it pulls (its health snapshot and
alarm log) into the hash ``watchwall:cameras`` and its latest thumbnail under
``watchwall:thumbnail:<camera>`` (expiring). A web role reads them through
:class:`SharedStateView`, the cross-process :class:`~watchwall.video.state.view.MediaView`: a page that
connects or reconnects to any web process sees every camera's state and open alarms, whichever
node pulls it. Values older than ``stale_after_s`` (a node that died) are not shown.
"""

from __future__ import annotations

import json
import logging
import threading
import time

import redis

from watchwall.config.errors import first_line
from watchwall.video.ingest.health import HealthSnapshot
from watchwall.video.state.view import MediaView, snapshot_from_dict

log = logging.getLogger(__name__)

CAMERAS_KEY = "watchwall:cameras"
THUMBNAIL_KEY = "watchwall:thumbnail:{camera_id}"
DEFAULT_INTERVAL_S = 2.0
STALE_AFTER_S = 10.0
LINK_CHECK_S = 1.0


class StatePublisher:
    """Publishes one process's cameras (through its local view) to Redis, on a thread of its own."""

    def __init__(
        self,
        redis_url: str,
        view: MediaView,
        node: str,
        interval_s: float = DEFAULT_INTERVAL_S,
        address: str | None = None,
    ) -> None:
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self._view = view
        self._node = node
        self._address = address  # where web nodes ask for the live video (the node's media server)
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="state-publisher", daemon=True)
        self._thumbnail_sent: dict[str, int] = {}

    def start(self) -> StatePublisher:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.publish_once()
            except redis.RedisError as exc:  # Redis away: pages show their connection state; retry
                log.warning("state publisher: Redis unreachable: %s", exc)
                self._thumbnail_sent.clear()  # a Redis that comes back empty gets every thumbnail again
            self._stop.wait(self._interval_s)

    def publish_once(self) -> int:
        now = time.time()
        values = {}
        pipe = self._redis.pipeline(transaction=False)
        for camera_id, snapshot in self._view.health().items():
            values[camera_id] = json.dumps(
                {
                    "node": self._node,
                    "address": self._address,
                    "published_at": now,
                    "health": snapshot.as_dict(),
                    "alarms": self._view.alarms(camera_id),
                },
                ensure_ascii=False,
                default=str,
            )
            jpeg = self._view.thumbnail(camera_id)
            if jpeg is not None and self._thumbnail_sent.get(camera_id) != id(jpeg):
                pipe.set(THUMBNAIL_KEY.format(camera_id=camera_id), jpeg, ex=int(STALE_AFTER_S * 6))
                self._thumbnail_sent[camera_id] = id(jpeg)
        if values:
            pipe.hset(CAMERAS_KEY, mapping=values)
        pipe.execute()
        return len(values)


class SharedStateView:
    """The cross-process MediaView of a web role: what the nodes last published."""

    def __init__(self, redis_url: str, stale_after_s: float = STALE_AFTER_S) -> None:
        self._redis = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self._stale_after_s = stale_after_s
        self._link: tuple[float, str | None] = (float("-inf"), None)  # (checked at, problem)

    def state_problem(self) -> str | None:
        """Why the shared state cannot be read now (the pages then say "connection lost"), or None.
        Asked at most once a second, whatever the number of pages asking."""
        checked_at, problem = self._link
        if time.monotonic() - checked_at < LINK_CHECK_S:
            return problem
        try:
            self._redis.ping()
            problem = None
        except redis.RedisError as exc:
            problem = first_line(exc)
        self._link = (time.monotonic(), problem)
        return problem

    def _fresh(self) -> dict[str, dict]:
        try:
            raw = self._redis.hgetall(CAMERAS_KEY)
        except redis.RedisError as exc:
            log.warning("shared state: Redis unreachable: %s", exc)
            return {}
        oldest = time.time() - self._stale_after_s
        fresh = {}
        for key, value in raw.items():
            try:
                entry = json.loads(value)
            except ValueError:
                continue
            if float(entry.get("published_at", 0)) >= oldest:
                fresh[key.decode() if isinstance(key, bytes) else key] = entry
        return fresh

    def health(self) -> dict[str, HealthSnapshot]:
        return {camera_id: snapshot_from_dict(entry["health"]) for camera_id, entry in self._fresh().items()}

    def camera_health(self, camera_id: str) -> HealthSnapshot | None:
        entry = self._fresh().get(camera_id)
        return snapshot_from_dict(entry["health"]) if entry else None

    def alarms(self, camera_id: str) -> list[dict]:
        entry = self._fresh().get(camera_id)
        return list(entry.get("alarms") or []) if entry else []

    def thumbnail(self, camera_id: str) -> bytes | None:
        try:
            return self._redis.get(THUMBNAIL_KEY.format(camera_id=camera_id))
        except redis.RedisError:
            return None

    def live_channel(self, camera_id: str, stream: str = "main"):
        return None  # live video stays on the node that pulls the camera

    def channel(self, camera_id: str, stream: str = "main"):
        raise KeyError(camera_id)

    def stream_states(self, camera_id: str) -> dict[str, tuple[str, str | None]]:
        entry = self._fresh().get(camera_id)
        if entry is None:
            raise KeyError(camera_id)
        streams = entry["health"].get("streams") or {}
        return {name: (summary.get("state"), summary.get("codec")) for name, summary in streams.items()}

    def recorder_figures(self) -> dict[str, dict]:
        return {}
