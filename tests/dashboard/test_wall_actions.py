"""/wall as a tool, in Debian's Chromium against a real ``watchwall serve`` (demo site, cameras off):
chart text at 4K, Chinese dates, the header clock's zone, the tour's controls, a centre opened,
a tile enlarged and opened from the keyboard. Playing video: test_wall_live.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.dashboard.test_wall_page import open_wall

pytestmark = [pytest.mark.browser]

SHANGHAI = ZoneInfo("Asia/Shanghai")
CLOCK_SHOWN = "(document.getElementById('wall-clock') || {textContent: ''}).textContent.length > 0"

CHART_TEXT = """() => [...document.querySelectorAll('.wall-chart svg text')]
    .filter(node => node.textContent.trim() && node.getBoundingClientRect().width > 0)
    .map(node => ({text: node.textContent.trim(), size: parseFloat(getComputedStyle(node).fontSize),
                   height: node.getBoundingClientRect().height,
                   cls: (node.getAttribute('class') || '') + ' ' + (node.parentNode.getAttribute('class') || '')}))"""


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_at_4k_no_chart_text_is_under_20_px(login, browser, served, screenshots, language):
    page = open_wall(login, browser, served, language, (3840, 2160))
    try:
        page.wait_for_timeout(500)  # plotly's second pass (automargin) settles
        texts = page.evaluate(CHART_TEXT)
        assert len(texts) > 40, texts  # titles, ticks, legends, bar labels of four charts
        small = [item for item in texts if item["size"] < 20]
        assert small == [], f"chart text under 20 px at 3840x2160: {small[:10]}"
        page.screenshot(path=str(screenshots / f"wall-charts-{language}-4k.png"))
        ticks = [item["text"] for item in texts if "xtick" in item["cls"]]
        if language == "zh-CN":
            assert any(re.fullmatch(r"\d{1,2}月\d{1,2}日", text) for text in ticks), ticks
            assert any(re.fullmatch(r"\d{4}年\d{1,2}月", text) for text in ticks), ticks
        else:
            assert any(re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}", text) for text in ticks), ticks
            assert not any("月" in text for text in ticks), ticks
    finally:
        page.context.close()


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_a_browser_in_utc_shows_the_sites_date_and_hour(login, browser, served, screenshots, language):
    """20:00 UTC on 8 November is already 04:00 on the 9th in Shanghai, the site's zone."""
    context = login(browser, served, "command", viewport={"width": 1920, "height": 1080}, timezone_id="UTC")
    moment = datetime(2026, 11, 8, 20, 0, 0, tzinfo=UTC)
    context.clock.set_fixed_time(moment)
    page = context.new_page()
    try:
        page.goto(f"{served.url}/wall?lang={language}")
        page.wait_for_selector(".push-status.online", timeout=30_000)
        assert page.evaluate("new Date().getTimezoneOffset()") == 0  # the browser is in UTC
        page.wait_for_function(CLOCK_SHOWN, timeout=10_000)
        shown = page.inner_text("#wall-clock")
        local = moment.astimezone(SHANGHAI)
        assert (local.day, local.hour) == (9, 4)
        expected = "2026/11/9 04:00:00" if language == "zh-CN" else "11/9/2026, 04:00:00"
        assert shown == expected, shown
        page.screenshot(
            path=str(screenshots / f"wall-clock-utc-browser-{language}.png"), clip=header_box(page)
        )
    finally:
        context.close()


def test_the_clock_shows_todays_date_in_shanghai_from_a_utc_browser(login, browser, served):
    context = login(browser, served, "command", viewport={"width": 1920, "height": 1080}, timezone_id="UTC")
    page = context.new_page()
    try:
        page.goto(f"{served.url}/wall?lang=zh-CN")
        page.wait_for_function(CLOCK_SHOWN, timeout=30_000)
        shown = page.inner_text("#wall-clock")
        now = datetime.now(SHANGHAI)
        date_part, time_part = shown.split(" ")
        assert date_part == f"{now.year}/{now.month}/{now.day}", (shown, now)
        hour = int(time_part.split(":")[0])
        assert hour in (now.hour, (now.hour - 1) % 24), (shown, now)  # read across an hour's turn
        utc_hour = page.evaluate("new Date().getUTCHours()")
        assert (hour - utc_hour) % 24 in (8, 7), (hour, utc_hour)
    finally:
        context.close()


def header_box(page) -> dict:
    box = page.locator(".wall-header").bounding_box()
    return {"x": box["x"], "y": box["y"], "width": box["width"], "height": box["height"]}


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_the_tour_names_its_centre_and_pauses_and_steps(login, browser, served, screenshots, language):
    page = open_wall(login, browser, served, language)
    try:
        page.wait_for_selector(".tile[data-camera]")
        pages = page.evaluate("WatchWallTiles.tour().pages")
        assert len(pages) >= 2
        # one centre a page, and the page says which
        for shown in pages:
            assert len({camera["centre"] for camera in shown["cameras"]}) == 1
        first = pages[0]
        assert page.inner_text("#tour-centre") == first["centre_label"]
        position = page.inner_text("#tour-page")
        assert f"1 / {len(pages)}" in position, position
        tiles = page.evaluate(
            "[...document.querySelectorAll('.tile')].map(t => t.getAttribute('data-camera'))"
        )
        assert tiles == [camera["id"] for camera in first["cameras"]]
        # every video is named by its camera and room
        names = page.evaluate(
            "[...document.querySelectorAll('.tile video')].map(v => v.getAttribute('aria-label'))"
        )
        assert names == [camera["aria"] for camera in first["cameras"]]
        assert all(
            camera["room"] in camera["aria"] and camera["name"] in camera["aria"]
            for camera in first["cameras"]
        )

        page.click("#tour-next")
        assert page.inner_text("#tour-centre") == pages[1]["centre_label"]
        assert f"2 / {len(pages)}" in page.inner_text("#tour-page")
        page.click("#tour-prev")
        assert f"1 / {len(pages)}" in page.inner_text("#tour-page")
        page.click("#tour-pause")
        assert page.get_attribute("#tour-pause", "aria-pressed") == "true"
        assert page.evaluate("WatchWallTiles.state().paused") is True
        page.screenshot(path=str(screenshots / f"wall-tour-paused-{language}.png"))
        page.click("#tour-pause")
        assert page.evaluate("WatchWallTiles.state().paused") is False
    finally:
        page.context.close()


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_a_centre_click_shows_its_cameras_and_back_returns(login, browser, served, screenshots, language):
    page = open_wall(login, browser, served, language)
    try:
        page.wait_for_selector(".tile[data-camera]")
        pages = page.evaluate("WatchWallTiles.tour().pages")
        target = pages[-1]
        page.click(f".centre-row[data-centre={target['centre']}] .centre-name")
        page.wait_for_function(f"location.hash === '#centre={target['centre']}'")
        page.wait_for_selector(f"#tile-grid[data-centre={target['centre']}]")
        assert page.inner_text("#tour-centre") == target["centre_label"]
        assert page.evaluate("WatchWallTiles.state().paused") is True
        page.screenshot(path=str(screenshots / f"wall-centre-opened-{language}.png"))
        page.go_back()
        page.wait_for_function("location.hash === ''")
        assert page.url.endswith(f"/wall?lang={language}")
    finally:
        page.context.close()


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_double_click_enlarges_a_tile_in_place(login, browser, served, screenshots, language):
    page = open_wall(login, browser, served, language)
    try:
        tile = page.locator(".tile[data-camera]").nth(1)
        tile.wait_for()
        camera = tile.get_attribute("data-camera")
        small = tile.bounding_box()
        tile.dblclick()
        enlarged = page.locator(f".tile[data-camera='{camera}'].enlarged")
        enlarged.wait_for()
        big = enlarged.bounding_box()
        grid = page.locator("#tile-grid").bounding_box()
        assert big["width"] > 3 * small["width"] and big["height"] > 1.8 * small["height"], (small, big)
        assert abs(big["width"] - grid["width"]) < 8 and abs(big["height"] - grid["height"]) < 8
        page.wait_for_timeout(400)  # a double-click is not also a click: no full-screen view opened
        assert page.evaluate("location.hash") == ""
        assert not page.is_visible("#camera-view")
        page.screenshot(path=str(screenshots / f"wall-tile-enlarged-{language}.png"))
        enlarged.dblclick()
        page.wait_for_function("!document.querySelector('.tile.enlarged')")
        assert page.locator(".tile[data-camera]").nth(1).bounding_box()["width"] < small["width"] + 2
    finally:
        page.context.close()


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_the_keyboard_reaches_a_tile_and_enter_opens_it(login, browser, served, screenshots, language):
    page = open_wall(login, browser, served, language)
    try:
        page.wait_for_selector(".tile[data-camera]")
        page.locator("body").focus()
        reached = []
        for _ in range(120):  # header links, centres, ticker items, tour controls, then the tiles
            page.keyboard.press("Tab")
            focused = page.evaluate(
                "(() => { const e = document.activeElement; return e ? (e.id || e.className || e.tagName) : ''; })()"
            )
            reached.append(focused)
            if "tile" == focused.split(" ")[0]:
                break
        else:
            raise AssertionError(f"Tab never reached a tile: {reached}")
        assert any("centre-row" in item for item in reached), reached  # centres come first, on the left
        assert "tour-pause" in reached and "tour-next" in reached, reached
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none"  # the focus is visible
        camera = page.evaluate("document.activeElement.getAttribute('data-camera')")
        page.keyboard.press("Enter")
        page.wait_for_selector("#camera-view", state="visible")
        assert page.evaluate("location.hash") == f"#camera={camera}"
        assert page.get_attribute("#camera-view video", "data-live-camera") == camera
        assert page.get_attribute("#camera-view video", "aria-label")
        assert page.evaluate("document.activeElement.id") == "camera-view-back"
        # the health table comes from the server, the playback jump names the camera and a start
        page.wait_for_selector("#camera-view-health table", timeout=15_000)
        href = page.get_attribute("#camera-view-playback", "href")
        match = re.fullmatch(r"/recordings\?camera=([^&]+)&start=([^&]+)", href)
        assert match and match.group(1) == camera, href
        start = datetime.fromisoformat(match.group(2).replace("%2B", "+").replace("%3A", ":"))
        assert start.utcoffset().total_seconds() == 8 * 3600
        assert 4 * 60 <= (datetime.now(UTC) - start).total_seconds() <= 6 * 60 + 30
        page.screenshot(path=str(screenshots / f"wall-camera-view-keyboard-{language}.png"))
        page.keyboard.press("Enter")  # on "back to the tour"
        page.wait_for_selector("#camera-view", state="hidden")
        assert page.evaluate("location.hash") == ""
        assert page.evaluate("document.activeElement.getAttribute('data-camera')") == camera
    finally:
        page.context.close()


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_a_ticker_item_is_counted_and_opens_its_place_from_the_keyboard(
    login, browser, served, screenshots, language
):
    page = open_wall(login, browser, served, language)
    try:
        page.wait_for_selector("#incident-ticker .incident-item", timeout=30_000)
        items = page.locator("#incident-ticker .incident-item")
        assert page.inner_text("#ticker-count") == str(items.count())
        # the items scroll inside their bar: the last one can be brought into view, whole
        last = items.last
        last.focus()
        page.wait_for_timeout(600)
        box, bar = last.bounding_box(), page.locator("#incident-ticker").bounding_box()
        assert bar["x"] - 1 <= box["x"] and box["x"] + box["width"] <= bar["x"] + bar["width"] + 1, (box, bar)
        first = items.first
        first.focus()
        camera, incident = first.get_attribute("data-camera"), first.get_attribute("data-incident")
        expected = page.evaluate(
            "id => { const i = WatchWallIncidents.state()[id]; return i.camera_id ? 'camera=' + i.camera_id"
            " : 'centre=' + (i.centre || i.county); }",
            incident,
        )
        page.keyboard.press("Enter")
        page.wait_for_function(f"location.hash === '#{expected}'", timeout=5_000)
        if camera is None:  # an incident about a person: its centre's cameras, the tour paused
            centre = expected.split("=", 1)[1]
            page.wait_for_selector(f"#tile-grid[data-centre={centre}]", timeout=5_000)
        page.screenshot(path=str(screenshots / f"wall-ticker-opened-{language}.png"))
    finally:
        page.context.close()
