"""Reading the camera inventory's rows: what an ingest node needs of the inventory.

Kept apart from ``inventory`` (adding, describing and moving cameras), which imports the ONVIF
client (zeep, lxml, httpx: about 10 MiB of an ingest node's memory) that reading never uses.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from watchwall.cameras.models import InventoryCamera
from watchwall.config.database import session_scope


def get_camera(engine: Engine, camera_id: str) -> InventoryCamera | None:
    with session_scope(engine) as session:
        return session.get(InventoryCamera, camera_id)


def list_cameras(engine: Engine, centre: str | None = None) -> list[InventoryCamera]:
    query = select(InventoryCamera).order_by(InventoryCamera.centre, InventoryCamera.room, InventoryCamera.id)
    if centre:
        query = query.where(InventoryCamera.centre == centre)
    with session_scope(engine) as session:
        return list(session.scalars(query))
