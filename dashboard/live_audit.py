"""The live views' audit rows, written by one thread of the web process instead of the sockets'.

Why: every audit row takes the one ``audit_head`` row lock (the hash chain is serial). When a
wall of 100 viewers connects at once, 100 socket threads each waited for that lock and for one
of the database pool's 15 connections before their first frame; under a loaded machine that
wait reached the pool's 30 s timeout and the sockets stalled (benchmarks/cluster/relay.py). Here
a socket only puts its row on a queue; one writer appends them in order, so a slow or locked
database delays the audit rows, never the video. A row keeps the time of the event.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from watchwall.audit.log import append

log = logging.getLogger(__name__)

EXTENSION_KEY = "watchwall.live_audit"
MAX_PENDING = 10_000
RETRY_S = 2.0
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class Row:
    actor: str
    action: str
    target: str
    detail: dict
    address: str | None
    at: datetime


class LiveAuditWriter:
    """Appends the queued rows to the audit log, one at a time, on a daemon thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._queue: queue.Queue[Row] = queue.Queue(MAX_PENDING)
        self._thread = threading.Thread(target=self._run, name="live-audit", daemon=True)
        self._thread.start()

    def put(self, actor: str, action: str, target: str, detail: dict, address: str | None) -> None:
        row = Row(actor, action, target, detail, address, datetime.now(UTC))
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            log.error(
                "live audit queue full (database down?): %s %s by %s not audited", action, target, actor
            )

    def pending(self) -> int:
        return self._queue.qsize()

    def flush(self, timeout: float) -> bool:
        """Wait until every queued row is written (tests, shutdown); False if time ran out."""
        done = threading.Event()
        threading.Thread(target=lambda: (self._queue.join(), done.set()), daemon=True).start()
        return done.wait(timeout)

    def _run(self) -> None:
        while True:
            row = self._queue.get()
            try:
                self._write(row)
            finally:
                self._queue.task_done()

    def _write(self, row: Row) -> None:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                append(
                    self.engine,
                    actor=row.actor,
                    action=row.action,
                    target=row.target,
                    detail=row.detail,
                    address=row.address,
                    at=row.at,
                )
                return
            except Exception:  # the database is down or refused: try again, then say so
                if attempt == MAX_ATTEMPTS:
                    log.exception("live audit row %s %s by %s not written", row.action, row.target, row.actor)
                    return
                threading.Event().wait(RETRY_S * attempt)
