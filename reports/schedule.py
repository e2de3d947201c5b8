"""The report schedule: a small thread of the serving process that, once a minute, checks whether
a scheduled report is due and missing (file checks only) and, if so, runs
``python -m watchwall.reports.make_due`` as a separate process at nice 10 and waits for it.

The first check comes five minutes after start, so a short-lived server makes no reports.
The ingest's threads never run report code: the queries, plots and PDF layout happen in that
other process, which the kernel schedules below the ingest.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from datetime import UTC, datetime

from watchwall.config.site import Site
from watchwall.reports.due import missing_requests

log = logging.getLogger(__name__)
CHECK_INTERVAL_S = 60.0
RUN_TIMEOUT_S = 3600.0
RETRY_AFTER_S = 1800.0
# A process that starts (a restart, a test's server) leaves the reports alone for a while first.
FIRST_CHECK_AFTER_S = 300.0


class ReportSchedule:
    def __init__(
        self,
        settings,
        site: Site,
        *,
        interval_s: float = CHECK_INTERVAL_S,
        first_check_s: float = FIRST_CHECK_AFTER_S,
        env: dict | None = None,
    ):
        self.settings = settings
        self.site = site
        self.interval_s = interval_s
        self.first_check_s = first_check_s
        self.env = env
        self.stopping = threading.Event()
        self.process: subprocess.Popen | None = None
        self.runs = 0
        self.thread = threading.Thread(target=self._loop, name="report-schedule", daemon=True)

    def start(self) -> ReportSchedule:
        self.thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
        self.thread.join(timeout)

    def _loop(self) -> None:
        self.stopping.wait(self.first_check_s)
        while not self.stopping.is_set():
            wait = self.interval_s
            try:
                if missing_requests(self.site, self.settings, datetime.now(UTC)):
                    self._make_due()
                    if missing_requests(self.site, self.settings, datetime.now(UTC)):
                        wait = max(wait, RETRY_AFTER_S)  # some failed: not again every minute
            except Exception:
                log.exception("report schedule: checking for due reports failed")
            self.stopping.wait(wait)

    def _make_due(self) -> None:
        self.runs += 1
        self.process = subprocess.Popen(
            [sys.executable, "-m", "watchwall.reports.make_due"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            out, err = self.process.communicate(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
        if self.process.returncode != 0 and not self.stopping.is_set():
            log.error("scheduled reports failed (exit %s): %s", self.process.returncode, err.strip()[-2000:])
        elif out.strip():
            log.info("scheduled reports made: %s", ", ".join(out.split()))
        self.process = None


def start_report_schedule(settings, site: Site) -> ReportSchedule:
    """The hook ``watchwall serve`` calls: the schedule's thread, started."""
    return ReportSchedule(settings, site).start()
