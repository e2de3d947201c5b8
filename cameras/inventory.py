"""Adding cameras to the inventory by ONVIF address, and reading the inventory back.

The camera is asked for its stream URIs once, when it is added; what is stored is the
credential-free URIs and where the password lives (env var or secrets-file key), never
the password itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from watchwall.cameras.credentials import credentials_reference, resolve
from watchwall.cameras.describe import CameraDescription, describe_camera
from watchwall.cameras.device import DEFAULT_TIMEOUT_S
from watchwall.cameras.models import InventoryCamera, utc_now
from watchwall.cameras.parsers import strip_credentials
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

    def credentials(self) -> Credentials | None:
        return credentials_reference(self.username, self.password_env, self.password_secret)


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


def get_camera(engine: Engine, camera_id: str) -> InventoryCamera | None:
    with session_scope(engine) as session:
        return session.get(InventoryCamera, camera_id)


def list_cameras(engine: Engine, centre: str | None = None) -> list[InventoryCamera]:
    query = select(InventoryCamera).order_by(InventoryCamera.centre, InventoryCamera.room, InventoryCamera.id)
    if centre:
        query = query.where(InventoryCamera.centre == centre)
    with session_scope(engine) as session:
        return list(session.scalars(query))


def store_camera(engine: Engine, new: NewCamera, description: CameraDescription) -> InventoryCamera:
    """Write one described camera into the inventory; its id must be new."""
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
) -> tuple[InventoryCamera, CameraDescription]:
    """Ask the camera for its streams over ONVIF and store it; fails before asking if the id is taken.

    With ``site`` (the site file), an id the site file already uses, or a centre it does not
    have, is refused too: the camera could be neither pulled nor shown.
    """
    _check_codes(new)
    if site is not None:
        check_place_in_site(site, new.camera_id, new.centre)
    if get_camera(engine, new.camera_id) is not None:
        raise UserError(f"camera id {new.camera_id!r} is already in the inventory")
    resolved = resolve(new.credentials(), secrets_file)
    username = resolved.username if resolved else None
    password = resolved.password if resolved else None
    description = describe_camera(new.host, new.port, username, password, timeout=timeout)
    return store_camera(engine, new, description), description


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
) -> tuple[InventoryCamera, CameraDescription]:
    """Give a camera a new ONVIF address: its stream URIs are asked again there, with its stored credentials.

    Nothing is stored if the camera at the new address does not answer.
    """
    row = get_camera(engine, camera_id)
    if row is None:
        raise UserError(f"no camera {camera_id!r} in the inventory")
    reference = credentials_reference(row.username, row.password_env, row.password_secret)
    resolved = resolve(reference, secrets_file)
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
