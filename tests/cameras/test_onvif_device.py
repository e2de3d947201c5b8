"""The ONVIF client against a real virtual camera (ipycam): identity, profiles, URIs, snapshot, clock, PTZ."""

from __future__ import annotations

import asyncio
import time

import av
import pytest

from tests.cameras.onvif_test_params import CAMERA_PASSWORD, CAMERA_USER, CLOCK_OFFSET_S
from watchwall.cameras.describe import describe_async
from watchwall.cameras.device import OnvifDevice
from watchwall.cameras.ptz import PtzControl


def run(coroutine):
    return asyncio.run(coroutine)


async def _with_device(camera, action, username=None, password=None):
    async with OnvifDevice(camera.host, camera.onvif_port, username, password, timeout=10) as device:
        return await action(device)


def test_device_info_and_services(open_camera):
    async def read(device):
        return await device.device_info(), device.services(), device.has_ptz

    info, services, has_ptz = run(_with_device(open_camera, read))
    assert (info.manufacturer, info.model, info.serial_number) == ("PythonCam", "VirtualCam-1", "PY-000001")
    assert info.firmware_version == "1.3.0"
    assert services["device"].endswith(f":{open_camera.onvif_port}/onvif/device_service")
    assert set(services) == {"device", "media", "ptz"}
    assert has_ptz


def test_describe_gives_main_and_sub_profiles_with_stream_uris(open_camera):
    description = run(describe_async(open_camera.host, open_camera.onvif_port, None, None, timeout=10))
    main, sub = description.main, description.sub
    assert (main.profile.codec, main.profile.width, main.profile.height) == ("H264", 320, 240)
    assert (main.profile.fps, main.profile.bitrate_kbps) == (10.0, 1000)
    assert (sub.profile.width, sub.profile.height, sub.profile.bitrate_kbps) == (160, 120, 300)
    assert main.stream_uri == f"rtsp://127.0.0.1:{open_camera.rtsp_port}/video_main"
    assert sub.stream_uri == f"rtsp://127.0.0.1:{open_camera.rtsp_port}/video_sub"
    assert description.snapshot_uri == f"http://127.0.0.1:{open_camera.onvif_port}/snapshot.jpg"
    assert description.ptz_capable is True
    # The camera's clock runs CLOCK_OFFSET_S ahead; it reports whole seconds.
    assert CLOCK_OFFSET_S - 1.6 <= description.clock_drift_s <= CLOCK_OFFSET_S + 0.6


@pytest.mark.slow
def test_main_stream_uri_serves_h264_over_rtsp(open_camera):
    uri = run(
        describe_async(open_camera.host, open_camera.onvif_port, None, None, timeout=10)
    ).main.stream_uri
    options = {"rtsp_transport": "tcp", "timeout": "10000000"}
    container = av.open(uri, options=options, timeout=20)
    try:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        packets = 0
        for packet in container.demux(stream):
            if packet.size:
                packets += 1
            if packets >= 3:
                break
        assert packets == 3
    finally:
        container.close()


def test_snapshot_is_a_jpeg(open_camera):
    async def snap(device):
        profiles = await device.profiles()
        return await device.snapshot(profiles[0].token)

    image = run(_with_device(open_camera, snap))
    assert image[:3] == b"\xff\xd8\xff" and image[-2:] == b"\xff\xd9"
    assert len(image) > 1000


def test_snapshot_with_credentials(auth_camera):
    async def snap(device):
        profiles = await device.profiles()
        return await device.snapshot(profiles[0].token)

    image = run(_with_device(auth_camera, snap, CAMERA_USER, CAMERA_PASSWORD))
    assert image[:3] == b"\xff\xd8\xff"


def test_clock_of_a_camera_in_step_is_within_a_second(auth_camera):
    reading = run(_with_device(auth_camera, lambda device: device.clock(), CAMERA_USER, CAMERA_PASSWORD))
    assert -1.6 <= reading.drift_s <= 0.6


async def _wait_for(predicate, read, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    value = await read()
    while not predicate(value) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        value = await read()
    return value


def test_ptz_continuous_move_stop_and_presets(open_camera):
    async def exercise(device):
        profiles = await device.profiles()
        ptz = PtzControl(device, profiles[0].token)
        await ptz.goto_preset("home")
        start = await _wait_for(lambda status: not status.moving, ptz.status)
        assert start.pan == pytest.approx(0.0, abs=1e-6)

        await ptz.continuous_move(pan=0.5)
        moving = await _wait_for(lambda status: status.moving and (status.pan or 0) > 0.05, ptz.status)
        assert moving.moving and moving.pan > 0.05

        await ptz.stop()
        stopped = await ptz.status()
        assert not stopped.moving
        await asyncio.sleep(0.3)
        assert (await ptz.status()).pan == pytest.approx(stopped.pan, abs=1e-6)

        token = await ptz.set_preset("door")
        presets = {preset.token: preset for preset in await ptz.presets()}
        assert presets[token].name == "door"
        assert presets[token].pan == pytest.approx(stopped.pan, abs=1e-6)

        await ptz.goto_preset("home")
        home = await _wait_for(lambda status: abs(status.pan or 0) < 1e-6, ptz.status)
        assert home.pan == pytest.approx(0.0, abs=1e-6)
        await ptz.goto_preset(token)
        back = await _wait_for(lambda status: abs((status.pan or 0) - stopped.pan) < 1e-6, ptz.status)
        assert back.pan == pytest.approx(stopped.pan, abs=1e-6)
        assert back.utc_time is not None

    run(_with_device(open_camera, exercise))
