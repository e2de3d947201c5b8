"""Two streams per camera in Debian's Chromium, against a real camera server (GStreamer: H.265 main
with x265enc + rtph265pay, H.264 sub with x264enc + rtph264pay) and a real ``watchwall serve``.

- The wall tile plays the sub stream, and says so; the recording is the main stream, H.265 at its size.
- The centre page's full-screen view wants the main stream; Debian's Chromium has no HEVC in MSE,
  so it falls back to the sub stream, and says why.
- The sub stream's path dropped alone on the server: recording goes on with no gap rows, and the
  tile falls back (no other stream this browser plays: thumbnails), and says so.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.rtsp_process import RtspServerProcess, wait_until
from watchwall.config.database import make_engine
from watchwall.video.record.models import RecordingGap, RecordingSegment

pytestmark = [pytest.mark.browser, pytest.mark.rtsp]

MAIN_SIZE, SUB_SIZE = (640, 360), (320, 180)


@pytest.fixture(scope="module")
def camera_server():
    server = RtspServerProcess({"/main": "h265@640x360", "/sub": "h264@320x180"}).start()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def two_stream_served(tmp_path_factory, camera_server, served_factory):
    folder = tmp_path_factory.mktemp("two-streams")
    site = folder / "site.yaml"
    site.write_text(
        "centres:\n"
        "  - code: qinzhou\n"
        "    name: {zh: 秦州区社区矫正中心, en: Qinzhou District Centre}\n"
        "    level: county\n"
        "    rooms:\n"
        "      - code: checkin\n"
        "        name: {zh: 报到登记室, en: Check-in room}\n"
        "        cameras:\n"
        "          - id: door\n"
        "            name: {zh: 报到登记室 门口, en: Check-in door}\n"
        f"            rtsp: {camera_server.url('/main')}\n"
        f"            sub_rtsp: {camera_server.url('/sub')}\n",
        encoding="utf-8",
    )
    env = {
        "WATCHWALL_SITE": str(site),
        "WATCHWALL_RECORDING_SEGMENT_S": "3",
        "WATCHWALL_THUMBNAIL_INTERVAL_S": "1",
    }
    server = served_factory(folder, env, users=("command", "sup-qinzhou"))
    server.start(timeout=300)  # a shared machine under load can take minutes to import and migrate
    yield server
    server.stop()


VIDEO = """(selector) => { const v = document.querySelector(selector); if (!v) return null;
    const label = v.parentElement.querySelector('.live-stream-label');
    return {stream: v.getAttribute('data-stream'), want: v.getAttribute('data-stream-want'),
            reason: v.getAttribute('data-stream-reason'), state: v.getAttribute('data-player-state'),
            width: v.videoWidth, height: v.videoHeight, frames: v.getVideoPlaybackQuality().totalVideoFrames,
            poster: v.getAttribute('poster'), label: label ? label.textContent : null}; }"""


def video_state(page, selector: str) -> dict | None:
    return page.evaluate(VIDEO, selector)


def wait_video(page, selector: str, check, what: str, timeout: float = 60) -> dict:
    return wait_until(
        lambda: (lambda state: state if state and check(state) else None)(video_state(page, selector)),
        timeout,
        interval=0.25,
        what=what,
    )


def database(server):
    return make_engine(f"sqlite:///{Path(server.env['WATCHWALL_DATA_DIR']) / 'watchwall.db'}")


def test_debian_chromium_has_no_hevc_in_mse(browser):
    page = browser.new_page()
    try:
        page.set_content("<html><body></body></html>")
        supported = page.evaluate(
            "() => ['hvc1.1.6.L93.B0', 'hev1.1.6.L93.B0', 'avc1.42E01E'].map("
            "c => MediaSource.isTypeSupported('video/mp4; codecs=\"' + c + '\"'))"
        )
    finally:
        page.close()
    assert supported == [False, False, True]  # the premise of the fallbacks below


def test_wall_tile_plays_the_sub_stream_and_the_main_stream_is_recorded(
    login, browser, two_stream_served, screenshots
):
    context = login(browser, two_stream_served, "command", viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    try:
        page.goto(f"{two_stream_served.url}/wall")
        tile = ".tile[data-camera=door] video"
        state = wait_video(
            page,
            tile,
            lambda s: s["stream"] == "sub" and s["frames"] > 10 and s["width"] > 0,
            "tile on the sub stream",
        )
        assert (state["width"], state["height"]) == SUB_SIZE
        assert (state["want"], state["reason"], state["label"]) == ("sub", "", "子码流")
        page.screenshot(path=str(screenshots / "wall-two-streams-sub-tile.png"))
    finally:
        context.close()
    engine = database(two_stream_served)
    try:
        wait_until(lambda: _closed_segments(engine), 60, what="a closed segment")
        for path, codec, width, height in _closed_segments(engine):
            assert (codec, width, height) == ("hevc", *MAIN_SIZE)
            probed = _ffprobe(Path(two_stream_served.env["WATCHWALL_DATA_DIR"]) / "recordings" / path)
            assert (probed["codec_name"], probed["width"], probed["height"]) == ("hevc", *MAIN_SIZE)
    finally:
        engine.dispose()


def test_full_screen_view_falls_back_to_the_sub_stream_and_says_why(
    login, browser, two_stream_served, screenshots
):
    context = login(browser, two_stream_served, "sup-qinzhou", viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    try:
        page.goto(f"{two_stream_served.url}/centres/qinzhou")
        state = wait_video(
            page,
            "#centre-live",
            lambda s: s["stream"] == "sub" and s["frames"] > 10,
            "full-screen view on sub",
        )
        assert (state["want"], state["reason"]) == ("main", "unplayable")
        assert (state["width"], state["height"]) == SUB_SIZE
        assert state["label"] == "子码流 · 浏览器无法播放主码流编码"
        assert page.evaluate("() => WatchWallLive.playable()") == ["h264"]
        # the health panel fills from its own callback, which may come after the video plays
        page.wait_for_function(
            "() => document.querySelector('#centre-health')?.innerText.includes('320x180')", timeout=30_000
        )
        health = page.inner_text("#centre-health")
        assert "hevc" in health and "子码流状态" in health and "320x180" in health  # both streams' health
        page.screenshot(path=str(screenshots / "centre-two-streams-fallback.png"))
        page.goto(f"{two_stream_served.url}/centres/qinzhou?lang=en")
        state = wait_video(
            page, "#centre-live", lambda s: s["stream"] == "sub" and s["frames"] > 5, "again, in English"
        )
        assert state["label"] == "Sub stream · browser cannot play the main stream's codec"
    finally:
        context.close()


def test_a_small_view_asks_for_the_sub_stream(login, browser, two_stream_served):
    context = login(browser, two_stream_served, "sup-qinzhou", viewport={"width": 760, "height": 900})
    page = context.new_page()
    try:
        # in Chinese: the page remembers the language a user last chose (the test above chose English)
        page.goto(f"{two_stream_served.url}/centres/qinzhou?lang=zh-CN")
        state = wait_video(page, "#centre-live", lambda s: s["frames"] > 5, "the small view playing")
        width = page.evaluate("() => document.getElementById('centre-live').clientWidth")
        assert 0 < width < 480, width  # the player's SMALL_VIEW_PX
        assert (state["stream"], state["want"], state["reason"], state["label"]) == (
            "sub",
            "sub",
            "",
            "子码流",
        )
    finally:
        context.close()


def test_sub_stream_dropped_recording_unbroken_and_the_tile_falls_back(
    login, browser, two_stream_served, camera_server, screenshots
):
    context = login(browser, two_stream_served, "command", viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    engine = database(two_stream_served)
    try:
        page.goto(f"{two_stream_served.url}/wall")
        tile = ".tile[data-camera=door] video"
        wait_video(page, tile, lambda s: s["stream"] == "sub" and s["frames"] > 10, "tile on the sub stream")
        before = len(_closed_segments(engine))
        camera_server.drop("/sub")
        dropped_at = time.time()
        state = wait_video(
            page, tile, lambda s: s["stream"] == "thumbnails", "tile on thumbnails", timeout=60
        )
        assert (state["want"], state["reason"], state["state"]) == ("sub", "down", "thumbnails")
        assert state["label"] == "缩略图 · 子码流中断"
        # the thumbnails now come from the main stream: the poster keeps changing and is a picture
        first_poster = state["poster"]
        assert first_poster.startswith("/snapshot/door.jpg?t=")
        wait_video(page, tile, lambda s: s["poster"] != first_poster, "a refreshed thumbnail", timeout=30)
        wait_until(
            lambda: (
                page.evaluate("async () => (await fetch('/snapshot/door.jpg', {cache: 'no-store'})).status")
                == 200
            ),
            30,
            what="a thumbnail to show",
        )
        page.screenshot(path=str(screenshots / "wall-two-streams-sub-down.png"))
        wait_until(lambda: time.time() - dropped_at > 10, 20, what="seconds without the sub stream")
        wait_until(lambda: len(_closed_segments(engine)) >= before + 3, 60, what="recording going on")
        with engine.connect() as connection:
            gaps = connection.execute(select(RecordingGap).where(RecordingGap.camera_id == "door")).all()
        assert gaps == []
    finally:
        engine.dispose()
        context.close()


def _closed_segments(engine) -> list[tuple]:
    with engine.connect() as connection:
        return connection.execute(
            select(
                RecordingSegment.path, RecordingSegment.codec, RecordingSegment.width, RecordingSegment.height
            )
            .where(RecordingSegment.camera_id == "door", RecordingSegment.status == "closed")
            .order_by(RecordingSegment.start_utc)
        ).all()


def _ffprobe(path: Path) -> dict:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-select_streams", "v", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)["streams"][0]
