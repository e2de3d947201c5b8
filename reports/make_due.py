"""``python -m watchwall.reports.make_due``: make the scheduled reports that are due and missing.

Run by the schedule (``watchwall.reports.schedule``) as its own process at nice 10, so that
queries, plots and PDF layout never take the serving process's interpreter from the ingest.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import UTC, datetime

from watchwall.config.database import make_engine
from watchwall.config.settings import get_settings
from watchwall.config.site import Site
from watchwall.reports.cli import open_site
from watchwall.reports.due import missing_requests
from watchwall.reports.generate import generate_report
from watchwall.reports.store import stored_path

ACTOR = "system:reports"
NICENESS = 10
log = logging.getLogger(__name__)


def make_due_reports(engine, site: Site, settings, now: datetime) -> list[str]:
    """Generate each missing due report; the ids made. A failing report is logged and skipped."""
    made = []
    for request in missing_requests(site, settings, now):
        try:
            generate_report(
                engine,
                site,
                request,
                stored_path(settings.data_dir, request),
                data_dir=settings.data_dir,
                zone=settings.zone,
                actor=ACTOR,
                now=now,
            )
        except Exception:
            log.exception("scheduled report %s failed", request.report_id)
            continue
        made.append(request.report_id)
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="make the supervision reports that are due")
    parser.add_argument("--now", help="ISO 8601 instant to take as now (for tests)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.nice(NICENESS)  # below the ingest and the pages, whatever the machine's load
    now = datetime.fromisoformat(args.now) if args.now else datetime.now(UTC)
    settings = get_settings()
    settings.ensure_data_dir()
    engine = make_engine(settings.effective_database_url)
    try:
        made = make_due_reports(engine, open_site(settings, engine), settings, now)
    finally:
        engine.dispose()
    for report_id in made:
        print(report_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
