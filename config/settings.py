"""Installation settings: env vars ``WATCHWALL_*`` over a YAML file over defaults.

The YAML file is ``$WATCHWALL_CONFIG`` when set, else ``<data_dir>/watchwall.yaml``
when it exists. Keys are the field names below (``database_url: ...``).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from watchwall.config.checkin_windows import CheckinWindows
from watchwall.config.errors import UserError
from watchwall.config.face_check_settings import CheckinVideoSettings, FaceCheckSettings
from watchwall.config.incident_settings import IncidentSettings
from watchwall.config.rollcall_settings import RollcallSettings
from watchwall.config.secret_key import load_or_create_secret, load_or_create_secret_key

PACKAGE_DIR = Path(__file__).resolve().parent
DEMO_SITE = PACKAGE_DIR / "sites" / "tianshui.yaml"


def default_data_dir() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "watchwall"


def _yaml_file() -> Path | None:
    explicit = os.environ.get("WATCHWALL_CONFIG")
    if explicit:
        return Path(explicit)
    data_dir = Path(os.environ.get("WATCHWALL_DATA_DIR") or default_data_dir())
    candidate = data_dir / "watchwall.yaml"
    return candidate if candidate.exists() else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WATCHWALL_", extra="forbid")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    redis_url: str | None = None
    site: Path = DEMO_SITE
    timezone: str = "Asia/Shanghai"
    language: Literal["zh-CN", "en"] = "zh-CN"
    secrets_file: Path | None = None
    # The installation secret (cookies, the audit anchor, the roles' media tokens); default
    # <data_dir>/secret_key. Every machine of a cluster gets a copy of the same file.
    secret_key_file: Path | None = None
    thumbnail_interval_s: float = (
        10.0  # keyframe decode + analytics dominate monitoring cost: see benchmarks/README.md
    )
    tour_interval_s: float = Field(default=20.0, ge=5.0)
    wall_tiles: int = Field(default=8, ge=1, le=36)
    metrics_allowed_networks: list[str] = Field(default_factory=list)  # CIDRs besides loopback for /metrics
    stall_after_s: float = 2.0
    # How often the RTSP loop drains every camera's socket: CPU against up to this much live latency
    rtsp_poll_interval_s: float = Field(default=0.1, ge=0.01, le=0.5)
    recording_segment_s: float = Field(default=60, gt=0)
    retention_days: int = Field(default=30, ge=1)
    onvif_timeout_s: float = Field(default=8.0, gt=0, le=120)  # /admin waits this long for a camera
    retention_min_free_gb: float | None = Field(default=None, ge=0)  # keep at least this much disk free
    # when each check-in slot is owed (local time); a slot is missed only once its window closed
    checkin_windows: CheckinWindows = Field(default_factory=CheckinWindows)
    incidents: IncidentSettings = Field(default_factory=IncidentSettings)
    rollcall: RollcallSettings = Field(default_factory=RollcallSettings)
    face_check: FaceCheckSettings = Field(default_factory=FaceCheckSettings)
    checkin_video: CheckinVideoSettings = Field(default_factory=CheckinVideoSettings)
    # County supervisors play back and bookmark their county's recordings; exporting stays with
    # inspectors unless this grants it.
    supervisors_may_export: bool = False

    # Web security (issue 13 B). Cookies only over HTTPS when the site is served behind TLS.
    session_cookie_secure: bool = False
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)  # a login lasts at most this long
    # Addresses or CIDRs of the reverse proxies whose X-Forwarded-For/-Proto/-Host are believed
    # (Werkzeug's ProxyFix, one hop); a request from anywhere else keeps its own peer address.
    trusted_proxies: list[str] = Field(default_factory=list)
    # Origins (scheme://host[:port]) whose pages may open /live and socket.io; empty: the serving host.
    public_origins: list[str] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except Exception as exc:  # ZoneInfoNotFoundError or ValueError
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        yaml_file = _yaml_file()
        if yaml_file is not None:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file))
        return tuple(sources)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'watchwall.db'}"

    @property
    def uses_default_database(self) -> bool:
        return not self.database_url

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir

    def secret_key(self) -> bytes:
        """The installation's secret: ``secret_key_file``, else generated into the data dir on first use."""
        if self.secret_key_file is not None:
            return load_or_create_secret(Path(self.secret_key_file).expanduser())
        return load_or_create_secret_key(self.ensure_data_dir())


class SettingsError(UserError):
    """Settings that cannot be used; the message names the file (or the environment) and the field."""


def settings_error(exc: ValidationError) -> SettingsError:
    yaml_file = _yaml_file()
    source = f"settings file {yaml_file}" if yaml_file is not None else "settings (WATCHWALL_* environment)"
    problems = "; ".join(
        f"field {'.'.join(str(part) for part in error['loc']) or '(top level)'}: {error['msg']}"
        for error in exc.errors()
    )
    return SettingsError(f"{source}: {problems}")


@lru_cache(maxsize=1)
def get_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise settings_error(exc) from None


def reset_settings_cache() -> None:
    get_settings.cache_clear()
