"""/centres/<code> against the ipycam virtual ONVIF camera: live view plays, PTZ moves the camera."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.ipycam_process import start_ipycam  # noqa: E402
from watchwall.cameras.control import CameraControl  # noqa: E402

pytestmark = [pytest.mark.browser]


def in_thread(function, *args):
    """CameraControl runs its own asyncio loop; Playwright's sync API already runs one in this thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result(timeout=30)


@pytest.fixture(scope="module")
def ptz_camera(tmp_path_factory):
    camera = start_ipycam(tmp_path_factory.mktemp("ipycam-centre"), rtsp=True)
    yield camera
    camera.stop()


@pytest.fixture(scope="module")
def centre_served(tmp_path_factory, ptz_camera, served_factory):
    folder = tmp_path_factory.mktemp("centre-site")
    site = folder / "site.yaml"
    site.write_text(
        "centres:\n"
        "  - code: qinzhou\n"
        "    name: {zh: 秦州区社区矫正中心, en: Qinzhou District Centre}\n"
        "    level: county\n"
        "    rooms:\n"
        "      - code: admonition\n"
        "        name: {zh: 训诫室, en: Admonition room}\n"
        "        cameras:\n"
        "          - id: qinzhou-admonition-ptz\n"
        "            name: {zh: 训诫室 球机, en: Admonition PTZ}\n"
        f"            rtsp: rtsp://127.0.0.1:{ptz_camera.rtsp_port}/video_main\n"
        f"            onvif: {{host: 127.0.0.1, port: {ptz_camera.onvif_port}}}\n"
        "            ptz: true\n",
        encoding="utf-8",
    )
    server = served_factory(folder, {"WATCHWALL_SITE": str(site)}, users=("sup-qinzhou",))
    server.start("--no-record")
    yield server
    server.stop()


def test_supervisor_watches_live_and_moves_the_camera(login, browser, centre_served, ptz_camera, screenshots):
    control = CameraControl(ptz_camera.host, ptz_camera.onvif_port)
    in_thread(control.goto_preset, "home")
    before = in_thread(control.ptz_status)
    context = login(browser, centre_served, "sup-qinzhou", viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    try:
        page.goto(f"{centre_served.url}/centres/qinzhou?lang=en")
        page.wait_for_selector("#centre-live[data-live-camera=qinzhou-admonition-ptz]", timeout=30_000)
        first = page.evaluate("document.getElementById('centre-live').currentTime")
        page.wait_for_function(
            "(first) => { const v = document.getElementById('centre-live');"
            " return v.currentTime > first + 1 && v.getVideoPlaybackQuality().totalVideoFrames > 10; }",
            arg=first,
            timeout=60_000,
        )
        # A camera event's push refreshes health and figures; the PTZ tools stay as they are, so a
        # preset name being typed survives and no button moves under the pointer.
        page.fill("#ptz-preset-name", "door")
        page.evaluate("document.getElementById('ptz-panel').dataset.before = 'refresh'")
        with page.expect_response(
            lambda response: (
                "_dash-update-component" in response.url
                and "centre-refresh" in (response.request.post_data or "")
            )
        ):
            page.evaluate("document.getElementById('centre-refresh').click()")
        page.evaluate("new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
        assert page.input_value("#ptz-preset-name") == "door"
        assert page.get_attribute("#ptz-panel", "data-before") == "refresh"
        page.click("button:has-text('Right')")
        page.wait_for_selector("#centre-ptz-result:has-text('Done')", timeout=30_000)
        deadline = time.monotonic() + 10
        after = in_thread(control.ptz_status)
        while (after.pan or 0) <= (before.pan or 0) + 0.01 and time.monotonic() < deadline:
            time.sleep(0.2)
            after = in_thread(control.ptz_status)
        assert (after.pan or 0) > (before.pan or 0) + 0.01, (before, after)
        page.screenshot(path=str(screenshots / "centre-live-ptz-en-1080p.png"))
        assert "ptz" in centre_served.cli("audit", "list", "--action", "ptz").stdout
    finally:
        context.close()
        in_thread(control.goto_preset, "home")
