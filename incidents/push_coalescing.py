"""A flapping incident's pushes, coalesced: what the intake publishes as ``incident.changed``.

A change goes out at once when the incident was not pushed in the last ``every_s`` seconds or its
state changed (opened, reopened). Otherwise (only its count or recovery moved, the camera is
flapping) it waits, the newest summary replacing the one held, and goes out ``every_s`` after the
last push: the pages get every incident's latest state, but a camera flapping every few seconds
costs one push per ``every_s``, not one per alarm. ``every_s`` 0 pushes every change.

Used from one thread (the intake's); not thread-safe.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class PushCoalescer:
    def __init__(
        self,
        publish: Callable[[dict], None],
        every_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.publish = publish
        self.every_s = every_s
        self.clock = clock
        self._pushed: dict[int, tuple[float, str]] = {}  # incident id -> (when, state) of its last push
        self._held: dict[int, dict] = {}
        self.pushes = 0
        self.coalesced = 0

    def offer(self, summary: dict) -> None:
        now = self.clock()
        last = self._pushed.get(summary["id"])
        if last is not None and now - last[0] < self.every_s and last[1] == summary.get("state"):
            held = self._held.get(summary["id"])
            if held is not None:
                self.coalesced += 1
            if held is None or held.get("version", 0) <= summary.get("version", 0):
                self._held[summary["id"]] = summary
            return
        self._held.pop(summary["id"], None)
        self._push(summary, now)

    def due_in(self) -> float | None:
        """Seconds until the first held summary is due; None when nothing is held."""
        if not self._held:
            return None
        now = self.clock()
        return max(0.0, min(self._pushed[key][0] + self.every_s - now for key in self._held))

    def push_due(self) -> None:
        now = self.clock()
        for key in [key for key in self._held if now - self._pushed[key][0] >= self.every_s]:
            self._push(self._held.pop(key), now)
        # an incident pushed longer ago than every_s would be pushed at once anyway: forget it
        for key in [key for key, (at, _) in self._pushed.items() if now - at >= self.every_s]:
            if key not in self._held:
                del self._pushed[key]

    def push_all(self) -> None:
        now = self.clock()
        for key in list(self._held):
            self._push(self._held.pop(key), now)

    def _push(self, summary: dict, now: float) -> None:
        self._pushed[summary["id"]] = (now, summary.get("state"))
        self.pushes += 1
        try:
            self.publish(summary)
        except Exception:
            log.exception("could not publish incident %s", summary.get("id"))
