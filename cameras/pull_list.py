"""The cameras to pull: the site file's cameras and the inventory's, as one site.

Inventory cameras are placed under their centre and room, so every page, the
ingest and the recorder see them exactly as they see the site file's cameras.
The site file wins: an inventory camera whose id is already a site camera, or
whose centre the site does not have, is left out (and logged); adding such a
camera is refused up front (:func:`watchwall.cameras.placement.check_place_in_site`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from watchwall.cameras.inventory_rows import list_cameras
from watchwall.cameras.models import InventoryCamera
from watchwall.config.site import STANDARD_ROOMS, Camera, Room, Site, same_stream

log = logging.getLogger(__name__)


def _rtsp_or_none(uri: str | None) -> str | None:
    """The URI if the site model accepts it as a stream (rtsp://, no password), else None."""
    if not uri:
        return None
    try:
        Camera.model_validate({"id": "probe", "name": "probe", "rtsp": uri})
    except ValidationError:
        return None
    return uri


def camera_of_row(row: InventoryCamera) -> Camera:
    """The inventory row as a site camera: RTSP from the stored URIs, ONVIF address for control.

    A camera whose ONVIF description gave no usable RTSP URI keeps only its ONVIF address;
    the ingest then reports it as an error instead of pulling it.
    """
    credentials = None
    if row.username:
        credentials = {
            "username": row.username,
            "password_env": row.password_env,
            "password_secret": row.password_secret,
            "password_sealed": row.password_sealed,
        }
    main = _rtsp_or_none(row.main_stream_uri)
    sub = _rtsp_or_none(row.sub_stream_uri) if main else None
    if sub is not None and same_stream(sub, main):
        sub = None  # two profiles on one stream URI: one stream, as a one-profile camera
    return Camera.model_validate(
        {
            "id": row.id,
            "name": row.name,
            "rtsp": main,
            "sub_rtsp": sub,
            "onvif": {"host": row.onvif_host, "port": row.onvif_port},
            "credentials": credentials,
            "ptz": bool(row.ptz_capable),
            "transport": row.transport or "auto",
            "enabled": bool(row.enabled),
        }
    )


def _new_room(code: str) -> Room:
    zh, en = STANDARD_ROOMS.get(code, (code, code))
    return Room(code=code, name={"zh": zh, "en": en})


def site_with_inventory(site: Site, rows: Iterable[InventoryCamera]) -> Site:
    """``site`` with the inventory cameras added under their centre and room (a new room if needed)."""
    site_ids = {place.camera.id for place in site.cameras()}
    centres = {centre.code: centre for centre in site.centres}
    added: dict[str, dict[str, list[Camera]]] = {}
    for row in rows:
        if row.id in site_ids:
            log.warning("inventory camera %s left out: the site file has a camera of that id", row.id)
            continue
        if row.centre not in centres:
            log.warning("inventory camera %s left out: the site has no centre %r", row.id, row.centre)
            continue
        try:
            camera = camera_of_row(row)
        except ValidationError as exc:
            log.warning("inventory camera %s left out: %s", row.id, exc.errors()[0]["msg"])
            continue
        added.setdefault(row.centre, {}).setdefault(row.room, []).append(camera)
    if not added:
        return site
    new_centres = []
    for centre in site.centres:
        extra = added.get(centre.code)
        if not extra:
            new_centres.append(centre)
            continue
        rooms = []
        for room in centre.rooms:
            cameras = extra.pop(room.code, [])
            rooms.append(room.model_copy(update={"cameras": [*room.cameras, *cameras]}) if cameras else room)
        rooms += [_new_room(code).model_copy(update={"cameras": cameras}) for code, cameras in extra.items()]
        new_centres.append(centre.model_copy(update={"rooms": rooms}))
    return site.model_copy(update={"centres": new_centres})


@dataclass(frozen=True)
class InventoryStamp:
    """What changes whenever a row is added, edited, enabled/disabled or deleted."""

    count: int
    last_update: datetime | None


def inventory_stamp(engine: Engine) -> InventoryStamp:
    """One cheap aggregate query, so the inventory can be watched every few seconds."""
    with engine.connect() as connection:
        count, last = connection.execute(
            select(func.count(), func.max(InventoryCamera.updated_at)).select_from(InventoryCamera)
        ).one()
    return InventoryStamp(int(count), last)


def load_inventory(engine: Engine) -> list[InventoryCamera]:
    return list_cameras(engine)


def cameras_to_pull(site: Site, engine: Engine) -> Site:
    """The site file's cameras and the inventory's; the ingest pulls the enabled ones."""
    return site_with_inventory(site, load_inventory(engine))
