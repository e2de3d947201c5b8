"""The site file: centres, their rooms, and each room's cameras.

Validated strictly (unknown keys are errors); every error names the file, the
line and the field. Credentials are references (an env var or a secrets-file
key), never values: a password written into a URL is refused.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from watchwall.config.errors import UserError
from watchwall.config.redaction import redact_url
from watchwall.config.yaml_lines import YamlSyntaxError, line_of, load_with_lines

CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
Code = Annotated[str, Field(pattern=CODE_PATTERN)]

STANDARD_ROOMS: dict[str, tuple[str, str]] = {
    "checkin": ("报到登记室", "Registration / check-in room"),
    "announcement": ("宣告室", "Announcement room"),
    "admonition": ("训诫室", "Admonition room"),
    "counselling": ("心理矫治室", "Psychological counselling room"),
    "education": ("教育学习室", "Education room"),
    "monitoring": ("监控指挥室", "Monitoring / command room"),
    "archives": ("档案室", "Archives room"),
    "interview": ("谈话室", "Interview room"),
    "selfservice": ("自助服务区", "Self-service area"),
    "entrance": ("出入口", "Entrance"),
}


class SiteError(UserError, ValueError):
    """A site file that cannot be used; the message is meant for the operator."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocalizedName(_Strict):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, language: str) -> str:
        return self.en if language.startswith("en") else self.zh

    def __str__(self) -> str:
        return self.zh if self.zh == self.en else f"{self.zh} / {self.en}"


def _name_from_plain_string(value: Any) -> Any:
    if isinstance(value, str):
        return {"zh": value, "en": value}
    return value


class Coordinates(_Strict):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Credentials(_Strict):
    """Who to log in as; the password comes from an env var or the secrets file."""

    username: str = Field(min_length=1)
    password_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    password_secret: str | None = Field(default=None, min_length=1)
    # a password typed into /admin, sealed under the data dir's camera key (cameras/password_seal.py)
    password_sealed: str | None = Field(default=None, min_length=1, repr=False)

    @model_validator(mode="after")
    def _one_reference(self) -> Credentials:
        if self.password_env and self.password_secret:
            raise ValueError("give password_env or password_secret, not both")
        if self.password_sealed and (self.password_env or self.password_secret):
            raise ValueError("a sealed password goes with no other password reference")
        return self


class OnvifAddress(_Strict):
    host: str = Field(min_length=1)
    port: int = Field(default=80, ge=1, le=65535)


class DemoSource(_Strict):
    """A generated, looping H.264 test scene standing in for a camera."""

    pattern: Literal["bars", "room", "counter"] = "room"
    width: int = Field(default=640, ge=64, le=3840)
    height: int = Field(default=360, ge=64, le=2160)
    fps: int = Field(default=15, ge=1, le=60)
    seconds: int = Field(default=10, ge=2, le=600)
    gop: int = Field(default=30, ge=1, le=600)
    # encoded live with the wall-clock time on it, like a real camera (video/ingest/demo_live.py);
    # false: the cached looping clip, cheaper, but its keyframes repeat every loop
    clock: bool = True


StreamName = Literal["main", "sub"]


class StreamRoles(_Strict):
    """Which of a camera's two streams does what. With no sub stream, the main one does everything.

    ``record``: the stream recorded; ``live``: the full-screen live view's first choice (the
    player falls back to the other when the browser cannot play its codec or it is down);
    ``tiles``: wall and grid tiles; ``thumbnails``: keyframe thumbnails and tamper analytics
    (decoding the sub stream is cheaper); ``faces``: the recording face checks are to read.
    """

    record: StreamName = "main"
    live: StreamName = "main"
    tiles: StreamName = "sub"
    thumbnails: StreamName = "sub"
    faces: StreamName = "main"

    def stream(self, role: str, has_sub: bool) -> str:
        """The stream that plays ``role``: the configured one, or main when there is no sub stream."""
        chosen = getattr(self, role)
        return chosen if has_sub else "main"


def _check_stream_url(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("rtsp", "rtsps"):
        raise ValueError(f"{field} must be an rtsp:// URL, got scheme {parts.scheme or 'none'!r}")
    if not parts.hostname:
        raise ValueError(f"{field} has no host")
    if parts.password:
        raise ValueError(
            f"{field} has a password written in it; put it in an env var and name it "
            "under credentials.password_env"
        )
    return value


def same_stream(first: str, second: str) -> bool:
    """Two RTSP URLs naming the same stream: scheme and host compared without case, the
    default port 554 made explicit, user info left out."""

    def key(url: str) -> tuple:
        parts = urlsplit(url)
        default = 322 if parts.scheme.lower() == "rtsps" else 554
        return (
            parts.scheme.lower(),
            (parts.hostname or "").lower(),
            parts.port or default,
            parts.path.rstrip("/") or "/",
            parts.query,
        )

    return key(first) == key(second)


class Camera(_Strict):
    id: Code
    name: LocalizedName
    rtsp: str | None = None
    sub_rtsp: str | None = None
    onvif: OnvifAddress | None = None
    demo: DemoSource | None = None
    file: Path | None = None
    credentials: Credentials | None = None
    profile: Literal["main", "sub"] = "main"
    # How RTP comes from an rtsp camera: interleaved on the RTSP connection, over UDP, or auto
    # (TCP first, UDP when the camera refuses TCP with 461 or 400).
    transport: Literal["auto", "tcp", "udp"] = "auto"

    streams: StreamRoles = Field(default_factory=StreamRoles)
    ptz: bool = False
    enabled: bool = True
    rollcall: bool = False  # the centre's duty-room camera for roll-calls (besides a monitoring room's)
    # in a cluster: recorded only by this ingest node, with no failover (it keeps recording
    # through a database or network outage)
    pinned_to: Code | None = None

    _plain_name = field_validator("name", mode="before")(staticmethod(_name_from_plain_string))

    @field_validator("demo", mode="before")
    @classmethod
    def _demo_shorthand(cls, value: Any) -> Any:
        if value is True or value == {} or (isinstance(value, str) and value):
            return {} if not isinstance(value, str) else {"pattern": value}
        return value

    @field_validator("rtsp")
    @classmethod
    def _rtsp_url(cls, value: str | None) -> str | None:
        return _check_stream_url(value, "rtsp")

    @field_validator("sub_rtsp")
    @classmethod
    def _sub_rtsp_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A sub stream stands beside the main stream, and is another stream than it.

        Whether its picture is smaller than the main one's is known only once both are
        probed: ``watchwall site check --probe`` checks it, and the ingest refuses to use a
        larger sub stream (video.ingest.stream_pair)."""
        value = _check_stream_url(value, "sub_rtsp")
        if value is None:
            return None
        main = info.data.get("rtsp")
        if main is None:
            raise ValueError("sub_rtsp needs the main stream's rtsp beside it")
        if same_stream(value, main):
            raise ValueError(
                "sub_rtsp is the main stream's URL (rtsp); give the camera's second profile, "
                "or leave sub_rtsp out"
            )
        return value

    @model_validator(mode="after")
    def _exactly_one_source(self) -> Camera:
        media = [name for name in ("rtsp", "demo", "file") if getattr(self, name) is not None]
        if len(media) > 1 or (not media and self.onvif is None):
            found = ", ".join(media) if media else "none"
            raise ValueError(
                f"a camera needs exactly one media source of rtsp, demo, file, or an onvif address alone "
                f"(found: {found}); onvif may stand beside rtsp as the control address"
            )
        return self

    @property
    def has_sub_stream(self) -> bool:
        """Whether two streams are pulled: a sub stream beside the main one (``profile: sub`` pulls one)."""
        return self.sub_rtsp is not None and self.profile == "main"

    def stream_for(self, role: str) -> str:
        """ "main" or "sub": the stream that plays ``role`` (record, live, tiles, thumbnails, faces)."""
        return self.streams.stream(role, self.has_sub_stream)

    @property
    def source_kind(self) -> str:
        for name in ("rtsp", "demo", "file", "onvif"):
            if getattr(self, name) is not None:
                return name
        raise AssertionError("validated camera without a source")

    @property
    def controllable(self) -> bool:
        """Whether PTZ commands can reach it (an ONVIF address and ``ptz: true``)."""
        return self.onvif is not None and self.ptz

    def redacted_source(self) -> str:
        """The source as safe to print: never a password."""
        if self.rtsp:
            control = f" (onvif {self.onvif.host}:{self.onvif.port})" if self.onvif else ""
            return redact_url(self.rtsp) + control
        if self.onvif:
            return f"onvif://{self.onvif.host}:{self.onvif.port}"
        if self.demo:
            d = self.demo
            return f"demo:{d.pattern} {d.width}x{d.height}@{d.fps}"
        return f"file:{self.file}"


class Room(_Strict):
    code: Code
    name: LocalizedName
    kind: str | None = None
    cameras: list[Camera] = Field(default_factory=list)

    _plain_name = field_validator("name", mode="before")(staticmethod(_name_from_plain_string))

    @property
    def standard_kind(self) -> str:
        kind = self.kind or self.code
        return kind if kind in STANDARD_ROOMS else "other"


class Centre(_Strict):
    code: Code
    name: LocalizedName
    short_name: LocalizedName | None = None  # for charts and tight spaces; defaults to name
    level: Literal["city", "county"]
    coordinates: Coordinates | None = None
    rooms: list[Room] = Field(default_factory=list)

    _plain_name = field_validator("name", mode="before")(staticmethod(_name_from_plain_string))

    _plain_short_name = field_validator("short_name", mode="before")(staticmethod(_name_from_plain_string))

    @property
    def label(self) -> LocalizedName:
        return self.short_name or self.name

    @model_validator(mode="after")
    def _unique_rooms(self) -> Centre:
        seen: set[str] = set()
        for room in self.rooms:
            if room.code in seen:
                raise ValueError(f"room code {room.code!r} appears twice in centre {self.code!r}")
            seen.add(room.code)
        return self

    def cameras(self) -> list[Camera]:
        return [camera for room in self.rooms for camera in room.cameras]


class Site(_Strict):
    name: LocalizedName | None = None
    timezone: str | None = None
    centres: list[Centre] = Field(min_length=1)

    _plain_name = field_validator("name", mode="before")(staticmethod(_name_from_plain_string))

    @model_validator(mode="after")
    def _unique_ids(self) -> Site:
        codes: set[str] = set()
        cameras: set[str] = set()
        cities = 0
        for centre in self.centres:
            if centre.code in codes:
                raise ValueError(f"centre code {centre.code!r} appears twice")
            codes.add(centre.code)
            cities += centre.level == "city"
            for camera in centre.cameras():
                if camera.id in cameras:
                    raise ValueError(f"camera id {camera.id!r} appears twice")
                cameras.add(camera.id)
        if cities > 1:
            raise ValueError("a site has at most one city centre")
        return self

    def centre(self, code: str) -> Centre:
        for centre in self.centres:
            if centre.code == code:
                return centre
        raise KeyError(code)

    def cameras(self) -> list[CameraPlace]:
        return [
            CameraPlace(centre=centre, room=room, camera=camera)
            for centre in self.centres
            for room in centre.rooms
            for camera in room.cameras
        ]

    def camera(self, camera_id: str) -> CameraPlace:
        for place in self.cameras():
            if place.camera.id == camera_id:
                return place
        raise KeyError(camera_id)

    @property
    def counties(self) -> list[Centre]:
        return [centre for centre in self.centres if centre.level == "county"]


class CameraPlace(BaseModel):
    """A camera with the centre and room it belongs to."""

    model_config = ConfigDict(frozen=True)
    centre: Centre
    room: Room
    camera: Camera


def format_loc(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _yaml_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Pydantic's location without the union/validator tags it inserts."""
    return tuple(
        part
        for part in loc
        if isinstance(part, int) or not re.match(r"^[a-z_]+\[.*\]$|^function-", str(part))
    )


def load_site(path: str | Path) -> Site:
    """Load and validate a site file; raise :class:`SiteError` naming file, line and field."""
    path = Path(path)
    try:
        data, lines = load_with_lines(path)
    except YamlSyntaxError as exc:
        raise SiteError(str(exc)) from exc
    if not isinstance(data, dict):
        raise SiteError(f"{path}:1: a site file is a mapping with a 'centres' list")
    try:
        return Site.model_validate(data)
    except ValidationError as exc:
        messages = []
        for error in exc.errors():
            loc = _yaml_loc(tuple(error["loc"]))
            line = line_of(lines, loc)
            where = f"{path}:{line}" if line else str(path)
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = f"unknown key {loc[-1]!r}"
            messages.append(f"{where}: {format_loc(loc)}: {message}")
        raise SiteError("\n".join(messages)) from exc
