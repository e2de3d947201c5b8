"""Retention days saved in /admin (the settings file) apply to a running retention loop, no restart."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from tests.video.record.test_recording_service import DAY, one_camera_site, record_clip
from watchwall.config import retention_setting
from watchwall.config.database import session_scope
from watchwall.config.errors import UserError
from watchwall.config.settings import Settings
from watchwall.video.ingest.supervisor import IngestService
from watchwall.video.record.models import SEGMENT_CLOSED, SEGMENT_PRUNED, RecordingSegment
from watchwall.video.record.recording_service import start_site_recording
from watchwall.video.record.segments import default_recordings_dir


@pytest.fixture
def no_retention_env(monkeypatch):
    monkeypatch.delenv("WATCHWALL_CONFIG", raising=False)
    monkeypatch.delenv(retention_setting.ENV_NAME, raising=False)


def wait_for(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert predicate(), f"{what} within {seconds:g} s"


def test_saved_days_apply_at_the_next_pass_of_a_running_loop(engine, tmp_path, monkeypatch, no_retention_env):
    settings = Settings(data_dir=tmp_path, retention_days=30, recording_segment_s=5)
    (tmp_path / "watchwall.yaml").write_text("thumbnail_interval_s: 12\n", encoding="utf-8")
    recordings_dir = default_recordings_dir(settings)
    now = time.time()
    record_clip(engine, recordings_dir, now - 20 * DAY)  # kept under 30 days, deleted under 14
    record_clip(engine, recordings_dir, now - 2 * DAY)
    ingest = IngestService(one_camera_site(), settings=settings, keyframes=False)
    recording = start_site_recording(
        ingest, engine, settings, audit=lambda **_: None, retention_interval_s=0.2
    )
    try:
        wait_for(lambda: recording.retention.passes >= 2, 30, "two passes")
        assert recording.retention.deleted == 0

        retention_setting.save_days(settings, 14)
        wait_for(lambda: recording.retention.deleted == 1, 30, "the 20-day-old segment deleted")
        assert recording.retention.policy.default_days == 14
    finally:
        recording.stop(timeout=10)
    with session_scope(engine) as session:
        statuses = session.scalars(select(RecordingSegment.status).order_by(RecordingSegment.start_utc)).all()
    assert statuses == [SEGMENT_PRUNED, SEGMENT_CLOSED]
    saved = (tmp_path / "watchwall.yaml").read_text(encoding="utf-8")
    assert "retention_days: 14" in saved and "thumbnail_interval_s: 12" in saved  # other keys kept
    monkeypatch.setenv("WATCHWALL_DATA_DIR", str(tmp_path))
    assert Settings().retention_days == 14  # and a restart reads the same


def test_bad_days_are_refused_and_the_environment_wins(tmp_path, monkeypatch, no_retention_env):
    settings = Settings(data_dir=tmp_path, retention_days=30)
    for days in (0, 3651):
        with pytest.raises(UserError):
            retention_setting.save_days(settings, days)
    assert not (tmp_path / "watchwall.yaml").exists()
    retention_setting.save_days(settings, 21)
    assert retention_setting.current_days(settings) == 21
    monkeypatch.setenv(retention_setting.ENV_NAME, "9")
    assert retention_setting.set_by_environment()
    assert retention_setting.current_days(Settings(data_dir=tmp_path)) == 9
