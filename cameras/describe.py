"""Everything WatchWall needs to know about a camera, read over ONVIF in one session.

:func:`describe_camera` is the synchronous entry point used by the CLI and the inventory.
The description carries URIs without credentials and never the password.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field

from watchwall.cameras.device import DEFAULT_TIMEOUT_S, OnvifDevice
from watchwall.cameras.parsers import DeviceInfo, StreamProfile, order_main_first
from watchwall.config.redaction import redact_url


@dataclass(frozen=True)
class ProfileDescription:
    profile: StreamProfile
    stream_uri: str | None


@dataclass(frozen=True)
class CameraDescription:
    host: str
    port: int
    device: DeviceInfo
    services: dict[str, str]
    profiles: list[ProfileDescription]
    snapshot_uri: str | None
    ptz_capable: bool
    clock_drift_s: float | None
    warnings: list[str] = field(default_factory=list)

    @property
    def main(self) -> ProfileDescription | None:
        return self.profiles[0] if self.profiles else None

    @property
    def sub(self) -> ProfileDescription | None:
        return self.profiles[1] if len(self.profiles) > 1 else None

    def as_dict(self) -> dict:
        """JSON-ready; every URL passed through :func:`redact_url`."""
        profiles = []
        for item in self.profiles:
            entry = asdict(item.profile)
            entry["stream_uri"] = redact_url(item.stream_uri) if item.stream_uri else None
            profiles.append(entry)
        return {
            "host": self.host,
            "port": self.port,
            "device": asdict(self.device),
            "services": {name: redact_url(url) for name, url in self.services.items()},
            "profiles": profiles,
            "snapshot_uri": redact_url(self.snapshot_uri) if self.snapshot_uri else None,
            "ptz_capable": self.ptz_capable,
            "clock_drift_s": self.clock_drift_s,
            "warnings": list(self.warnings),
        }


async def describe(device: OnvifDevice) -> CameraDescription:
    """Read an open device: identity, services, profiles (main first) with stream URIs, snapshot URI, clock."""
    info = await device.device_info()
    profiles = order_main_first(await device.profiles())
    described = [ProfileDescription(profile, await device.stream_uri(profile.token)) for profile in profiles]
    snapshot_uri = await device.snapshot_uri(profiles[0].token) if profiles else None
    clock = await device.clock()
    warnings = [] if profiles else ["the camera lists no media profiles"]
    return CameraDescription(
        host=device.host,
        port=device.port,
        device=info,
        services=device.services(),
        profiles=described,
        snapshot_uri=snapshot_uri,
        ptz_capable=device.has_ptz and any(profile.has_ptz for profile in profiles),
        clock_drift_s=round(clock.drift_s, 1),
        warnings=warnings,
    )


async def describe_async(
    host: str, port: int, username: str | None, password: str | None, timeout: float = DEFAULT_TIMEOUT_S
) -> CameraDescription:
    async with OnvifDevice(host, port, username, password, timeout=timeout) as device:
        return await describe(device)


def describe_camera(
    host: str,
    port: int,
    username: str | None = None,
    password: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> CameraDescription:
    """Synchronous :func:`describe_async` (for the CLI and the inventory)."""
    return asyncio.run(describe_async(host, port, username, password, timeout))
