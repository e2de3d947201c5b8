"""The county page against a real GStreamer camera (main and sub stream) without PTZ: the PTZ panel is
greyed out with the reason, a snapshot is the main stream's frame at its full resolution (not the
scaled thumbnail), shown and saved on the page and audited, and the check-in lists have headers and
counts in both languages."""

from __future__ import annotations

import io
import json

import pytest
import requests
from PIL import Image

from tests.support.rtsp_process import RtspServerProcess, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.rtsp]

MAIN_SIZE, SUB_SIZE = (960, 540), (320, 180)
CAMERA = "door"


@pytest.fixture(scope="module")
def camera_server():
    server = RtspServerProcess(
        {"/main": f"h264@{MAIN_SIZE[0]}x{MAIN_SIZE[1]}", "/sub": f"h264@{SUB_SIZE[0]}x{SUB_SIZE[1]}"}
    ).start()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def centre_served(tmp_path_factory, camera_server, served_factory):
    folder = tmp_path_factory.mktemp("centre-snapshot")
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
        f"          - id: {CAMERA}\n"
        "            name: {zh: 报到登记室 门口, en: Check-in door}\n"
        f"            rtsp: {camera_server.url('/main')}\n"
        f"            sub_rtsp: {camera_server.url('/sub')}\n"
        "  - code: maiji\n"
        "    name: {zh: 麦积区社区矫正中心, en: Maiji District Centre}\n"
        "    level: county\n"
        "    rooms: []\n",
        encoding="utf-8",
    )
    env = {"WATCHWALL_SITE": str(site), "WATCHWALL_THUMBNAIL_INTERVAL_S": "1"}
    server = served_factory(folder, env, users=("sup-qinzhou", "sup-maiji"))
    server.start("--no-record", timeout=300)
    yield server
    server.stop()


def test_no_ptz_is_greyed_with_its_reason_and_a_snapshot_is_full_resolution_and_audited(
    login, browser, centre_served, http_login, screenshots, tmp_path
):
    # another county's supervisor gets nothing, not even a picture
    other = http_login(centre_served, "sup-maiji")
    refused = other.get(f"{centre_served.url}/snapshot/full/{CAMERA}.jpg", timeout=30)
    assert refused.status_code == 403 and not refused.content.startswith(b"\xff\xd8")

    context = login(
        browser, centre_served, "sup-qinzhou", viewport={"width": 1920, "height": 1080}, accept_downloads=True
    )
    page = context.new_page()
    try:
        page.goto(f"{centre_served.url}/centres/qinzhou?lang=en")
        page.wait_for_selector(f"#centre-live[data-live-camera={CAMERA}]", timeout=60_000)
        label = page.get_attribute("#centre-live", "aria-label")
        assert "Check-in door" in label and "Check-in room" in label

        # No PTZ: the panel is there, greyed out, its buttons disabled, and it says why.
        page.wait_for_selector("#ptz-panel.ptz-disabled", timeout=30_000)
        assert page.get_attribute("#ptz-panel", "aria-disabled") == "true"
        assert "no PTZ" in page.inner_text("#ptz-reason")
        buttons = page.locator("#ptz-panel button")
        assert buttons.count() >= 4 and all(buttons.nth(i).is_disabled() for i in range(buttons.count()))
        opacity = page.evaluate("getComputedStyle(document.getElementById('ptz-panel')).opacity")
        assert float(opacity) < 0.6

        # The live picture runs before the snapshot is taken.
        page.wait_for_function(
            "() => document.getElementById('centre-live').getVideoPlaybackQuality().totalVideoFrames > 5",
            timeout=90_000,
        )
        before = {entry["id"] for entry in audit_entries(centre_served, "snapshot")}
        with page.expect_download(timeout=60_000) as download_info:
            page.click("#snapshot-button")
        page.wait_for_selector(".snapshot-preview", timeout=30_000)
        toast = page.inner_text("#snapshot-toast")
        assert f"{MAIN_SIZE[0]}×{MAIN_SIZE[1]}" in toast and "full resolution" in toast
        saved = tmp_path / "snapshot.jpg"
        download_info.value.save_as(saved)
        with Image.open(saved) as picture:
            assert picture.format == "JPEG" and picture.size == MAIN_SIZE
        natural = page.evaluate(
            "() => { const i = document.querySelector('.snapshot-preview');"
            " return [i.naturalWidth, i.naturalHeight]; }"
        )
        assert tuple(natural) == MAIN_SIZE

        # The thumbnail (what a scaled grab would give) is smaller: the snapshot is not that picture.
        cookies = {c["name"]: c["value"] for c in context.cookies()}
        thumbnail = requests.get(f"{centre_served.url}/snapshot/{CAMERA}.jpg", cookies=cookies, timeout=30)
        if thumbnail.status_code == 200:
            with Image.open(io.BytesIO(thumbnail.content)) as small:
                assert small.size[0] < MAIN_SIZE[0]

        entries = wait_until(
            lambda: [e for e in audit_entries(centre_served, "snapshot") if e["id"] not in before] or None,
            10,
            0.2,
            what="snapshot audit",
        )
        full = [e for e in entries if (e.get("detail") or {}).get("full_resolution")]
        assert full and full[0]["actor"] == "sup-qinzhou" and full[0]["target"] == CAMERA
        assert (full[0]["detail"]["width"], full[0]["detail"]["height"]) == MAIN_SIZE

        # The missed and pending lists: column headers and a count.
        page.wait_for_selector("#missed-table thead th", timeout=30_000)
        assert page.locator("#missed-table thead th").all_inner_texts() == ["Name", "Slot", "Outcome"]
        assert page.locator("#pending-table thead th").all_inner_texts() == ["Name", "Slot"]
        missed_count = int(page.get_attribute("#missed-count", "data-count"))
        rows = page.locator("#missed-table tbody tr")
        assert missed_count == (0 if "No missed" in rows.first.inner_text() else rows.count())
        assert "Pending check-ins today" in page.inner_text(".side-column")
        page.screenshot(path=str(screenshots / "centre-snapshot-no-ptz-en-1080p.png"), full_page=True)

        page.goto(f"{centre_served.url}/centres/qinzhou?lang=zh-CN")
        page.wait_for_selector("#ptz-panel.ptz-disabled", timeout=60_000)
        assert "不支持云台" in page.inner_text("#ptz-reason")
        page.wait_for_selector("#missed-table thead th", timeout=30_000)
        assert page.locator("#missed-table thead th").all_inner_texts() == ["姓名", "时段", "结果"]
        side = page.inner_text(".side-column")
        assert "今日未报到" in side and "今日待报到" in side and "centre." not in side
        page.click("#snapshot-button")
        page.wait_for_selector(".snapshot-preview", timeout=30_000)
        assert "原始分辨率" in page.inner_text("#snapshot-toast")
        page.screenshot(path=str(screenshots / "centre-snapshot-no-ptz-zh-CN-1080p.png"), full_page=True)
    finally:
        context.close()


def audit_entries(server, action: str) -> list[dict]:
    """The audit log's entries of ``action``, newest first (``watchwall audit list --json``)."""
    result = server.cli("audit", "list", "--action", action, "--json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
