"""Scheduled roll-calls fire within their window, once each, and the day's plan survives a restart
of ``watchwall serve`` (it is kept in the database, not redrawn)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from tests.support.rtsp_process import wait_until

pytestmark = [pytest.mark.slow]

ZONE = ZoneInfo("Asia/Shanghai")
PER_DAY = 2
OPENS_IN_S, CLOSES_IN_S = 5, 45
COUNTDOWN_S = 5


def site_file(folder):
    path = folder / "site.yaml"
    path.write_text(
        "centres:\n"
        "  - {code: tianshui, name: 天水市, level: city}\n"
        "  - code: qinzhou\n"
        "    name: 秦州区\n"
        "    level: county\n"
        "    rooms:\n"
        "      - code: duty\n"
        "        kind: monitoring\n"
        "        name: 值班室\n"
        "        cameras:\n"
        "          - {id: qinzhou-duty, name: duty, rtsp: 'rtsp://127.0.0.1:9/duty'}\n"
        "  - {code: maiji, name: 麦积区, level: county}\n",
        encoding="utf-8",
    )
    return path


def rows(engine, sql: str) -> list[dict]:
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(text(sql))]


def aware(value) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_scheduled_roll_calls_fire_within_their_window_and_survive_a_restart(tmp_path, served_factory):
    now = datetime.now(UTC).astimezone(ZONE)
    opens = (now + timedelta(seconds=OPENS_IN_S)).replace(microsecond=0)
    closes = (now + timedelta(seconds=CLOSES_IN_S)).replace(microsecond=0)
    if closes.date() != now.date():
        pytest.skip("too close to local midnight for a window within one day")
    database = f"sqlite:///{tmp_path / 'watchwall.db'}"
    server = served_factory(
        tmp_path,
        {
            "WATCHWALL_DATABASE_URL": database,
            "WATCHWALL_SITE": str(site_file(tmp_path)),
            "WATCHWALL_ROLLCALL": json.dumps(
                {
                    "countdown_s": COUNTDOWN_S,
                    "tick_s": 0.3,
                    "schedule": {
                        "qinzhou": {
                            "per_day": PER_DAY,
                            "start": opens.strftime("%H:%M:%S"),
                            "end": closes.strftime("%H:%M:%S"),
                        }
                    },
                }
            ),
        },
    )
    engine = create_engine(database)
    try:
        server.start("--no-ingest")
        plans = wait_until(
            lambda: rows(engine, "SELECT * FROM rollcall_plans ORDER BY slot"), 10, 0.2, "the plan"
        )
        assert len(plans) == PER_DAY and {p["county"] for p in plans} == {"qinzhou"}  # maiji has no schedule
        # a restart in the middle of the window keeps the plan
        time.sleep(OPENS_IN_S + 2)
        server.stop()
        server.start("--no-ingest")
        drawn = "SELECT id, county, day, slot, due_at FROM rollcall_plans ORDER BY slot"
        assert rows(engine, drawn) == [
            {k: p[k] for k in ("id", "county", "day", "slot", "due_at")} for p in plans
        ]
        remaining = (closes.astimezone(UTC) - datetime.now(UTC)).total_seconds()
        wait_until(
            lambda: len(rows(engine, "SELECT id FROM rollcalls WHERE origin = 'scheduled'")) == PER_DAY,
            remaining + COUNTDOWN_S + 5,
            0.3,
            "both scheduled roll-calls",
        )
        time.sleep(2)
        fired = rows(engine, "SELECT * FROM rollcalls WHERE origin = 'scheduled' ORDER BY started_at")
        assert len(fired) == PER_DAY  # each fired once, across the restart
        # two times drawn within one countdown of each other: the second waits for the first to end
        window = (opens.astimezone(UTC), closes.astimezone(UTC) + timedelta(seconds=COUNTDOWN_S + 2))
        for rollcall in fired:
            assert window[0] <= aware(rollcall["started_at"]) <= window[1]
        plans = rows(engine, "SELECT * FROM rollcall_plans ORDER BY due_at")
        for plan, rollcall in zip(plans, fired, strict=True):
            assert plan["rollcall_id"] == rollcall["id"] and plan["outcome"] == "started"
            started, due = aware(rollcall["started_at"]), aware(plan["due_at"])
            # on time, or (for one due during the restart) fired as soon as the server was back
            assert due <= started <= due + timedelta(seconds=20)
        calls = rows(engine, "SELECT county, camera_id FROM rollcall_calls")
        assert calls == [{"county": "qinzhou", "camera_id": "qinzhou-duty"}] * PER_DAY
        audit = rows(engine, "SELECT actor FROM audit_log WHERE action = 'rollcall.start'")
        assert [a["actor"] for a in audit] == ["system:rollcall-schedule"] * PER_DAY
    finally:
        server.stop()
        engine.dispose()
