"""/recordings in Debian's Chromium: the inspector's timeline with the gap, playback, seeking, the playhead,
jumps, mark-in / mark-out into the pickers, export named in local time, audit; nothing plays on
opening; a county supervisor plays back and bookmarks their own county and is refused another's."""

from __future__ import annotations

import time as pytime
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.dashboard.test_recording_routes import BLOCK_S, GAP_S, audit_rows, record_with_gap, served_engine
from tests.video.record.recording_media import feed, h264_clip, media_packets, wait_drained
from watchwall.config.settings import Settings
from watchwall.dashboard.components.timeline import GAP_COLOURS, local_text, timeline_figure
from watchwall.video.ingest.fanout import Fanout
from watchwall.video.record.bookmarks import bookmarks_between
from watchwall.video.record.playback import segments_between
from watchwall.video.record.recorder import Recorder

VIEWPORT = {"width": 1920, "height": 1080}


@pytest.fixture(scope="module")
def recorded(served):
    return record_with_gap(Path(served.env["WATCHWALL_DATA_DIR"]))


def open_page(login, browser, served, recorded, language: str):
    context = login(browser, served, "inspector", viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{served.url}/recordings?lang={language}&camera={recorded.camera}")
    wait_timeline(page)
    return page


def wait_timeline(page) -> None:
    page.wait_for_function(
        "() => { const gd = document.querySelector('#rec-timeline .js-plotly-plot');"
        " return gd && gd.data && gd.data.length >= 4 && gd.data[0].x.length > 0; }",
        timeout=60_000,
    )


def player_src(page) -> str:
    return page.evaluate("document.querySelector('#rec-player').getAttribute('src') || ''")


def wait_src(page) -> None:
    page.wait_for_function(
        "() => (document.querySelector('#rec-player').getAttribute('src') || '').includes('/recordings/play/')",
        timeout=60_000,
    )


def playhead(page) -> float:
    return float(page.get_attribute("#rec-playhead-time", "data-epoch"))


def playhead_x(page) -> str | None:
    return page.evaluate(
        "() => { const gd = document.querySelector('#rec-timeline .js-plotly-plot');"
        " const s = ((gd.layout || {}).shapes || []).find(s => s.name === 'playhead'); return s ? s.x0 : null; }"
    )


def local_seconds_text(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), UTC).astimezone(Settings().zone).strftime("%Y-%m-%dT%H:%M:%S")


def record_recent(data_dir: Path, camera: str, seconds_ago: float = 125, length: float = 30) -> float:
    """A block of real H.264 recorded by the real Recorder, starting ``seconds_ago`` before now; its start."""
    engine = served_engine_at(data_dir)
    start = pytime.time() - seconds_ago
    try:
        found = segments_between(engine, camera, start - 600, start + length)
        if found:
            return found[0].start_utc
        info, raw = h264_clip(length)
        fanout = Fanout(camera)
        recorder = Recorder(camera, fanout, engine, data_dir / "recordings", segment_seconds=5).start()
        feed(fanout, media_packets(camera, info, raw, start))
        wait_drained(fanout)
        recorder.stop()
    finally:
        engine.dispose()
    return start


def served_engine_at(data_dir: Path):
    from watchwall.config.database import make_engine

    return make_engine(f"sqlite:///{data_dir / 'watchwall.db'}")


def current_time(page) -> float:
    return page.evaluate("document.querySelector('#rec-player').currentTime")


def wait_playing_past(page, seconds: float, timeout_ms: int = 60_000) -> None:
    page.wait_for_function(
        f"() => {{ const v = document.querySelector('#rec-player');"
        f" if (v.paused && !v.ended) v.play().catch(() => {{}}); return v.currentTime > {seconds}; }}",
        timeout=timeout_ms,
        polling=200,
    )


def click_timeline_at(page, epoch: float, row: str) -> None:
    """A real mouse click on the timeline at ``epoch`` on the row named ``row``, placed by plotly's own axes."""
    zone = Settings().zone
    x, y = page.evaluate(
        """([when, row]) => {
            const gd = document.querySelector('#rec-timeline .js-plotly-plot');
            const layout = gd._fullLayout, box = gd.getBoundingClientRect();
            return [box.left + layout._size.l + layout.xaxis.d2p(when),
                    box.top + layout._size.t + layout.yaxis.d2p(row)];
        }""",
        [local_text(epoch, zone), row],
    )
    page.mouse.click(x, y)


@pytest.mark.browser
def test_inspector_finds_plays_seeks_exports_and_sees_the_audit(
    login, browser, served, recorded, screenshots, tmp_path
):
    playbacks_before = len(audit_rows(served, "playback", "inspector"))
    page = open_page(login, browser, served, recorded, "en")
    try:
        # Opening the page plays nothing (and audits nothing): nobody chose a moment yet.
        page.wait_for_function(
            "document.querySelector('#rec-span').textContent.includes('Nothing is playing')"
        )
        page.wait_for_timeout(1500)
        assert player_src(page) == ""
        assert len(audit_rows(served, "playback", "inspector")) == playbacks_before
        assert page.get_attribute("#rec-player", "aria-label").startswith("Announcement")

        # The timeline: recorded blocks on both sides of one gap, shown with its reason.
        figure = page.evaluate(
            "() => { const gd = document.querySelector('#rec-timeline .js-plotly-plot');"
            " return gd.data.map(t => ({name: t.name, x: t.x, customdata: t.customdata, text: t.hovertext})); }"
        )
        segments, gaps = figure[0], figure[1]
        assert len(segments["x"]) >= 2
        assert len(gaps["x"]) == 1, (gaps, segments)
        gap_start, gap_end = gaps["customdata"][0]
        assert gap_start == pytest.approx(recorded.start_utc + BLOCK_S, abs=0.2)
        assert gap_end - gap_start == pytest.approx(GAP_S, abs=0.2)
        assert "Stream stalled" in gaps["text"][0]
        assert page.locator("#rec-timeline .bars path").count() >= 3  # drawn, not only data

        # Play: from the day's first recording; seeking inside the clip moves currentTime.
        page.click("#rec-play")
        wait_src(page)
        wait_playing_past(page, 0.5)
        page.evaluate("document.querySelector('#rec-player').currentTime = 4.0")
        page.wait_for_function("document.querySelector('#rec-player').currentTime >= 4.0", timeout=30_000)
        wait_playing_past(page, 4.3)

        # The playhead follows playback on the timeline, in local time.
        page.wait_for_function(
            "() => document.querySelector('#rec-playhead-time').dataset.epoch", timeout=30_000
        )
        first_x, first_epoch = playhead_x(page), playhead(page)
        assert first_epoch == pytest.approx(recorded.start_utc + 4.3, abs=2.5)
        wait_playing_past(page, 5.3)
        page.wait_for_function(
            "(x) => { const gd = document.querySelector('#rec-timeline .js-plotly-plot');"
            " const s = (gd.layout.shapes || []).find(s => s.name === 'playhead');"
            " return s && s.x0 > x; }",
            arg=first_x,
            timeout=30_000,
        )
        assert playhead(page) > first_epoch
        assert local_text(playhead(page), Settings().zone)[:16] in page.inner_text("#rec-playhead-time")

        # Clicking the timeline in the second block plays from there.
        click_timeline_at(page, recorded.resume_utc + 3, "Recorded")
        page.wait_for_function(
            "(from) => decodeURIComponent(document.querySelector('#rec-player').src).includes('from=' + from)",
            arg=datetime.fromtimestamp(recorded.resume_utc + 3, UTC).isoformat()[:19],
            timeout=30_000,
        )
        wait_playing_past(page, 0.3)

        # −30 s leaves the loaded span: the player asks for a new one, which starts where recording
        # resumes after that instant (the first block).
        page.click("button.rec-jump[data-jump='-30']")
        page.wait_for_function(
            "(start) => Math.abs(parseFloat(document.querySelector('#rec-player').dataset.spanStart) - start) < 0.5",
            arg=recorded.start_utc,
            timeout=30_000,
        )
        wait_playing_past(page, 0.5)
        # Mark in, then mark out 1 s of playback later: the export pickers take both, in local time.
        page.evaluate("document.querySelector('#rec-player').currentTime = 1.0")
        wait_playing_past(page, 1.2)
        page.click("#rec-mark-in")
        marked_in = playhead(page)
        wait_playing_past(page, 3.0)
        to_before = page.input_value("#rec-export-to")
        page.click("#rec-mark-out")
        marked_out = playhead(page)
        # The video keeps playing between the click and the read of the playhead: the picker holds the
        # second of the click, which may be one before the one read here.
        page.wait_for_function(
            "(v) => { const to = document.querySelector('#rec-export-to').value; return to && to !== v; }",
            arg=to_before,
            timeout=10_000,
        )
        from_value, to_value = page.input_value("#rec-export-from"), page.input_value("#rec-export-to")

        def seconds_apart(picker_value: str, epoch: float) -> float:
            return abs(
                datetime.fromisoformat(picker_value).timestamp()
                - datetime.fromisoformat(local_seconds_text(epoch)).timestamp()
            )

        assert seconds_apart(from_value, marked_in) <= 1, (from_value, marked_in)
        assert seconds_apart(to_value, marked_out) <= 1, (to_value, marked_out)
        assert datetime.fromisoformat(to_value) > datetime.fromisoformat(from_value)
        assert page.get_attribute("#rec-export-from", "type") == "datetime-local"

        # The pickers refuse an end before the start, and a span over the limit, before anything is sent.
        downloads = []
        page.on("download", lambda download: downloads.append(download))
        page.fill("#rec-export-reason", "review of the announcement")
        earlier = (datetime.fromisoformat(from_value) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S")
        page.fill("#rec-export-to", earlier)
        page.click("#rec-export-submit")
        page.wait_for_function(
            "document.querySelector('#rec-export-error').textContent.includes('end must come after the start')"
        )
        much_later = (datetime.fromisoformat(from_value) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S")
        page.fill("#rec-export-to", much_later)
        page.click("#rec-export-submit")
        page.wait_for_function(
            "document.querySelector('#rec-export-error').textContent.includes('at most 24 hours')"
        )
        page.wait_for_timeout(1000)
        assert downloads == []
        page.fill("#rec-export-to", to_value)

        # Export: an empty reason is refused on the page; with one, the package downloads and verifies,
        # named in the site's local time with its offset.
        page.fill("#rec-export-reason", "")
        page.click("#rec-export-submit")
        page.wait_for_function("document.querySelector('#rec-export-error').textContent.includes('reason')")
        page.fill("#rec-export-reason", "review of the announcement")
        with page.expect_download(timeout=120_000) as download_info:
            page.click("#rec-export-submit")
        name = download_info.value.suggested_filename
        stamp = datetime.fromisoformat(from_value).strftime("%Y%m%dT%H%M%S")
        assert name == f"evidence-{recorded.camera}-{stamp}+0800.zip", name
        package = tmp_path / name
        download_info.value.save_as(package)
        verified = served.cli("verify", str(package))
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert page.inner_text("#rec-export-error") == ""

        # The audit trail shows the playback and the export, labelled, in local time; its chain is intact.
        page.click("#rec-audit-refresh")
        page.wait_for_function(
            "() => ['playback', 'export'].every(a => [...document.querySelectorAll('.rec-audit-row')]"
            ".some(r => r.querySelector(`[data-action=${a}]`) && r.textContent.includes('inspector')))",
            timeout=30_000,
        )
        assert page.inner_text("#rec-audit-chain").startswith("chain intact (")
        assert "Time (local time, Asia/Shanghai)" in page.inner_text("#rec-audit-table thead")
        playback_row = page.locator(".rec-audit-row", has=page.locator("[data-action=playback]")).first
        assert "From: " in playback_row.inner_text() and "(local time)" in playback_row.inner_text()
        page.screenshot(path=str(screenshots / "recordings-en-1080p.png"), full_page=True)

        page.locator("#rec-audit-action").click()
        page.locator(".Select-menu-outer, [role=option]").get_by_text("Export", exact=True).first.click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('.rec-audit-row [data-action]')]"
            ".every(c => c.dataset.action === 'export')",
            timeout=30_000,
        )
    finally:
        page.context.close()


@pytest.mark.browser
def test_page_in_chinese_by_default(login, browser, served, recorded, screenshots):
    page = open_page(login, browser, served, recorded, "zh-CN")
    try:
        assert "录像检查" in page.inner_text("header")
        # the centre picker is filled by a callback, which may come after the page is open
        page.wait_for_function(
            "() => document.querySelector('.rec-filters')?.innerText.includes('秦州')", timeout=30_000
        )
        assert "秦州" in page.inner_text(".rec-filters")
        page.wait_for_function(
            "document.querySelector('#rec-audit-chain').textContent.includes('哈希链完整')"
        )
        page.click("#rec-play")
        wait_src(page)
        wait_playing_past(page, 0.5)
        assert "播放位置" in page.inner_text("#rec-playhead-time")
        assert "本地时间" in page.inner_text("#rec-audit-table thead")
        page.screenshot(path=str(screenshots / "recordings-zh-CN-1080p.png"), full_page=True)
    finally:
        page.context.close()


CHECKIN = "qinzhou-checkin-1"
OTHER_COUNTY = "maiji-checkin-1"


def wait_playing_on_its_own(page, seconds: float, timeout_ms: int = 60_000) -> None:
    """currentTime passes ``seconds`` without the test pressing play (the link's autoplay)."""
    page.wait_for_function(
        f"() => document.querySelector('#rec-player').currentTime > {seconds}",
        timeout=timeout_ms,
        polling=200,
    )


@pytest.mark.browser
def test_supervisor_plays_own_county_from_two_minutes_ago_bookmarks_and_is_refused_another(
    login, browser, served, screenshots
):
    data_dir = Path(served.env["WATCHWALL_DATA_DIR"])
    recent = record_recent(data_dir, CHECKIN)
    other = record_recent(data_dir, OTHER_COUNTY)
    two_minutes_ago = max(recent + 1, pytime.time() - 120)
    start_iso = datetime.fromtimestamp(two_minutes_ago, UTC).isoformat(timespec="seconds")
    context = login(browser, served, "sup-qinzhou", viewport=VIEWPORT)
    page = context.new_page()
    try:
        # The wall's "playback of the last minutes" link: that camera and time, played because chosen.
        page.goto(f"{served.url}/recordings?lang=en&camera={CHECKIN}&start={start_iso}")
        wait_timeline(page)
        wait_src(page)
        wait_playing_on_its_own(page, 1.0)
        assert playhead(page) == pytest.approx(two_minutes_ago + 1, abs=4)
        (row, *_) = audit_rows(served, "playback", "sup-qinzhou")
        assert row.target == CHECKIN
        label = page.get_attribute("#rec-player", "aria-label")  # the camera and its room
        assert "·" in label and "check-in" in label.lower(), label
        # Export stays with inspectors (setting supervisors_may_export: false), and says so.
        assert page.is_disabled("#rec-export-submit")
        assert "for inspectors" in page.inner_text(".rec-export-note")
        assert page.locator("#rec-lock-submit").count() == 0 and page.locator("#rec-audit-table").count() == 0
        centres = page.inner_text(".rec-filters")
        assert "Qinzhou" in centres and "Maiji" not in centres

        # A bookmark from the player: mark in, then add.
        page.click("#rec-mark-in")
        page.wait_for_function("document.querySelector('#rec-bm-from').value.length > 0", timeout=10_000)
        page.wait_for_timeout(600)
        page.fill("#rec-bm-heading", "报到时未核验身份")
        page.click("#rec-bm-submit")
        page.wait_for_function(
            "document.querySelector('#rec-bm-message').textContent.startsWith('Bookmark added')",
            timeout=30_000,
        )
        engine = served_engine(served)
        try:
            marks = bookmarks_between(engine, CHECKIN, recent - 5, recent + 60)
        finally:
            engine.dispose()
        assert [(b.title, b.author) for b in marks] == [("报到时未核验身份", "sup-qinzhou")]
        assert audit_rows(served, "bookmark_add", "sup-qinzhou")
        page.wait_for_function(
            "() => document.querySelector('#rec-timeline .js-plotly-plot').data.some(t => t.name === 'Bookmarks'"
            " && (t.customdata || []).length > 0)",
            timeout=30_000,
        )
        page.screenshot(path=str(screenshots / "recordings-supervisor-en-1080p.png"), full_page=True)

        # Another county's camera: the page, the player's file and the seek are refused, nothing streamed.
        assert page.goto(f"{served.url}/recordings?camera={OTHER_COUNTY}").status == 403
        span = (
            f"from={datetime.fromtimestamp(other + 1, UTC).isoformat()[:19]}Z"
            f"&to={datetime.fromtimestamp(other + 10, UTC).isoformat()[:19]}Z"
        )
        refused = page.request.get(
            f"{served.url}/recordings/play/{OTHER_COUNTY}?{span}", headers={"Range": "bytes=0-"}
        )
        assert refused.status == 403 and b"ftyp" not in refused.body()
        assert page.request.get(f"{served.url}/recordings/seek/{OTHER_COUNTY}?at={start_iso}").status == 403
        assert not [r for r in audit_rows(served, "playback", "sup-qinzhou") if r.target == OTHER_COUNTY]

        page.goto(f"{served.url}/recordings?lang=zh-CN&camera={CHECKIN}&start={start_iso}")
        wait_timeline(page)
        wait_src(page)
        wait_playing_on_its_own(page, 1.0)
        assert "仅限督察" in page.inner_text(".rec-export-note")
        page.screenshot(path=str(screenshots / "recordings-supervisor-zh-CN-1080p.png"), full_page=True)
    finally:
        context.close()
    # the same file is there for whoever may see that county
    inspector = login(browser, served, "inspector")
    try:
        answer = inspector.request.get(
            f"{served.url}/recordings/play/{OTHER_COUNTY}?{span}", headers={"Range": "bytes=0-"}
        )
        assert answer.status == 206 and answer.body()[4:8] == b"ftyp"
    finally:
        inspector.close()


@pytest.mark.browser
def test_command_staff_get_403(login, browser, served, recorded):
    context = login(browser, served, "command", viewport=VIEWPORT)
    try:
        page = context.new_page()
        response = page.goto(f"{served.url}/recordings?camera={recorded.camera}")
        assert response.status == 403
    finally:
        context.close()


def test_timeline_figure_draws_segments_gaps_by_reason_and_alarms():
    zone = Settings().zone
    day_start = datetime(2026, 11, 26, tzinfo=zone).timestamp()
    data = {
        "start_utc": day_start,
        "end_utc": day_start + 86400,
        "segments": [
            {"start_utc": day_start - 30, "end_utc": day_start + 60, "status": "closed", "bytes": 1},
            {"start_utc": day_start + 360, "end_utc": day_start + 420, "status": "closed", "bytes": 1},
        ],
        "gaps": [{"start_utc": day_start + 60, "end_utc": day_start + 360, "reason": "camera_offline"}],
        "alarms": [{"at_utc": day_start + 61, "kind": "video_loss"}],
    }
    labels = {"recording": "R", "gaps": "G", "alarms": "A", "empty": "none", "gap.camera_offline": "offline"}
    figure = timeline_figure(data, zone, labels)
    segments, gaps, alarms, clicks = figure.data
    assert segments.base[0] == "2026-11-26 00:00:00.000"  # clipped to the day, in local time
    assert list(segments.x) == [60_000, 60_000]
    assert list(gaps.x) == [300_000] and gaps.marker.color[0] == GAP_COLOURS["camera_offline"]
    assert "offline" in gaps.hovertext[0] and "300 s" in gaps.hovertext[0]
    assert alarms.customdata[0][0] == day_start + 61 and "video_loss" in alarms.hovertext[0]
    assert clicks.customdata[0][0] == day_start and all(y == "R" for y in clicks.y)
    # the recorded part, padded, within the day
    assert tuple(figure.layout.xaxis.range) == ("2026-11-26 00:00:00.000", "2026-11-26 00:07:30.000")
    empty = timeline_figure({**data, "segments": [], "gaps": [], "alarms": []}, zone, labels)
    assert empty.layout.annotations[0].text == "none"
