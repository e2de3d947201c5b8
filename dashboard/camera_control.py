"""PTZ and presets of a site camera through its ONVIF address, audited; the password never leaves here."""

from __future__ import annotations

import time

from watchwall.cameras.control import CameraControl
from watchwall.cameras.credentials import resolve
from watchwall.config.errors import UserError
from watchwall.config.site import CameraPlace

PTZ_PULSE_S = 0.4  # one click moves the camera this long, then stops
DIRECTIONS = {
    "up": (0.0, 0.5, 0.0),
    "down": (0.0, -0.5, 0.0),
    "left": (-0.5, 0.0, 0.0),
    "right": (0.5, 0.0, 0.0),
    "zoom-in": (0.0, 0.0, 0.5),
    "zoom-out": (0.0, 0.0, -0.5),
}


def control_for(place: CameraPlace, secrets_file=None, timeout: float = 5.0) -> CameraControl:
    camera = place.camera
    if not camera.controllable:
        raise UserError(f"camera {camera.id} has no PTZ")
    credentials = resolve(camera.credentials, secrets_file)
    return CameraControl(
        camera.onvif.host,
        camera.onvif.port,
        credentials.username if credentials else None,
        credentials.password if credentials else None,
        timeout=timeout,
    )


def pulse(control: CameraControl, direction: str) -> None:
    pan, tilt, zoom = DIRECTIONS[direction]
    control.ptz_move(pan, tilt, zoom)
    try:
        time.sleep(PTZ_PULSE_S)
    finally:
        control.ptz_stop()
