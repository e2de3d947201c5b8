"""Synchronous one-shot camera commands (snapshot, PTZ) for callers without an event loop.

Each call opens an ONVIF session, acts on the camera's main profile, and closes it.
Use :meth:`CameraControl.from_inventory` to act on an inventory camera: its password is
resolved from the env var or secrets file it names, at call time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from watchwall.cameras.credentials import resolve
from watchwall.cameras.device import DEFAULT_TIMEOUT_S, OnvifDevice
from watchwall.cameras.errors import OnvifError
from watchwall.cameras.models import InventoryCamera
from watchwall.cameras.parsers import Preset, PtzStatus, order_main_first
from watchwall.cameras.ptz import PtzControl
from watchwall.config.site import Credentials

T = TypeVar("T")


class CameraControl:
    def __init__(
        self,
        host: str,
        port: int,
        username: str | None = None,
        password: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self._password = password
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"CameraControl({self.host}:{self.port}, username={self.username!r})"

    @classmethod
    def from_inventory(
        cls, camera: InventoryCamera, secrets_file: Path | None = None, *, timeout: float = DEFAULT_TIMEOUT_S
    ) -> CameraControl:
        credentials = None
        if camera.username:
            credentials = Credentials(
                username=camera.username,
                password_env=camera.password_env,
                password_secret=camera.password_secret,
                password_sealed=camera.password_sealed,
            )
        resolved = resolve(credentials, secrets_file)
        return cls(
            camera.onvif_host,
            camera.onvif_port,
            resolved.username if resolved else None,
            resolved.password if resolved else None,
            timeout=timeout,
        )

    async def _with_main_profile(self, action: Callable[[OnvifDevice, str], Awaitable[T]]) -> T:
        async with OnvifDevice(
            self.host, self.port, self.username, self._password, timeout=self.timeout
        ) as device:
            profiles = order_main_first(await device.profiles())
            if not profiles:
                raise OnvifError(f"camera {device.endpoint} lists no media profiles")
            with_ptz = [profile for profile in profiles if profile.has_ptz]
            return await action(device, (with_ptz or profiles)[0].token)

    def _run(self, action: Callable[[OnvifDevice, str], Awaitable[T]]) -> T:
        return asyncio.run(self._with_main_profile(action))

    def _run_ptz(self, action: Callable[[PtzControl], Awaitable[T]]) -> T:
        return self._run(lambda device, token: action(PtzControl(device, token)))

    def snapshot(self) -> bytes:
        """A JPEG from the main profile."""
        return self._run(lambda device, token: device.snapshot(token))

    def ptz_move(self, pan: float = 0.0, tilt: float = 0.0, zoom: float = 0.0) -> None:
        """Start a continuous move (speeds -1..1); the camera keeps moving until :meth:`ptz_stop`."""
        self._run_ptz(lambda ptz: ptz.continuous_move(pan, tilt, zoom))

    def ptz_stop(self) -> None:
        self._run_ptz(lambda ptz: ptz.stop())

    def ptz_status(self) -> PtzStatus:
        return self._run_ptz(lambda ptz: ptz.status())

    def presets(self) -> list[Preset]:
        return self._run_ptz(lambda ptz: ptz.presets())

    def set_preset(self, name: str, token: str | None = None) -> str:
        return self._run_ptz(lambda ptz: ptz.set_preset(name, token))

    def goto_preset(self, token: str) -> None:
        self._run_ptz(lambda ptz: ptz.goto_preset(token))
