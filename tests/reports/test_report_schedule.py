"""The report schedule: what is due when, and the thread that has a separate process make them."""

from __future__ import annotations

import os
import time
from datetime import datetime

import pytest
from sqlalchemy import select

from watchwall.audit.log import AuditEntry
from watchwall.config.database import make_engine, upgrade
from watchwall.config.settings import get_settings, reset_settings_cache
from watchwall.config.site import load_site
from watchwall.metrics.localtime import SHANGHAI
from watchwall.reports.due import due_requests
from watchwall.reports.schedule import ReportSchedule
from watchwall.reports.store import list_reports

SITE_YAML = """
name: {zh: 测试市社区矫正, en: Test City Community Corrections}
centres:
  - code: city
    name: {zh: 测试市指挥中心, en: Test command centre}
    level: city
    rooms: [{code: command, name: 指挥大厅, cameras: [{id: city-command-1, name: 大厅, demo: {}}]}]
  - code: qinzhou
    name: {zh: 秦州区社区矫正中心, en: Qinzhou centre}
    short_name: {zh: 秦州区, en: Qinzhou}
    level: county
    rooms: [{code: checkin, name: 报到登记室, cameras: [{id: qinzhou-checkin-1, name: 登记台, demo: {}}]}]
"""


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("now", "day", "month"),
    [
        ("2026-12-05T00:29:59", "2026-12-03", "2026-11"),  # before 00:30: yesterday's is not due yet
        ("2026-12-05T00:30:00", "2026-12-04", "2026-11"),
        ("2026-12-01T00:10:00", "2026-11-29", "2026-10"),  # the 1st before 00:30: November not due yet
        ("2026-12-01T00:31:00", "2026-11-30", "2026-11"),
        ("2027-01-01T08:00:00", "2026-12-31", "2026-12"),
    ],
)
def test_what_is_due_when(tmp_path, now, day, month):
    site_file = tmp_path / "site.yaml"
    site_file.write_text(SITE_YAML, encoding="utf-8")
    requests = due_requests(load_site(site_file), SHANGHAI, local(now), "zh-CN")
    assert sorted(r.report_id for r in requests) == sorted(
        [
            f"qinzhou-daily-{day}-zh-CN",
            f"city-daily-{day}-zh-CN",
            f"qinzhou-monthly-{month}-zh-CN",
            f"city-monthly-{month}-zh-CN",
        ]
    )


def test_the_schedule_makes_the_missing_reports_in_another_process_once(tmp_path, monkeypatch):
    site_file = tmp_path / "site.yaml"
    site_file.write_text(SITE_YAML, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'schedule.db'}"
    upgrade(url)
    env = {
        **os.environ,
        "WATCHWALL_DATA_DIR": str(tmp_path / "data"),
        "WATCHWALL_DATABASE_URL": url,
        "WATCHWALL_SITE": str(site_file),
    }
    for name in ("WATCHWALL_DATA_DIR", "WATCHWALL_DATABASE_URL", "WATCHWALL_SITE"):
        monkeypatch.setenv(name, env[name])
    reset_settings_cache()
    settings = get_settings()
    schedule = ReportSchedule(
        settings, load_site(site_file), interval_s=0.5, first_check_s=0, env=env
    ).start()
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and len(list_reports(settings.data_dir)) < 4:
            time.sleep(0.5)
        time.sleep(2)  # a few more checks: nothing is missing, so no second run
    finally:
        schedule.stop()
        reset_settings_cache()
    stored = list_reports(tmp_path / "data")
    assert sorted((r.scope, r.kind) for r in stored) == [
        ("city", "daily"),
        ("city", "monthly"),
        ("qinzhou", "daily"),
        ("qinzhou", "monthly"),
    ]
    assert schedule.runs == 1
    assert not schedule.thread.is_alive()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            actors = (
                connection.execute(select(AuditEntry.actor).where(AuditEntry.action == "report"))
                .scalars()
                .all()
            )
    finally:
        engine.dispose()
    assert actors == ["system:reports"] * 4
