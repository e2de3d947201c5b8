"""Check-in windows: a slot is owed (and missed) only once its window closed; today's figure is
"—" (None) before the first window closes, never 0 %; bad windows are refused at start, naming the
file and the field; ``watchwall metrics --json --at`` computes the figures as at an instant."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from watchwall.config.checkin_windows import CheckinWindows, Window
from watchwall.config.settings import SettingsError, get_settings, reset_settings_cache
from watchwall.metrics.checkin_windows import closed_slots, open_slots, recently_closed
from watchwall.metrics.compliance_rules import slots_due
from watchwall.metrics.localtime import SHANGHAI
from watchwall.roles.cli import main


def local(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 4, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def test_a_slot_is_owed_only_once_its_window_closed():
    windows = CheckinWindows()
    assert closed_slots(local(1)) == () and open_slots(local(1)) == ()
    assert closed_slots(local(9)) == () and open_slots(local(9)) == ("morning",)
    assert closed_slots(local(12)) == ("morning",) and open_slots(local(12)) == ("afternoon",)
    assert closed_slots(local(20)) == ("morning", "afternoon") and open_slots(local(20)) == ()
    assert [slots_due(local(h), SHANGHAI, windows) for h in (1, 11, 12, 19, 20)] == [0, 0, 1, 1, 2]
    late = CheckinWindows(
        morning=Window(start=time(7), end=time(10)), afternoon=Window(start=time(14), end=time(18))
    )
    assert closed_slots(local(11), late) == ("morning",) and open_slots(local(11), late) == ()
    closed = recently_closed(local(13), timedelta(hours=24))
    assert [(day.isoformat(), slot) for day, slot, _ in closed] == [
        ("2026-12-03", "afternoon"),
        ("2026-12-04", "morning"),
    ]


@pytest.mark.parametrize(
    ("windows", "field", "message"),
    [
        (
            {"morning": {"start": "12:00", "end": "06:00"}},
            "checkin_windows.morning",
            "before or when it starts",
        ),
        (
            {"morning": {"start": "06:00", "end": "13:00"}, "afternoon": {"start": "12:00", "end": "20:00"}},
            "checkin_windows",
            "overlap",
        ),
        ({"morning": {"start": "06:00", "end": "25:00"}}, "checkin_windows.morning.end", "time"),
    ],
)
def test_invalid_windows_are_refused_at_start_naming_file_and_field(
    tmp_path, monkeypatch, windows, field, message
):
    for key in list(os.environ):
        if key.startswith("WATCHWALL_"):
            monkeypatch.delenv(key)
    config = tmp_path / "ww.yaml"
    config.write_text(json.dumps({"checkin_windows": windows}), encoding="utf-8")  # JSON is YAML
    monkeypatch.setenv("WATCHWALL_CONFIG", str(config))
    monkeypatch.setenv("WATCHWALL_DATA_DIR", str(tmp_path / "data"))
    reset_settings_cache()
    try:
        with pytest.raises(SettingsError) as caught:
            get_settings()
        assert str(config) in str(caught.value) and f"field {field}" in str(caught.value)
        assert message in str(caught.value)
        assert main(["serve", "--port", "0"]) == 2  # refused at start, before anything is opened
        assert not (tmp_path / "data" / "watchwall.db").exists()
    finally:
        reset_settings_cache()


def test_window_model_refuses_end_before_start():
    with pytest.raises(ValidationError, match="before or when it starts"):
        Window(start=time(12), end=time(6))


def test_metrics_at_an_instant(tmp_path, monkeypatch, capsys, demo_database):
    for key in list(os.environ):
        if key.startswith("WATCHWALL_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("WATCHWALL_DATA_DIR", str(tmp_path / "data"))
    reset_settings_cache()
    try:
        yesterday = datetime.now(UTC).astimezone(SHANGHAI) - timedelta(days=1)  # the demo's checks end now
        at = yesterday.replace(hour=1, minute=0, second=0, microsecond=0)
        # the session's demo-data database, copied (tests/metrics loads it by `watchwall demo-data`)
        demo_database(tmp_path / "data")
        assert main(["metrics", "--json", "--at", at.isoformat()]) == 0
        night = json.loads(capsys.readouterr().out)["checkin_compliance"]
        assert night["today"] is None and night["today_due"] == 0 and night["today_pending"] == 0
        assert main(["metrics", "--json", "--at", at.replace(hour=9).isoformat()]) == 0
        morning = json.loads(capsys.readouterr().out)["checkin_compliance"]
        assert morning["today"] is None and morning["today_due"] == 0 and morning["today_pending"] > 0
        assert main(["metrics", "--json", "--at", at.replace(hour=21).isoformat()]) == 0
        evening = json.loads(capsys.readouterr().out)["checkin_compliance"]
        assert evening["today_due"] > 0 and 0 < evening["today"] <= 1
        assert evening["today"] == pytest.approx(evening["today_done"] / evening["today_due"])
        assert main(["metrics", "--json", "--at", "yesterday"]) == 2
        assert "not an ISO 8601 time" in capsys.readouterr().err
    finally:
        reset_settings_cache()
