"""The incidents' background loop: escalate what is overdue, open incidents for missed check-in
slots (once their window closed) and out-of-area checks, bookmark camera incidents' recordings. Runs beside the web server
(``watchwall serve``); each pass is idempotent, so two web nodes may run it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from watchwall.config.settings import Settings
from watchwall.incidents.bookmarking import bookmark_new_incidents, default_title
from watchwall.incidents.checkin_source import missed_slot_reports, out_of_area_reports
from watchwall.incidents.store import apply_reports, escalate_overdue, write_audit

log = logging.getLogger(__name__)


class IncidentWatch:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        publish: Callable[[dict], None],
        bookmark_title: Callable = default_title,
    ) -> None:
        self.engine = engine
        self.bookmark_title = bookmark_title
        self.settings = settings
        self.publish = publish
        self._done_slots: set[tuple[date, str]] = set()
        self._after_check_id = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0

    def run_once(self, now: datetime | None = None) -> list[dict]:
        """One pass; returns the incidents it changed (also published)."""
        now = now or datetime.now(UTC)
        changed: list[dict] = []
        reports = missed_slot_reports(
            self.engine, now, self.settings.checkin_windows, self.settings.zone, self._done_slots
        )
        area, self._after_check_id = out_of_area_reports(self.engine, now, self._after_check_id)
        reports += area
        if reports:
            summaries, audits = apply_reports(self.engine, reports, self.settings.incidents)
            write_audit(self.engine, audits)
            changed += summaries
        changed += escalate_overdue(self.engine, now)
        bookmark_new_incidents(self.engine, now, self.bookmark_title)
        for summary in changed:
            self.publish(summary)
        self.passes += 1
        return changed

    def start(self) -> IncidentWatch:
        self._thread = threading.Thread(target=self._run, name="incident-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except SQLAlchemyError as exc:  # database restarting: try again next pass
                log.warning("incident watch: %s", exc)
            except Exception:
                log.exception("incident watch pass failed")
            self._stop.wait(self.settings.incidents.watch_interval_s)
