"""A demo camera with its wall-clock overlay (encoded live, MPEG-TS through a pipe) plays in Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import ARTIFACTS, login_as

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SITE = """centres:
  - code: qinzhou
    name: {zh: 秦州区社区矫正中心, en: Qinzhou Centre}
    short_name: {zh: 秦州区, en: Qinzhou}
    level: county
    rooms:
      - code: checkin
        name: {zh: 报到登记室, en: Check-in room}
        cameras:
          - id: qinzhou-checkin-1
            name: {zh: 登记台, en: Desk}
            demo: {pattern: room}
"""


def test_a_live_demo_camera_plays_with_its_clock(served_factory, browser, tmp_path: Path):
    folder = tmp_path / "srv"
    folder.mkdir()
    (folder / "site.yaml").write_text(SITE, encoding="utf-8")
    server = served_factory(
        folder,
        {
            "WATCHWALL_SITE": str(folder / "site.yaml"),
            "WATCHWALL_DATABASE_URL": f"sqlite:///{folder / 'watchwall.db'}",
        },
        users=("sup-qinzhou",),
    )
    server.start("--no-record")
    try:
        context = login_as(browser, server, "sup-qinzhou", viewport={"width": 1920, "height": 1080})
        page = context.new_page()
        page.goto(f"{server.url}/centres/qinzhou?lang=en")
        page.wait_for_function(
            "() => { const v = document.querySelector('#centre-live'); return v && v.readyState >= 2"
            " && v.currentTime > 2 && v.getVideoPlaybackQuality().totalVideoFrames > 20; }",
            timeout=90_000,
        )
        shots = ARTIFACTS / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        page.locator("#centre-live").screenshot(path=str(tmp_path / "demo-clock-live.png"))
        (shots / "demo-clock-live.png").write_bytes((tmp_path / "demo-clock-live.png").read_bytes())
        context.close()
    finally:
        server.stop()
