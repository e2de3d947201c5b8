"""Talking to one ONVIF camera: device information, services, media profiles, URIs, snapshot, clock.

Every call runs under a deadline and fails with one :class:`watchwall.cameras.errors.OnvifError`.
The password is held by the ONVIF client only; nothing here prints, logs or returns it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import aiohttp
import zeep.exceptions

from watchwall.cameras import parsers
from watchwall.cameras.errors import CameraAuthError, OnvifError, translate
from watchwall.cameras.onvif_lib import ONVIFCamera
from watchwall.cameras.parsers import DeviceInfo, StreamProfile

DEFAULT_TIMEOUT_S = 10.0
JPEG_MAGIC = b"\xff\xd8\xff"

T = TypeVar("T")

SERVICE_NAMESPACES = {
    "device": "http://www.onvif.org/ver10/device/wsdl",
    "media": "http://www.onvif.org/ver10/media/wsdl",
    "media2": "http://www.onvif.org/ver20/media/wsdl",
    "ptz": "http://www.onvif.org/ver20/ptz/wsdl",
    "imaging": "http://www.onvif.org/ver20/imaging/wsdl",
    "events": "http://www.onvif.org/ver10/events/wsdl",
}


@dataclass(frozen=True)
class ClockReading:
    camera_utc: datetime
    local_utc: datetime

    @property
    def drift_s(self) -> float:
        """Camera clock minus local clock, in seconds (positive: the camera is ahead)."""
        return (self.camera_utc - self.local_utc).total_seconds()


class OnvifDevice:
    """One camera session; use ``async with OnvifDevice(...) as device``."""

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
        self.username = username or None
        self._password = password or None
        self.timeout = timeout
        self._camera: ONVIFCamera | None = None

    def __repr__(self) -> str:
        return f"OnvifDevice({self.endpoint!r}, username={self.username!r})"

    @property
    def endpoint(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    async def __aenter__(self) -> OnvifDevice:
        await self.open()
        return self

    async def __aexit__(self, *_exc_info) -> None:
        await self.close()

    async def call(self, awaitable: Awaitable[T]) -> T:
        """Await one camera request under the deadline, translating any failure."""
        try:
            async with asyncio.timeout(self.timeout):
                return await awaitable
        except OnvifError:
            raise
        except Exception as exc:
            raise translate(exc, self.endpoint, self.timeout, self.username) from exc

    async def open(self) -> None:
        # adjust_time signs requests with the camera's clock: cameras reject tokens that drift.
        self._camera = ONVIFCamera(
            self.host, self.port, self.username or "", self._password or "", no_cache=True, adjust_time=True
        )
        try:
            await self.call(self._camera.update_xaddrs())
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        camera, self._camera = self._camera, None
        if camera is not None:
            await camera.close()

    @property
    def camera(self) -> ONVIFCamera:
        if self._camera is None:
            raise RuntimeError("OnvifDevice used before open()")
        return self._camera

    def services(self) -> dict[str, str]:
        """Known service name -> XAddr, as the camera advertised them."""
        by_namespace = self.camera.xaddrs
        return {name: by_namespace[ns] for name, ns in SERVICE_NAMESPACES.items() if ns in by_namespace}

    @property
    def has_ptz(self) -> bool:
        return SERVICE_NAMESPACES["ptz"] in self.camera.xaddrs

    async def device_info(self) -> DeviceInfo:
        service = await self.call(self.camera.create_devicemgmt_service())
        return parsers.parse_device_info(await self.call(service.GetDeviceInformation()))

    async def clock(self) -> ClockReading:
        """The camera's clock against ours, read at the midpoint of the request."""
        service = await self.call(self.camera.create_devicemgmt_service())
        started = time.time()
        try:
            reply = await self.call(service.authless_GetSystemDateAndTime())
        except CameraAuthError:
            reply = await self.call(service.GetSystemDateAndTime())
        finished = time.time()
        camera_utc = parsers.parse_camera_clock(reply)
        if camera_utc is None:
            raise OnvifError(f"camera {self.endpoint} sent no usable date and time")
        return ClockReading(camera_utc, datetime.fromtimestamp((started + finished) / 2, UTC))

    async def profiles(self) -> list[StreamProfile]:
        media = await self.call(self.camera.create_media_service())
        replies = await self.call(media.GetProfiles())
        return [parsers.parse_profile(item) for item in replies or []]

    async def stream_uri(self, profile_token: str) -> str | None:
        media = await self.call(self.camera.create_media_service())
        request = {
            "StreamSetup": {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}},
            "ProfileToken": profile_token,
        }
        return parsers.parse_media_uri(await self.call(media.GetStreamUri(request)))

    async def snapshot_uri(self, profile_token: str) -> str | None:
        media = await self.call(self.camera.create_media_service())
        try:
            reply = await self.call(media.GetSnapshotUri({"ProfileToken": profile_token}))
        except OnvifError as exc:
            if isinstance(exc.__cause__, zeep.exceptions.Fault) and not isinstance(exc, CameraAuthError):
                return None  # the profile has no snapshot: a fault by the standard
            raise
        return parsers.parse_media_uri(reply)

    async def snapshot(self, profile_token: str) -> bytes:
        """The JPEG the camera serves at the profile's snapshot URI."""
        uri = await self.snapshot_uri(profile_token)
        if not uri:
            raise OnvifError(f"camera {self.endpoint} offers no snapshot for profile {profile_token!r}")
        image = await self.call(self._fetch_image(uri))
        if not image.startswith(JPEG_MAGIC):
            raise OnvifError(f"camera {self.endpoint} snapshot is not a JPEG image")
        return image

    async def _fetch_image(self, uri: str) -> bytes:
        # Digest first (most cameras), Basic when the camera only challenges for Basic.
        attempts: list[dict] = [{}]
        if self.username:
            password = self._password or ""
            attempts = [
                {"middlewares": (aiohttp.DigestAuthMiddleware(self.username, password),)},
                {"headers": {"Authorization": aiohttp.encode_basic_auth(self.username, password)}},
            ]
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout)) as session:
            for options in attempts:
                async with session.get(uri, allow_redirects=True, **options) as response:
                    if response.status == 401:
                        continue
                    if response.status >= 300:
                        raise OnvifError(f"camera {self.endpoint} snapshot answered HTTP {response.status}")
                    return await response.read()
        raise CameraAuthError(f"camera {self.endpoint} refused the credentials for its snapshot")
