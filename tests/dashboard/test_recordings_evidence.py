"""Bookmarks and evidence locks on /recordings, in Debian's Chromium, against a ``watchwall serve`` on
PostgreSQL recording a real GStreamer camera: a bookmark added on the page shows on the timeline,
travels in an export and ``watchwall verify`` accepts the export; a lock set on the page is drawn
and listed, and only an administrator removes it, with a reason."""

from __future__ import annotations

import json
import zipfile

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import func, select

from tests.dashboard.conftest import PASSWORD, ServedWatchWall, free_port, watchwall_env
from tests.dashboard.test_recordings_page import VIEWPORT, click_timeline_at
from tests.support.rtsp_process import RtspServerProcess, wait_until
from watchwall.audit.listing import list_entries
from watchwall.config.database import make_engine, session_scope
from watchwall.dashboard.accounts import add_user
from watchwall.video.record.bookmarks import BookmarkRow, bookmarks_between
from watchwall.video.record.export import MANIFEST_NAME
from watchwall.video.record.locks import list_locks
from watchwall.video.record.models import RecordingSegment

pytestmark = [pytest.mark.browser, pytest.mark.rtsp]

CAMERA = "qinzhou-door"
USERS = (("inspector", "inspector", []), ("admin", "admin", []), ("inspector-maiji", "inspector", ["maiji"]))
SITE = """\
centres:
  - code: tianshui
    name: {{zh: 天水市中心, en: Tianshui Centre}}
    level: city
    rooms: []
  - code: qinzhou
    name: {{zh: 秦州区中心, en: Qinzhou Centre}}
    level: county
    rooms:
      - code: announcement
        name: {{zh: 宣告室, en: Announcement room}}
        cameras:
          - {{id: {camera}, name: {{zh: 宣告台, en: Desk}}, rtsp: '{url}'}}
  - code: maiji
    name: {{zh: 麦积区中心, en: Maiji Centre}}
    level: county
    rooms: []
"""


@pytest.fixture(scope="module")
def postgres_database(postgres):
    url = postgres.migrated("ww_evidence")
    yield url
    postgres.drop(url)


@pytest.fixture(scope="module")
def evidence_served(tmp_path_factory, postgres_database):
    """``watchwall serve`` on PostgreSQL recording one GStreamer camera in 2 s segments."""
    camera = RtspServerProcess({"/cam0": "h264"}).start()
    folder = tmp_path_factory.mktemp("evidence-served")
    site = folder / "site.yaml"
    site.write_text(SITE.format(camera=CAMERA, url=camera.url("/cam0")), encoding="utf-8")
    engine = make_engine(postgres_database)
    for name, role, counties in USERS:
        add_user(engine, name, PASSWORD, role, counties, {"qinzhou", "maiji"})
    env = watchwall_env(folder)
    env.update(
        WATCHWALL_DATABASE_URL=postgres_database,
        WATCHWALL_SITE=str(site),
        WATCHWALL_RECORDING_SEGMENT_S="2",
        WATCHWALL_THUMBNAIL_INTERVAL_S="60",
    )
    server = ServedWatchWall(env, free_port(), folder / "serve.log")
    server.start()
    try:
        wait_until(lambda: len(closed_segments(engine)) >= 4, 120, 0.5, what="four recorded segments")
        yield server, engine
    finally:
        server.stop()
        camera.kill()
        engine.dispose()


def closed_segments(engine) -> list[RecordingSegment]:
    with session_scope(engine) as session:
        return session.scalars(
            select(RecordingSegment)
            .where(RecordingSegment.camera_id == CAMERA, RecordingSegment.sha256.is_not(None))
            .order_by(RecordingSegment.start_utc)
        ).all()


def bookmark_count(engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(BookmarkRow))


def open_recordings(login, browser, server, username: str):
    context = login(browser, server, username, viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{server.url}/recordings?lang=en&camera={CAMERA}")
    page.wait_for_function(
        "() => { const gd = document.querySelector('#rec-timeline .js-plotly-plot');"
        " return gd && gd.data && gd.data.length >= 4 && gd.data[0].x.length > 0; }",
        timeout=60_000,
    )
    return page


def timeline_traces(page) -> dict:
    return page.evaluate(
        "() => Object.fromEntries(document.querySelector('#rec-timeline .js-plotly-plot').data"
        ".map(t => [t.name + ':' + t.type, {customdata: t.customdata || [], text: t.hovertext || []}]))"
    )


def click_to_mark(page, epoch: float, field: str) -> None:
    """Click the recorded row at ``epoch`` and wait until ``field`` takes the clicked instant."""
    page.wait_for_function(f"() => document.querySelector('{field}').value.length > 0", timeout=30_000)
    page.wait_for_timeout(500)  # the page's first span has settled
    before = page.input_value(field)
    click_timeline_at(page, epoch, "Recorded")
    page.wait_for_function(
        f"(before) => document.querySelector('{field}').value !== before", arg=before, timeout=30_000
    )
    page.wait_for_timeout(500)


def wait_text(page, selector: str, condition: str, timeout: float = 30_000) -> None:
    """Wait until the text of ``selector`` meets ``condition`` (JS on ``text``); say what it was if not."""
    try:
        page.wait_for_function(
            f"() => {{ const text = document.querySelector('{selector}').textContent; return {condition}; }}",
            timeout=timeout,
        )
    except PlaywrightTimeout:
        raise AssertionError(f"{selector} says {page.inner_text(selector)!r}, not {condition}") from None


def choose_option(page, dropdown: str, label: str) -> None:
    page.locator(dropdown).click()
    page.locator(".Select-menu-outer, [role=option]").get_by_text(label, exact=True).first.click()


def test_a_bookmark_added_on_the_page_is_drawn_exported_and_verified(
    login, browser, evidence_served, tmp_path, screenshots
):
    server, engine = evidence_served
    segment = closed_segments(engine)[1]
    marked = segment.start_utc + 0.5
    page = open_recordings(login, browser, server, "inspector")
    try:
        # A click on the timeline gives the bookmark its instant (and the export its span).
        click_to_mark(page, marked, "#rec-bm-from")
        start_text = page.input_value("#rec-bm-from")
        assert start_text == page.input_value("#rec-export-from")

        # An end before the start is refused with the reason, and nothing is written.
        before = bookmark_count(engine)
        page.fill("#rec-bm-to", "2000-01-01T00:00:00")  # a date and time picker (site time)
        page.fill("#rec-bm-heading", "宣告时未宣读权利义务")
        page.click("#rec-bm-submit")
        wait_text(page, "#rec-bm-message", "text.includes('end must come after the start')")  # in the browser
        assert bookmark_count(engine) == before

        end_text = page.evaluate(
            "(s) => { const d = new Date(s.replace(' ', 'T')); d.setSeconds(d.getSeconds() + 3);"
            " const p = n => String(n).padStart(2, '0');"
            " return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:"
            "${p(d.getMinutes())}:${p(d.getSeconds())}`; }",
            start_text,
        )
        page.fill("#rec-bm-to", end_text)
        choose_option(page, "#rec-bm-category", "Equipment fault")
        page.fill("#rec-bm-note", "画面中宣告台话筒无声")
        page.click("#rec-bm-submit")
        wait_text(page, "#rec-bm-message", "text.startsWith('Bookmark added')")
        (bookmark,) = bookmarks_between(engine, CAMERA, segment.start_utc - 60, segment.end_utc + 60)
        assert (bookmark.title, bookmark.category, bookmark.author) == (
            "宣告时未宣读权利义务",
            "equipment",
            "inspector",
        )
        assert bookmark.end_utc - bookmark.start_utc == pytest.approx(3.0, abs=0.01)

        # Drawn on the timeline, on the bookmarks row, with its id and title.
        page.wait_for_function(
            "(id) => document.querySelector('#rec-timeline .js-plotly-plot').data"
            ".some(t => t.name === 'Bookmarks' && (t.customdata || []).some(c => c[2] === id))",
            arg=bookmark.id,
            timeout=30_000,
        )
        traces = timeline_traces(page)
        assert "宣告时未宣读权利义务" in traces["Bookmarks:bar"]["text"][0]
        assert "Equipment fault" in traces["Bookmarks:bar"]["text"][0]
        assert page.locator("#rec-timeline .bars path").count() >= 2

        # In the searchable list (by category), and audited with the browser's address.
        choose_option(page, "#rec-bm-filter-category", "Equipment fault")
        page.click("#rec-bm-search")
        page.wait_for_selector(f".rec-bm-row[data-bookmark='{bookmark.id}']", timeout=30_000)
        page.screenshot(path=str(screenshots / "recordings-bookmark-en-1080p.png"), full_page=True)
        (added,) = list_entries(engine, action="bookmark_add", limit=50)
        assert (added.actor, added.target, added.address) == ("inspector", CAMERA, "127.0.0.1")
        assert json.loads(added.detail)["bookmark_id"] == bookmark.id

        # Exported from the page, the package carries it in the signed manifest; verify accepts it.
        page.fill("#rec-export-reason", "督察：宣告设备检查")
        with page.expect_download(timeout=120_000) as download_info:
            page.click("#rec-export-submit")
        package = tmp_path / "evidence.zip"
        download_info.value.save_as(package)
        with zipfile.ZipFile(package) as archive:
            manifest = json.loads(archive.read(MANIFEST_NAME))
        (entry,) = manifest["bookmarks"]
        assert (entry["id"], entry["title"], entry["category"]) == (bookmark.id, bookmark.title, "equipment")
        verified = server.cli("verify", str(package))
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert verified.stdout.startswith("valid:")

        tampered = tmp_path / "tampered.zip"
        with zipfile.ZipFile(package) as original, zipfile.ZipFile(tampered, "w") as copy:
            for item in original.infolist():
                data = original.read(item)
                if item.filename == MANIFEST_NAME:
                    data = data.replace("宣告时未宣读权利义务".encode(), "一切正常".encode())
                copy.writestr(item, data)
        rejected = server.cli("verify", str(tampered))
        assert rejected.returncode == 1
        assert f"bookmark: {bookmark.id}: '一切正常' was edited after signing" in rejected.stdout

        # Edited from the list: the title and category change, the span stays; audited.
        page.click(f".rec-bm-row[data-bookmark='{bookmark.id}'] .rec-bm-edit")
        page.wait_for_selector("#rec-bm-editor", state="visible", timeout=30_000)
        assert page.input_value("#rec-bm-edit-heading") == bookmark.title
        page.fill("#rec-bm-edit-heading", "话筒无声")
        choose_option(page, "#rec-bm-edit-category", "Other")
        page.click("#rec-bm-edit-save")
        wait_text(page, "#rec-bm-message", "text.startsWith('Bookmark changed')")
        (edited,) = bookmarks_between(engine, CAMERA, segment.start_utc - 60, segment.end_utc + 60)
        assert (edited.title, edited.category, edited.start_utc) == ("话筒无声", "other", bookmark.start_utc)
        (change,) = list_entries(engine, action="bookmark_edit", limit=50)
        assert json.loads(change.detail)["after"] == {
            "title": "话筒无声",
            "category": "other",
            "note": bookmark.note,
        }

        # Deleted from the list by its author: off the list and the timeline, audited.
        choose_option(page, "#rec-bm-filter-category", "Other")
        page.click("#rec-bm-search")
        page.wait_for_selector(f".rec-bm-row[data-bookmark='{bookmark.id}']", timeout=30_000)
        page.click(f".rec-bm-row[data-bookmark='{bookmark.id}'] .rec-bm-delete")
        wait_text(page, "#rec-bm-message", "text.startsWith('Bookmark deleted')")
        page.wait_for_function(
            "(id) => !document.querySelector(`.rec-bm-row[data-bookmark='${id}']`) &&"
            " !document.querySelector('#rec-timeline .js-plotly-plot').data"
            ".some(t => t.name === 'Bookmarks' && (t.customdata || []).some(c => c[2] === id))",
            arg=bookmark.id,
            timeout=30_000,
        )
        assert bookmarks_between(engine, CAMERA, segment.start_utc - 60, segment.end_utc + 60) == []
        (deleted,) = list_entries(engine, action="bookmark_delete", limit=50)
        assert (deleted.actor, json.loads(deleted.detail)["bookmark_id"]) == ("inspector", bookmark.id)
    finally:
        page.context.close()


def test_a_lock_set_on_the_page_is_drawn_listed_and_removed_only_by_an_admin(login, browser, evidence_served):
    server, engine = evidence_served
    segment = closed_segments(engine)[2]
    page = open_recordings(login, browser, server, "inspector")
    try:
        click_to_mark(page, segment.start_utc + 0.5, "#rec-lock-from")
        wait_text(page, "#rec-lock-cameras", "text.includes('Desk')")
        page.click("#rec-lock-submit")  # no reason: refused, nothing written
        wait_text(page, "#rec-lock-message", "text.includes('needs a reason')")
        assert list_locks(engine) == []
        page.fill("#rec-lock-reason", "案件 17 宣告录像留存")
        page.click("#rec-lock-submit")
        wait_text(page, "#rec-lock-message", "text.startsWith('Lock ')")
        (lock,) = list_locks(engine)
        assert (lock.cameras, lock.created_by, lock.expires_utc) == ((CAMERA,), "inspector", None)
        page.wait_for_selector(f".rec-lock-row[data-lock='{lock.id}']", timeout=30_000)
        page.wait_for_function(
            "(id) => document.querySelector('#rec-timeline .js-plotly-plot').data"
            ".some(t => t.name === 'Locks' && (t.customdata || []).some(c => c[2] === id))",
            arg=lock.id,
            timeout=30_000,
        )
        assert not page.locator("#rec-lock-unlock").is_visible()  # inspectors do not unlock
    finally:
        page.context.close()

    admin = open_recordings(login, browser, server, "admin")
    try:
        admin.wait_for_selector(f".rec-lock-row[data-lock='{lock.id}']", timeout=30_000)
        choose_option(admin, "#rec-lock-unlock-id", f"#{lock.id} {CAMERA}")
        admin.click("#rec-lock-unlock")
        wait_text(admin, "#rec-lock-message", "text.includes('reason')")
        assert list_locks(engine) != []
        admin.fill("#rec-lock-unlock-reason", "案件已结案")
        admin.click("#rec-lock-unlock")
        wait_text(admin, "#rec-lock-message", "text.endsWith('removed')")
        assert list_locks(engine) == []
        admin.wait_for_function("() => !document.querySelector('.rec-lock-row')", timeout=30_000)
    finally:
        admin.context.close()
    actions = [
        (e.action, e.actor, e.address)
        for e in list_entries(engine, limit=100)
        if e.action in ("lock", "unlock")
    ]
    assert actions == [("unlock", "admin", "127.0.0.1"), ("lock", "inspector", "127.0.0.1")]
