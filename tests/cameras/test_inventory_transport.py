"""An inventory camera's RTP transport (issue 13 A.1): stored (migration 0006), pulled with it,
refused when unknown; the site file's ``transport`` key (real PostgreSQL)."""

from __future__ import annotations

import pytest
from alembic import command
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.cameras.test_inventory_pull_list import row, site_file
from watchwall.cameras.inventory import NewCamera, store_camera
from watchwall.cameras.models import InventoryCamera
from watchwall.cameras.pull_list import camera_of_row, site_with_inventory
from watchwall.config.database import alembic_config, make_engine, session_scope, upgrade
from watchwall.config.errors import UserError
from watchwall.config.site import Camera
from watchwall.video.ingest.source_url import source_for_camera


@pytest.fixture
def inventory_engine(scratch_database_url):
    upgrade(scratch_database_url)
    engine = make_engine(scratch_database_url)
    yield engine
    engine.dispose()


def test_the_transport_is_stored_defaults_to_auto_and_reaches_the_reader(inventory_engine, tmp_path):
    with session_scope(inventory_engine) as session:
        session.add(row("qz-udp", transport="udp"))
        session.add(row("qz-default"))
    with inventory_engine.connect() as connection:  # a row written before the column: the default
        connection.execute(
            text(
                "INSERT INTO camera_inventory (id, centre, room, name, onvif_host, onvif_port, ptz_capable,"
                " enabled, created_at, updated_at) VALUES ('qz-old', 'qinzhou', 'checkin', 'old',"
                " '127.0.0.1', 8080, false, true, now(), now())"
            )
        )
        connection.commit()
    with session_scope(inventory_engine) as session:
        rows = {r.id: r for r in session.query(InventoryCamera)}
    assert {key: value.transport for key, value in rows.items()} == {
        "qz-udp": "udp",
        "qz-default": "auto",
        "qz-old": "auto",
    }
    site = site_with_inventory(site_file(), rows.values())
    cameras = {place.camera.id: place.camera for place in site.cameras()}
    assert cameras["qz-udp"].transport == "udp" and cameras["qz-default"].transport == "auto"
    assert source_for_camera(cameras["qz-udp"], "qz-udp", tmp_path).transport == "udp"
    assert camera_of_row(rows["qz-udp"]).transport == "udp"


def test_an_unknown_transport_is_refused_by_the_database_the_site_file_and_add(inventory_engine):
    with pytest.raises(IntegrityError), session_scope(inventory_engine) as session:
        session.add(row("qz-bad", transport="sctp"))
    with pytest.raises(ValidationError, match="transport"):
        Camera.model_validate({"id": "x", "name": "x", "rtsp": "rtsp://127.0.0.1/x", "transport": "sctp"})
    new = NewCamera("qz-new", "qinzhou", "checkin", "new", "127.0.0.1", 8080, transport="sctp")
    with pytest.raises(UserError, match="transport 'sctp' must be one of auto, tcp, udp"):
        store_camera(inventory_engine, new, description=None)


def test_the_migration_goes_down_and_up_again(scratch_database_url):
    upgrade(scratch_database_url)
    config = alembic_config(scratch_database_url)
    command.downgrade(config, "0012_segment_epoch")
    engine = make_engine(scratch_database_url)
    try:
        with engine.connect() as connection:
            columns = connection.execute(
                text(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = 'camera_inventory'"
                )
            ).scalars()
            assert "transport" not in set(columns)
        upgrade(scratch_database_url)
        with engine.connect() as connection:
            columns = connection.execute(
                text(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = 'camera_inventory'"
                )
            ).scalars()
            assert "transport" in set(columns)
    finally:
        engine.dispose()
