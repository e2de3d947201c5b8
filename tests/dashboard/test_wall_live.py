"""/wall against real RTSP cameras (GStreamer's RTSP server): tiles play, outages alarm and clear."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "servers"))

from rtsp_process import RtspServerProcess  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.rtsp]

CAMERAS = [f"/cam{index}" for index in range(8)]


@pytest.fixture(scope="module")
def cameras():
    server = RtspServerProcess({path: "h264" for path in CAMERAS}).start()
    yield server
    server.kill()


def site_file(folder: Path, server: RtspServerProcess) -> Path:
    lines = ["centres:"]
    for centre, level in (("tianshui", "city"), ("qinzhou", "county")):
        lines += [
            f"  - code: {centre}",
            f"    name: {{zh: {centre}中心, en: {centre.title()} Centre}}",
            f"    level: {level}",
            "    rooms:",
            "      - code: checkin",
            "        name: {zh: 报到登记室, en: Check-in room}",
            "        cameras:",
        ]
        for index, path in enumerate(CAMERAS[:4] if centre == "tianshui" else CAMERAS[4:]):
            lines += [
                f"          - id: {centre}-cam{index}",
                f"            name: 摄像机 {index}",
                f"            rtsp: {server.url(path)}",
            ]
    path = folder / "site.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def live_served(tmp_path_factory, cameras, served_factory):
    folder = tmp_path_factory.mktemp("live-site")
    server = served_factory(folder, {"WATCHWALL_SITE": str(site_file(folder, cameras))})
    server.start("--no-record")
    yield server
    server.stop()


PLAYBACK = """() => [...document.querySelectorAll('.tile video')].map(v => ({
    camera: v.getAttribute('data-live-camera'), time: v.currentTime,
    frames: v.getVideoPlaybackQuality().totalVideoFrames,
    lag: v.buffered.length ? v.buffered.end(v.buffered.length - 1) - v.currentTime : null}))"""


def playing(page, before: list[dict] | None = None) -> list[dict]:
    now = page.evaluate(PLAYBACK)
    if before is None:
        return now
    earlier = {item["camera"]: item for item in before}
    return [
        item
        for item in now
        if item["camera"] in earlier
        and item["time"] > earlier[item["camera"]]["time"]
        and item["frames"] > earlier[item["camera"]]["frames"]
    ]


def wait_all_playing(page, count: int, timeout: float) -> list[dict]:
    deadline = time.monotonic() + timeout
    snapshot = playing(page)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        advancing = playing(page, snapshot)
        if len(advancing) >= count:
            return advancing
        snapshot = playing(page)
    raise AssertionError(f"fewer than {count} tiles play: {playing(page)}")


def test_tiles_play_and_an_outage_alarms_then_clears(login, browser, live_served, cameras, screenshots):
    context = login(browser, live_served, "command", viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    try:
        page.goto(f"{live_served.url}/wall?lang=en")
        page.wait_for_selector(".tile video", timeout=30_000)
        tiles = wait_all_playing(page, 8, timeout=60)
        lags = [item["lag"] for item in playing(page)]
        (screenshots / "wall-live-lag.json").write_text(json.dumps({"lag_s": lags}), encoding="utf-8")
        assert max(lags) < 3.0, f"tiles lag the live edge: {lags}"
        assert len(tiles) >= 8
        page.screenshot(path=str(screenshots / "wall-live-rtsp.png"))

        killed_at = time.monotonic()
        cameras.kill()
        page.wait_for_selector(".ticker-item[data-kind=video_loss]", timeout=3_000)
        first_alarm_s = time.monotonic() - killed_at
        page.wait_for_function(
            "document.querySelectorAll('.ticker-item[data-kind=video_loss]').length >= 8", timeout=15_000
        )
        page.wait_for_selector(".tile[data-state=offline], .tile[data-state=stalled]", timeout=10_000)
        page.screenshot(path=str(screenshots / "wall-live-outage.png"))

        cameras.start()
        # (the test pattern is a ball on black: the tamper analytics may rightly call it covered)
        page.wait_for_function(
            "document.querySelectorAll('.ticker-item[data-kind=video_loss]').length === 0", timeout=30_000
        )
        wait_all_playing(page, 8, timeout=60)
        (screenshots / "wall-live-alarm.json").write_text(json.dumps({"first_alarm_s": first_alarm_s}))
    finally:
        context.close()
