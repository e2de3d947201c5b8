"""Turn what ONVIF cameras answer (zeep objects, vendor variations included) into plain values.

Every vendor quirk the control plane knows of is handled here, so callers see one shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from watchwall.config.errors import UserError

DEFAULT_ONVIF_PORT = 80
# Above this a BitrateLimit cannot be kbit/s (100 Gbit/s); some firmwares report bit/s.
_MAX_PLAUSIBLE_KBPS = 100_000_000 // 1000


@dataclass(frozen=True)
class DeviceInfo:
    manufacturer: str
    model: str
    firmware_version: str
    serial_number: str
    hardware_id: str


@dataclass(frozen=True)
class StreamProfile:
    token: str
    name: str
    codec: str | None
    width: int | None
    height: int | None
    fps: float | None
    bitrate_kbps: int | None
    has_ptz: bool


@dataclass(frozen=True)
class PtzStatus:
    pan: float | None
    tilt: float | None
    zoom: float | None
    moving: bool
    utc_time: datetime | None


@dataclass(frozen=True)
class Preset:
    token: str
    name: str
    pan: float | None
    tilt: float | None
    zoom: float | None


def parse_address(text: str, default_port: int = DEFAULT_ONVIF_PORT) -> tuple[str, int]:
    """``HOST``, ``HOST:PORT``, ``[v6]:PORT`` or an ``http://`` URL -> (host, port)."""
    value = text.strip()
    if not value:
        raise UserError("empty camera address (expected HOST or HOST:PORT)")
    if "://" not in value:
        value = f"http://{value}"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise UserError(f"camera address {text!r} has an invalid port (expected HOST:PORT, 1-65535)") from exc
    if port == 0:
        raise UserError(f"camera address {text!r} has an invalid port (expected HOST:PORT, 1-65535)")
    if not parts.hostname:
        raise UserError(f"camera address {text!r} has no host")
    if parts.password:
        raise UserError("camera address must not contain a password; use --password-env")
    return parts.hostname, port or default_port


def strip_credentials(url: str | None) -> str | None:
    """The URL without any ``user:password@`` (some cameras embed them in stream URIs)."""
    if not url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _field(obj, name: str, default=None):
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _float(value) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def parse_device_info(reply) -> DeviceInfo:
    return DeviceInfo(
        manufacturer=_text(_field(reply, "Manufacturer")),
        model=_text(_field(reply, "Model")),
        firmware_version=_text(_field(reply, "FirmwareVersion")),
        serial_number=_text(_field(reply, "SerialNumber")),
        hardware_id=_text(_field(reply, "HardwareId")),
    )


def bitrate_kbps(value) -> int | None:
    """BitrateLimit is kbit/s by the standard; a few firmwares send bit/s."""
    number = _float(value)
    if number is None or number <= 0:
        return None
    if number > _MAX_PLAUSIBLE_KBPS:
        number /= 1000
    return int(round(number))


def parse_profile(profile) -> StreamProfile:
    encoder = _field(profile, "VideoEncoderConfiguration")
    resolution = _field(encoder, "Resolution")
    rate = _field(encoder, "RateControl")
    fps = _float(_field(rate, "FrameRateLimit"))
    width = _field(resolution, "Width")
    height = _field(resolution, "Height")
    codec = _text(_field(encoder, "Encoding")) or None
    return StreamProfile(
        token=_text(_field(profile, "token")),
        name=_text(_field(profile, "Name")),
        codec=codec.upper() if codec else None,
        width=int(width) if width else None,
        height=int(height) if height else None,
        fps=fps if fps and fps > 0 else None,
        bitrate_kbps=bitrate_kbps(_field(rate, "BitrateLimit")),
        has_ptz=_field(profile, "PTZConfiguration") is not None,
    )


def order_main_first(profiles: list[StreamProfile]) -> list[StreamProfile]:
    """Highest resolution first: the main stream, then sub streams (cameras list them in any order)."""

    def pixels(profile: StreamProfile) -> int:
        return (profile.width or 0) * (profile.height or 0)

    return sorted(profiles, key=pixels, reverse=True)


_POSIX_TZ = re.compile(r"^[A-Za-z]{3,}(?P<sign>[+-]?)(?P<hours>\d{1,2})(?::(?P<minutes>\d{2}))?")
_GMT_OFFSET = re.compile(r"^(?:GMT|UTC)(?P<sign>[+-])(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?$")


def _local_offset(tz_text: str) -> timedelta | None:
    """UTC offset of a camera's TZ string: ``GMT+08:00`` (east is +) or POSIX ``CST-8`` (east is -)."""
    text = tz_text.strip()
    match = _GMT_OFFSET.match(text)
    if match:
        east = match["sign"] == "+"
    else:
        match = _POSIX_TZ.match(text)
        if not match:
            return None
        east = match["sign"] == "-"
    minutes = int(match["hours"]) * 60 + int(match["minutes"] or 0)
    return timedelta(minutes=minutes if east else -minutes)


def _datetime_of(value) -> datetime | None:
    date = _field(value, "Date")
    time = _field(value, "Time")
    if date is None or time is None:
        return None
    try:
        return datetime(
            int(_field(date, "Year")),
            int(_field(date, "Month")),
            int(_field(date, "Day")),
            int(_field(time, "Hour")),
            int(_field(time, "Minute")),
            int(_field(time, "Second")),
        )
    except (TypeError, ValueError):
        return None


def parse_camera_clock(reply) -> datetime | None:
    """The camera's clock in UTC from GetSystemDateAndTime.

    Some firmwares leave UTCDateTime out and send only LocalDateTime with a TZ string.
    """
    utc = _datetime_of(_field(reply, "UTCDateTime"))
    if utc is not None:
        return utc.replace(tzinfo=UTC)
    local = _datetime_of(_field(reply, "LocalDateTime"))
    if local is None:
        return None
    offset = _local_offset(_text(_field(_field(reply, "TimeZone"), "TZ")))
    if offset is None:
        return None
    return (local - offset).replace(tzinfo=UTC)


def _position(position) -> tuple[float | None, float | None, float | None]:
    pan_tilt = _field(position, "PanTilt")
    zoom = _field(position, "Zoom")
    return _float(_field(pan_tilt, "x")), _float(_field(pan_tilt, "y")), _float(_field(zoom, "x"))


def _is_moving(move_status) -> bool:
    """MoveStatus is ``{PanTilt, Zoom}`` per the standard; some firmwares send one bare string."""
    if move_status is None:
        return False
    if isinstance(move_status, str):
        values = [move_status]
    else:
        values = [_field(move_status, "PanTilt"), _field(move_status, "Zoom")]
    return any(_text(value).upper() == "MOVING" for value in values)


def parse_ptz_status(reply) -> PtzStatus:
    pan, tilt, zoom = _position(_field(reply, "Position"))
    utc_time = _field(reply, "UtcTime")
    if isinstance(utc_time, datetime) and utc_time.tzinfo is None:
        utc_time = utc_time.replace(tzinfo=UTC)
    return PtzStatus(
        pan=pan,
        tilt=tilt,
        zoom=zoom,
        moving=_is_moving(_field(reply, "MoveStatus")),
        utc_time=utc_time if isinstance(utc_time, datetime) else None,
    )


def parse_presets(reply) -> list[Preset]:
    presets = []
    for item in reply or []:
        token = _text(_field(item, "token"))
        if not token:
            continue
        pan, tilt, zoom = _position(_field(item, "PTZPosition"))
        presets.append(
            Preset(token=token, name=_text(_field(item, "Name")) or token, pan=pan, tilt=tilt, zoom=zoom)
        )
    return presets


def parse_set_preset_reply(reply) -> str:
    """SetPreset answers the token bare (zeep unwraps it) or as ``{PresetToken: ...}``."""
    if isinstance(reply, str):
        return reply.strip()
    return _text(_field(reply, "PresetToken"))


def parse_media_uri(reply) -> str | None:
    uri = _text(_field(reply, "Uri")) or _text(_field(_field(reply, "MediaUri"), "Uri"))
    return strip_credentials(uri) or None


_AUTH_MARKERS = ("notauthorized", "not authorized", "unauthorized", "authority failure", "authentication")


def is_auth_fault(code: str | None, subcodes: list[str], message: str | None) -> bool:
    """A SOAP fault that means "wrong credentials": ``ter:NotAuthorized`` or its vendor wordings."""
    haystack = " ".join([code or "", *subcodes, message or ""]).lower()
    return any(marker in haystack for marker in _AUTH_MARKERS)


def is_soap_fault(code: str | None, message: str | None) -> bool:
    """zeep reports a non-SOAP error page as a Fault without a code ("Unknown fault occured")."""
    return bool(code) or (message or "").lower() not in (
        "",
        "unknown fault occured",
        "unknown fault occurred",
    )
