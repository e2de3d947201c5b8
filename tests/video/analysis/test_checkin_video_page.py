"""A county's page shows the stored frame beside each video-verified check; the frame's route keeps to
the viewer's county and audits each view. Against a real ``watchwall serve`` (its own worker checks the
span) and Debian's Chromium."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.dashboard.conftest import (  # noqa: F401  (fixtures)
    ServedWatchWall,
    add_users,
    browser,
    demo_database,
    free_port,
    http_login,
    login_as,
    screenshots,
    watchwall_env,
)
from tests.support.rtsp_process import wait_until
from tests.video.analysis.face_media import face_scene, index_as_segment, write_h264
from watchwall.audit.listing import list_entries
from watchwall.config.database import make_engine
from watchwall.config.face_check_settings import CheckinVideoSettings
from watchwall.config.settings import DEMO_SITE
from watchwall.config.site import load_site
from watchwall.dashboard.checkin_video_intake import VideoCheckinLinks
from watchwall.dashboard.checkin_video_models import DONE, CheckinVideo
from watchwall.metrics.import_rows import RawRow
from watchwall.metrics.importer import import_rows
from watchwall.metrics.models import Subject

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CAMERA = "qinzhou-announcement-1"  # a camera of the Qinzhou centre in the shipped site
CHECK = "VIDEO-PAGE-1"


@pytest.fixture(scope="module")
def served_with_check(tmp_path_factory, demo_database):  # noqa: F811
    data_dir = tmp_path_factory.mktemp("served-checkin-video")
    demo_database(data_dir)  # a copy of the demo data: serve does not make them again
    server = ServedWatchWall(watchwall_env(data_dir), free_port(), data_dir / "serve.log")
    add_users(server, ("command", "sup-qinzhou", "sup-maiji", "inspector"))
    server.start("--no-ingest", timeout=480)
    engine = make_engine(f"sqlite:///{data_dir / 'watchwall.db'}")
    try:
        recorded_from = time.time() - 3600
        clip = write_h264(data_dir / "face.h264", face_scene(640, 360), seconds=40)
        index_as_segment(engine, data_dir / "recordings", CAMERA, clip, recorded_from)
        with engine.connect() as connection:
            subject = connection.scalar(
                select(Subject.external_id).where(Subject.county == "qinzhou").limit(1)
            )
        at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(recorded_from + 15))
        row = {"external_id": CHECK, "subject": subject, "checked_at": at, "method": "video", "result": "ok"}
        links = VideoCheckinLinks(lambda: load_site(DEMO_SITE), CheckinVideoSettings())
        import_rows(engine, "checkins", [RawRow(0, {**row, "camera_id": CAMERA})], checkin_links=links)

        def checked():
            with engine.connect() as connection:
                found = connection.execute(
                    select(CheckinVideo).where(CheckinVideo.check_external_id == CHECK)
                ).first()
            return found if found is not None and found.state == DONE else None

        video = wait_until(checked, 60, interval=0.5, what="the served worker's face check")
        yield server, engine, video
    finally:
        engine.dispose()
        server.stop()


def snapshot_audits(engine, actor: str) -> int:
    return len(list_entries(engine, action="checkin_video.snapshot", actor=actor, limit=500))


def test_the_served_worker_checked_the_span_and_the_snapshot_route_keeps_to_the_county(
    served_with_check,
    http_login,  # noqa: F811
):
    server, engine, video = served_with_check
    assert video.face_present and video.frames_sampled >= 55
    url = f"{server.url}/checkins/video/{video.id}/snapshot.jpg"
    supervisor = http_login(server, "sup-qinzhou")
    before = snapshot_audits(engine, "sup-qinzhou")
    for _ in range(2):
        seen = supervisor.get(url, timeout=10)
        assert seen.status_code == 200 and seen.headers["Content-Type"] == "image/jpeg"
        assert seen.content == video.snapshot_jpeg and "no-store" in seen.headers["Cache-Control"]
    assert snapshot_audits(engine, "sup-qinzhou") == before + 2  # every view
    other = http_login(server, "sup-maiji")
    assert other.get(url, timeout=10).status_code == 403
    assert snapshot_audits(engine, "sup-maiji") == 0
    assert http_login(server, "command").get(url, timeout=10).status_code == 200
    assert http_login(server, "inspector").get(url, timeout=10).status_code == 200
    assert supervisor.get(f"{server.url}/checkins/video/999999/snapshot.jpg", timeout=10).status_code == 404
    import requests

    assert requests.get(url, timeout=10, allow_redirects=False).status_code in (401, 302)


def test_the_county_page_shows_the_frame_beside_the_check(served_with_check, browser, screenshots):  # noqa: F811
    server, engine, video = served_with_check
    context = login_as(browser, server, "sup-qinzhou")
    page = context.new_page()
    try:
        page.goto(f"{server.url}/centres/qinzhou?lang=en")
        item = page.locator(f'.checkin-video-item[data-check="{CHECK}"]')
        item.wait_for(state="attached", timeout=90_000)  # the page's layout comes by callback; a busy machine
        image = item.locator("img.checkin-video-snapshot")
        image.scroll_into_view_if_needed()
        page.wait_for_function(
            "() => { const i = document.querySelector('.checkin-video-item img'); return i && i.naturalWidth > 0; }",
            timeout=15_000,
        )
        assert image.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [640, 360]
        assert "Face present" in item.inner_text() and CAMERA in item.inner_text()
        item.screenshot(path=str(Path(screenshots) / "centre-checkin-video.png"))
    finally:
        context.close()


def test_a_stored_verdict_reaches_the_open_county_page_without_a_reload(
    served_with_check,
    browser,  # noqa: F811
    screenshots,  # noqa: F811
):
    server, engine, video = served_with_check
    context = login_as(browser, server, "sup-qinzhou")
    page = context.new_page()
    try:
        page.goto(f"{server.url}/centres/qinzhou?lang=en")
        page.locator(f'.checkin-video-item[data-check="{CHECK}"]').wait_for(state="attached", timeout=90_000)
        page.wait_for_selector(".push-status.online", timeout=30_000)
        page.evaluate("window.__notReloaded = true")
        pushed = "VIDEO-PAGE-PUSH"
        assert page.locator(f'.checkin-video-item[data-check="{pushed}"]').count() == 0
        with engine.connect() as connection:
            subject = connection.scalar(
                select(Subject.external_id).where(Subject.county == "qinzhou").limit(1)
            )
        at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(video.span_start_utc + 20))
        row = {"external_id": pushed, "subject": subject, "checked_at": at, "method": "video", "result": "ok"}
        links = VideoCheckinLinks(lambda: load_site(DEMO_SITE), CheckinVideoSettings())
        import_rows(engine, "checkins", [RawRow(0, {**row, "camera_id": CAMERA})], checkin_links=links)
        # the served worker checks the span, stores the verdict and pushes it: the list reloads in place
        item = page.locator(f'.checkin-video-item[data-check="{pushed}"]')
        item.wait_for(state="attached", timeout=60_000)
        page.wait_for_function(
            f"() => {{ const i = document.querySelector('.checkin-video-item[data-check=\"{pushed}\"]');"
            " return i && i.textContent.includes('Face present'); }",
            timeout=30_000,
        )
        assert page.evaluate("window.__notReloaded === true")  # the same page: no reload happened
        page.locator("#centre-video-checks").screenshot(
            path=str(Path(screenshots) / "centre-checkin-video-pushed.png")
        )
    finally:
        context.close()
