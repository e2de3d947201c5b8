"""Figures kept between push refreshes.

A page's figures change when the case data moves (what the push watcher's fingerprint,
``watchwall.dashboard.push.metrics_fingerprint``, compares before it pushes a refresh) or when the clock
moves them (a new local day, a check-in slot falling due). Between those moments every page that
refreshes asks for the same figures, so each is computed once per key and kept: a few per process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from typing import Any

from watchwall.dashboard.context import AppContext
from watchwall.dashboard.push import metrics_fingerprint
from watchwall.metrics.compliance_rules import slots_due
from watchwall.metrics.localtime import local_day

EXTRAS_KEY = "figure_cache"


class FigureCache:
    """Values by key, the least recently used dropped past ``max_entries``; safe across threads."""

    def __init__(self, max_entries: int = 64) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key]
        value = compute()  # outside the lock: two threads may compute the same key once each
        with self._lock:
            self.misses += 1
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value


def figure_cache(context: AppContext) -> FigureCache:
    return context.extras.setdefault(EXTRAS_KEY, FigureCache())


def data_moment(context: AppContext, now: datetime | None = None) -> tuple:
    """What, beside the question itself, decides the figures: the local day, the slots owed so
    far today and the case data's fingerprint."""
    now = now or datetime.now(UTC)
    zone = context.settings.zone
    return (
        local_day(now, zone),
        slots_due(now, zone, context.settings.checkin_windows),
        metrics_fingerprint(context),
    )


def cached(context: AppContext, question: tuple, compute: Callable[[], Any]) -> Any:
    """``compute()``'s answer to ``question`` (e.g. ``("county", code, language)``), computed
    again only once the data or the clock has moved it."""
    return figure_cache(context).get((*question, *data_moment(context)), compute)
