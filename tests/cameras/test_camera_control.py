"""The synchronous camera commands (snapshot, PTZ) against a real ipycam camera."""

from __future__ import annotations

import time

import pytest

from tests.cameras.onvif_test_params import CAMERA_PASSWORD, CAMERA_USER, PASSWORD_ENV
from watchwall.cameras.control import CameraControl
from watchwall.cameras.errors import CameraAuthError
from watchwall.cameras.models import InventoryCamera


def wait_until(predicate, read, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    value = read()
    while not predicate(value) and time.monotonic() < deadline:
        time.sleep(0.1)
        value = read()
    return value


def test_ptz_commands(open_camera):
    control = CameraControl(open_camera.host, open_camera.onvif_port)
    control.goto_preset("home")
    control.ptz_move(tilt=-0.5)
    moving = wait_until(lambda status: (status.tilt or 0) < -0.05, control.ptz_status)
    assert moving.moving and moving.tilt < -0.05
    control.ptz_stop()
    stopped = control.ptz_status()
    assert not stopped.moving
    token = control.set_preset("window")
    assert {preset.token: preset.name for preset in control.presets()}[token] == "window"
    control.goto_preset("home")
    assert wait_until(lambda status: abs(status.tilt or 0) < 1e-6, control.ptz_status).tilt == pytest.approx(
        0.0
    )


def _inventory_row(camera, password_env: str | None) -> InventoryCamera:
    return InventoryCamera(
        id="c1",
        centre="qinzhou",
        room="checkin",
        name="c1",
        onvif_host=camera.host,
        onvif_port=camera.onvif_port,
        username=CAMERA_USER,
        password_env=password_env,
    )


def test_snapshot_of_an_inventory_camera(auth_camera, camera_password):
    control = CameraControl.from_inventory(_inventory_row(auth_camera, PASSWORD_ENV))
    assert control.snapshot()[:3] == b"\xff\xd8\xff"
    assert CAMERA_PASSWORD not in repr(control)


def test_inventory_camera_with_wrong_password(auth_camera, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "wrong")
    with pytest.raises(CameraAuthError):
        CameraControl.from_inventory(_inventory_row(auth_camera, PASSWORD_ENV), timeout=10).ptz_status()
