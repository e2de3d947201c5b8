"""Audit rows for watching: live views (start, and end with duration), snapshots, and playback
(once per user, camera and span, whichever byte range the player asks for first).

Kept per web process and bounded; a second process may write a span's playback row once more,
never less than once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

import flask

SNAPSHOT_REPEAT_S = 300.0  # the same user's posters of the same camera within 5 minutes: one row
MAX_REMEMBERED = 20_000
EXTENSION_KEY = "watchwall.view_audit"


class Once:
    """Remembers keys for ``ttl_s`` (forever when None); ``first(key)`` is True once per key."""

    def __init__(self, ttl_s: float | None = None, max_keys: int = MAX_REMEMBERED) -> None:
        self.ttl_s = ttl_s
        self.max_keys = max_keys
        self._seen: OrderedDict[object, float] = OrderedDict()
        self._lock = threading.Lock()

    def first(self, key, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            seen = self._seen.get(key)
            if seen is not None and (self.ttl_s is None or now - seen < self.ttl_s):
                return False
            self._seen[key] = now
            self._seen.move_to_end(key)
            while len(self._seen) > self.max_keys:
                self._seen.popitem(last=False)
            return True


class ViewAudit:
    """The audit rows of one web app's viewers; ``audit`` is ``watchwall.dashboard.auth.audit``."""

    def __init__(self, audit) -> None:
        self.audit = audit
        self.playbacks = Once()
        self.snapshots = Once(ttl_s=SNAPSHOT_REPEAT_S)

    def playback(self, user: str, camera_id: str, span: tuple[str, str]) -> bool:
        """Audit a span's playback the first time any range of it is served to ``user``."""
        if not self.playbacks.first((user, camera_id, span)):
            return False
        self.audit("playback", target=camera_id, detail={"from_utc": span[0], "to_utc": span[1]})
        return True

    def snapshot(self, user: str, camera_id: str, size: int) -> None:
        if self.snapshots.first((user, camera_id)):
            self.audit("snapshot", target=camera_id, detail={"bytes": size})

    def live_started(self, camera_ids: list[str]) -> float:
        self.audit("live_view", target=_target(camera_ids), detail={"cameras": camera_ids})
        return time.monotonic()

    def live_ended(self, camera_ids: list[str], started: float, actor: str) -> None:
        duration = round(time.monotonic() - started, 1)
        self.audit(
            "live_view_end",
            target=_target(camera_ids),
            detail={"cameras": camera_ids, "duration_s": duration},
            actor=actor,
        )


def _target(camera_ids: list[str]) -> str:
    return camera_ids[0] if len(camera_ids) == 1 else f"{len(camera_ids)} cameras"


def install(server: flask.Flask, audit) -> ViewAudit:
    server.extensions[EXTENSION_KEY] = views = ViewAudit(audit)
    return views


def views() -> ViewAudit:
    """The running app's ViewAudit."""
    return flask.current_app.extensions[EXTENSION_KEY]
