"""Adding cameras to the inventory by ONVIF address, and reading the inventory back.

The camera is asked for its stream URIs once, when it is added; what is stored is the
credential-free URIs and where the password lives (env var or secrets-file key), or a password
typed in /admin sealed under the data dir's camera key, never the password in clear text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

from watchwall.cameras.credentials import ResolvedCredentials, credentials_reference, resolve
from watchwall.cameras.describe import CameraDescription, describe_camera
from watchwall.cameras.device import DEFAULT_TIMEOUT_S
from watchwall.cameras.errors import NotACamera
from watchwall.cameras.inventory_rows import get_camera, list_cameras  # noqa: F401 (callers read here too)
from watchwall.cameras.models import InventoryCamera, utc_now
from watchwall.cameras.parsers import strip_credentials
from watchwall.cameras.password_seal import seal
from watchwall.cameras.placement import check_place_in_site
from watchwall.config.database import session_scope
from watchwall.config.errors import UserError
from watchwall.config.plain_text import unsafe_reason
from watchwall.config.site import CODE_PATTERN, Credentials, Site

TRANSPORTS = ("auto", "tcp", "udp")


@dataclass(frozen=True)
class NewCamera:
    """What the operator gives to add a camera."""

    camera_id: str
    centre: str
    room: str
    name: str
    host: str
    port: int
    username: str | None = None
    password_env: str | None = None
    password_secret: str | None = None
    transport: str = "auto"  # how RTP comes: auto (TCP, then UDP), tcp or udp
    password: str | None = field(default=None, repr=False)  # typed in: stored sealed, never in clear

    def credentials(self) -> Credentials | None:
        if self.password and (self.password_env or self.password_secret):
            raise UserError("give the password, or where it is kept (env var or secrets file), not both")
        if self.password and not self.username:
            raise UserError("a camera password needs the camera's user name")
        return credentials_reference(self.username, self.password_env, self.password_secret)

    def resolved(self, secrets_file: Path | None) -> ResolvedCredentials | None:
        reference = self.credentials()  # checks the parts first
        if self.password:
            return ResolvedCredentials(self.username or "", self.password)
        return resolve(reference, secrets_file)


def _check_codes(new: NewCamera) -> None:
    for label, value in (("camera id", new.camera_id), ("centre", new.centre), ("room", new.room)):
        if not re.match(CODE_PATTERN, value):
            raise UserError(f"{label} {value!r} must be lower-case letters, digits, '-' or '_' (max 63)")
    if new.transport not in TRANSPORTS:
        raise UserError(f"transport {new.transport!r} must be one of {', '.join(TRANSPORTS)}")
    if not new.name.strip():
        raise UserError("camera name must not be empty")
    if unsafe_reason(new.name):
        raise UserError(f"camera name: {unsafe_reason(new.name)}")


def store_camera(
    engine: Engine, new: NewCamera, description: CameraDescription, key_dir: Path | None = None
) -> InventoryCamera:
    """Write one described camera into the inventory; its id must be new. A typed password is sealed
    under the camera key of ``key_dir`` (default: the settings' data dir)."""
    _check_codes(new)
    main, sub = description.main, description.sub
    row = InventoryCamera(
        id=new.camera_id,
        centre=new.centre,
        room=new.room,
        name=new.name.strip(),
        onvif_host=new.host,
        onvif_port=new.port,
        username=new.username or None,
        password_env=new.password_env,
        password_secret=new.password_secret,
        password_sealed=seal(new.password, key_dir) if new.password else None,
        manufacturer=description.device.manufacturer or None,
        model=description.device.model or None,
        serial_number=description.device.serial_number or None,
        main_stream_uri=strip_credentials(main.stream_uri) if main else None,
        sub_stream_uri=strip_credentials(sub.stream_uri) if sub else None,
        snapshot_uri=strip_credentials(description.snapshot_uri),
        ptz_capable=description.ptz_capable,
        transport=new.transport,
        enabled=True,
    )
    with session_scope(engine) as session:
        if session.get(InventoryCamera, new.camera_id) is not None:
            raise UserError(f"camera id {new.camera_id!r} is already in the inventory")
        session.add(row)
    return row


def add_camera(
    engine: Engine,
    new: NewCamera,
    *,
    secrets_file: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    site: Site | None = None,
    key_dir: Path | None = None,
) -> tuple[InventoryCamera, CameraDescription]:
    """Ask the camera for its streams over ONVIF and store it; fails before asking if the id is taken.

    With ``site`` (the site file), an id the site file already uses, or a centre it does not
    have, is refused too: the camera could be neither pulled nor shown. A device that answers
    ONVIF but offers no media profile is refused (:class:`NotACamera`): there is nothing to pull.
    """
    _check_codes(new)
    if site is not None:
        check_place_in_site(site, new.camera_id, new.centre)
    if get_camera(engine, new.camera_id) is not None:
        raise UserError(f"camera id {new.camera_id!r} is already in the inventory")
    resolved = new.resolved(secrets_file)
    username = resolved.username if resolved else None
    password = resolved.password if resolved else None
    description = describe_camera(new.host, new.port, username, password, timeout=timeout)
    if not description.profiles:
        raise NotACamera(f"{new.host}:{new.port} answers ONVIF but offers no media profile: not a camera")
    return store_camera(engine, new, description, key_dir), description


def _stored(engine: Engine, camera_id: str, change) -> InventoryCamera:
    """Apply ``change(row)`` to the stored camera (its ``updated_at`` moves: the ingest notices)."""
    with session_scope(engine) as session:
        row = session.get(InventoryCamera, camera_id)
        if row is None:
            raise UserError(f"no camera {camera_id!r} in the inventory")
        change(row)
        row.updated_at = utc_now()
    return row


def set_enabled(engine: Engine, camera_id: str, enabled: bool) -> InventoryCamera:
    """Enable or disable a camera: a disabled one is not pulled; its recordings stay."""

    def change(row: InventoryCamera) -> None:
        row.enabled = enabled

    return _stored(engine, camera_id, change)


def move_camera(
    engine: Engine,
    camera_id: str,
    *,
    host: str,
    port: int,
    secrets_file: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    key_dir: Path | None = None,
) -> tuple[InventoryCamera, CameraDescription]:
    """Give a camera a new ONVIF address: its stream URIs are asked again there, with its stored credentials.

    Nothing is stored if the camera at the new address does not answer.
    """
    row = get_camera(engine, camera_id)
    if row is None:
        raise UserError(f"no camera {camera_id!r} in the inventory")
    reference = credentials_reference(
        row.username, row.password_env, row.password_secret, row.password_sealed
    )
    resolved = resolve(reference, secrets_file, key_dir)
    description = describe_camera(
        host,
        port,
        resolved.username if resolved else None,
        resolved.password if resolved else None,
        timeout=timeout,
    )

    def change(stored: InventoryCamera) -> None:
        main, sub = description.main, description.sub
        stored.onvif_host, stored.onvif_port = host, port
        stored.manufacturer = description.device.manufacturer or None
        stored.model = description.device.model or None
        stored.serial_number = description.device.serial_number or None
        stored.main_stream_uri = strip_credentials(main.stream_uri) if main else None
        stored.sub_stream_uri = strip_credentials(sub.stream_uri) if sub else None
        stored.snapshot_uri = strip_credentials(description.snapshot_uri)
        stored.ptz_capable = description.ptz_capable

    return _stored(engine, camera_id, change), description
