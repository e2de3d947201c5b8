"""The two recorded cameras, shared by the module's tests (recording them takes seconds)."""

from __future__ import annotations

import pytest

from tests.video.analysis.face_cameras import start_recorded_cameras
from watchwall.config.face_check_settings import CheckinVideoSettings

# a check-in's span kept short, so that the tests wait seconds, not half a minute
CHECKIN_VIDEO = CheckinVideoSettings(
    before_s=3.0, after_s=4.0, settle_margin_s=0.5, settle_timeout_s=40.0, poll_interval_s=0.3
)


@pytest.fixture(scope="module")
def recorded_cameras(tmp_path_factory):
    cameras = start_recorded_cameras(
        tmp_path_factory.mktemp("face-cameras"), {"checkin_video": CHECKIN_VIDEO}
    )
    yield cameras
    cameras.stop()
