"""Pan/tilt/zoom on an open :class:`watchwall.cameras.device.OnvifDevice`: move, stop, presets, status."""

from __future__ import annotations

from watchwall.cameras import parsers
from watchwall.cameras.device import OnvifDevice
from watchwall.cameras.errors import OnvifError
from watchwall.cameras.parsers import Preset, PtzStatus


def _clamp(value: float) -> float:
    return max(-1.0, min(1.0, float(value)))


class PtzControl:
    """PTZ of one media profile (the profile carries the PTZ configuration)."""

    def __init__(self, device: OnvifDevice, profile_token: str) -> None:
        if not device.has_ptz:
            raise OnvifError(f"camera {device.endpoint} has no PTZ service")
        self.device = device
        self.profile_token = profile_token

    async def _service(self):
        return await self.device.call(self.device.camera.create_ptz_service())

    async def continuous_move(self, pan: float = 0.0, tilt: float = 0.0, zoom: float = 0.0) -> None:
        """Start moving at the given speeds (-1..1 in the generic velocity space) until :meth:`stop`."""
        velocity: dict = {}
        if pan or tilt:
            velocity["PanTilt"] = {"x": _clamp(pan), "y": _clamp(tilt)}
        if zoom:
            velocity["Zoom"] = {"x": _clamp(zoom)}
        if not velocity:
            raise ValueError("continuous_move needs a non-zero pan, tilt or zoom speed")
        service = await self._service()
        await self.device.call(
            service.ContinuousMove({"ProfileToken": self.profile_token, "Velocity": velocity})
        )

    async def stop(self, pan_tilt: bool = True, zoom: bool = True) -> None:
        service = await self._service()
        await self.device.call(
            service.Stop({"ProfileToken": self.profile_token, "PanTilt": pan_tilt, "Zoom": zoom})
        )

    async def status(self) -> PtzStatus:
        service = await self._service()
        return parsers.parse_ptz_status(
            await self.device.call(service.GetStatus({"ProfileToken": self.profile_token}))
        )

    async def presets(self) -> list[Preset]:
        service = await self._service()
        return parsers.parse_presets(
            await self.device.call(service.GetPresets({"ProfileToken": self.profile_token}))
        )

    async def set_preset(self, name: str, token: str | None = None) -> str:
        """Store the current position as preset ``name``; returns the camera's preset token."""
        request = {"ProfileToken": self.profile_token, "PresetName": name}
        if token:
            request["PresetToken"] = token
        service = await self._service()
        reply = await self.device.call(service.SetPreset(request))
        stored = parsers.parse_set_preset_reply(reply)
        if not stored:
            raise OnvifError(f"camera {self.device.endpoint} stored preset {name!r} but returned no token")
        return stored

    async def goto_preset(self, token: str) -> None:
        service = await self._service()
        await self.device.call(service.GotoPreset({"ProfileToken": self.profile_token, "PresetToken": token}))
