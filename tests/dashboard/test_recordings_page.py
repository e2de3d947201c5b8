"""/recordings in Debian's Chromium as an inspector: timeline with the gap, playback and seeking, export, audit."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.dashboard.test_recording_routes import BLOCK_S, GAP_S, record_with_gap
from watchwall.config.settings import Settings
from watchwall.dashboard.components.timeline import GAP_COLOURS, local_text, timeline_figure

VIEWPORT = {"width": 1920, "height": 1080}


@pytest.fixture(scope="module")
def recorded(served):
    return record_with_gap(Path(served.env["WATCHWALL_DATA_DIR"]))


def open_page(login, browser, served, recorded, language: str):
    context = login(browser, served, "inspector", viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{served.url}/recordings?lang={language}&camera={recorded.camera}")
    page.wait_for_function(
        "() => { const gd = document.querySelector('#rec-timeline .js-plotly-plot');"
        " return gd && gd.data && gd.data.length >= 4 && gd.data[0].x.length > 0; }",
        timeout=60_000,
    )
    page.wait_for_function("() => document.querySelector('#rec-player').src.includes('/recordings/play/')")
    return page


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
    page = open_page(login, browser, served, recorded, "en")
    try:
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

        # Playback plays; seeking inside the clip moves currentTime.
        wait_playing_past(page, 0.5)
        page.evaluate("document.querySelector('#rec-player').currentTime = 4.0")
        page.wait_for_function("document.querySelector('#rec-player').currentTime >= 4.0", timeout=30_000)
        wait_playing_past(page, 4.3)

        # Clicking the timeline in the second block plays from there.
        click_timeline_at(page, recorded.resume_utc + 3, "Recorded")
        page.wait_for_function(
            "(from) => decodeURIComponent(document.querySelector('#rec-player').src).includes('from=' + from)",
            arg=datetime.fromtimestamp(recorded.resume_utc + 3, UTC).isoformat()[:19],
            timeout=30_000,
        )
        wait_playing_past(page, 0.3)

        # Export: an empty reason is refused on the page; with one, the package downloads and verifies.
        page.fill("#rec-export-reason", "")
        page.click("#rec-export-submit")
        page.wait_for_function("document.querySelector('#rec-export-error').textContent.length > 0")
        assert "reason" in page.inner_text("#rec-export-error")
        page.fill("#rec-export-reason", "review of the announcement")
        with page.expect_download(timeout=120_000) as download_info:
            page.click("#rec-export-submit")
        package = tmp_path / "evidence.zip"
        download_info.value.save_as(package)
        verified = served.cli("verify", str(package))
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert page.inner_text("#rec-export-error") == ""

        # The audit trail shows the playback and the export, and its chain is intact.
        page.click("#rec-audit-refresh")
        page.wait_for_function(
            "() => ['playback', 'export'].every(a => [...document.querySelectorAll('.rec-audit-row')]"
            ".some(r => r.querySelector(`[data-action=${a}]`) && r.textContent.includes('inspector')))",
            timeout=30_000,
        )
        assert page.inner_text("#rec-audit-chain").startswith("chain intact (")
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
        assert "秦州" in page.inner_text(".rec-filters")
        page.wait_for_function(
            "document.querySelector('#rec-audit-chain').textContent.includes('哈希链完整')"
        )
        wait_playing_past(page, 0.5)
        page.screenshot(path=str(screenshots / "recordings-zh-CN-1080p.png"), full_page=True)
    finally:
        page.context.close()


@pytest.mark.browser
def test_supervisors_and_command_staff_get_403(login, browser, served, recorded):
    for username in ("sup-maiji", "command"):
        context = login(browser, served, username, viewport=VIEWPORT)
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
