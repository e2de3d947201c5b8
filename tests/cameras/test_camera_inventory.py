"""Adding cameras by ONVIF address into the inventory (real camera, real PostgreSQL), and its migration."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from tests.cameras.onvif_test_params import CAMERA_PASSWORD, CAMERA_USER, PASSWORD_ENV
from watchwall.cameras.inventory import NewCamera, add_camera, list_cameras
from watchwall.config.database import make_engine, upgrade
from watchwall.config.errors import UserError

ROOT = Path(__file__).resolve().parents[2]


def new_camera(camera, camera_id: str = "qinzhou-checkin-1") -> NewCamera:
    return NewCamera(
        camera_id=camera_id,
        centre="qinzhou",
        room="checkin",
        name="报到登记室 1",
        host=camera.host,
        port=camera.onvif_port,
        username=CAMERA_USER,
        password_env=PASSWORD_ENV,
    )


def every_stored_value(engine) -> list[str]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM camera_inventory")).all()
    return [str(value) for row in rows for value in row]


@pytest.fixture
def inventory_engine(scratch_database_url):
    upgrade(scratch_database_url)
    engine = make_engine(scratch_database_url)
    yield engine
    engine.dispose()


def test_add_camera_stores_uris_and_a_password_reference_only(
    auth_camera, inventory_engine, camera_password, caplog, capsys
):
    caplog.set_level(logging.DEBUG)
    row, description = add_camera(inventory_engine, new_camera(auth_camera), timeout=10)

    assert (row.id, row.centre, row.room, row.name) == (
        "qinzhou-checkin-1",
        "qinzhou",
        "checkin",
        "报到登记室 1",
    )
    assert (row.onvif_host, row.onvif_port) == ("127.0.0.1", auth_camera.onvif_port)
    assert (row.username, row.password_env, row.password_secret) == (CAMERA_USER, PASSWORD_ENV, None)
    assert row.main_stream_uri.endswith("/video_main") and row.sub_stream_uri.endswith("/video_sub")
    assert row.snapshot_uri == f"http://127.0.0.1:{auth_camera.onvif_port}/snapshot.jpg"
    assert row.ptz_capable is True and row.enabled is True
    assert (row.manufacturer, row.model) == ("PythonCam", "VirtualCam-1")
    assert row.created_at.tzinfo is not None

    stored = list_cameras(inventory_engine)
    assert [camera.id for camera in stored] == ["qinzhou-checkin-1"]

    assert not any(CAMERA_PASSWORD in value for value in every_stored_value(inventory_engine))
    assert not any(CAMERA_PASSWORD in record.getMessage() for record in caplog.records)
    assert caplog.records, "DEBUG logging was on: the ONVIF stack should have logged something"
    captured = capsys.readouterr()
    assert CAMERA_PASSWORD not in captured.out + captured.err
    assert CAMERA_PASSWORD not in repr(row) + repr(description) + json.dumps(description.as_dict())


def test_duplicate_id_is_refused_before_asking_the_camera(auth_camera, inventory_engine, camera_password):
    add_camera(inventory_engine, new_camera(auth_camera), timeout=10)
    with pytest.raises(UserError, match="already in the inventory"):
        add_camera(inventory_engine, new_camera(auth_camera), timeout=10)


def test_wrong_password_stores_nothing(auth_camera, inventory_engine, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "wrong-password")
    with pytest.raises(UserError, match="refused the credentials"):
        add_camera(inventory_engine, new_camera(auth_camera), timeout=10)
    assert list_cameras(inventory_engine) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("camera_id", "Bad ID", "camera id"), ("centre", "", "centre"), ("name", "  ", "name")],
)
def test_invalid_fields_are_refused(auth_camera, inventory_engine, field, value, message):
    fields = {**new_camera(auth_camera).__dict__, field: value}
    with pytest.raises(UserError, match=message):
        add_camera(inventory_engine, NewCamera(**fields), timeout=10)


def test_camera_add_command(auth_camera, scratch_database_url, cli_env):
    env = {**cli_env, "WATCHWALL_DATABASE_URL": scratch_database_url, PASSWORD_ENV: CAMERA_PASSWORD}
    base = [sys.executable, "-m", "watchwall.roles.cli", "camera"]
    add = [
        *base,
        "add",
        "--centre",
        "maiji",
        "--room",
        "warning",
        "--id",
        "maiji-warning-1",
        "--name",
        "训诫室",
    ]
    add += ["--onvif", auth_camera.address, "--user", CAMERA_USER, "--password-env", PASSWORD_ENV]
    added = subprocess.run(add, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert added.returncode == 0, added.stderr
    assert "added camera maiji-warning-1 (maiji/warning)" in added.stdout
    assert "/video_main" in added.stdout

    listed = subprocess.run(
        [*base, "list", "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert listed.returncode == 0, listed.stderr
    [entry] = json.loads(listed.stdout)
    assert (entry["id"], entry["password_env"], entry["ptz_capable"]) == (
        "maiji-warning-1",
        PASSWORD_ENV,
        True,
    )

    again = subprocess.run(add, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [
        "watchwall camera: camera id 'maiji-warning-1' is already in the inventory"
    ]

    for result in (added, listed, again):
        assert CAMERA_PASSWORD not in result.stdout + result.stderr
    engine = make_engine(scratch_database_url)
    try:
        assert not any(CAMERA_PASSWORD in value for value in every_stored_value(engine))
    finally:
        engine.dispose()


def _inventory_columns(engine) -> dict[str, bool]:
    return {column["name"]: column["nullable"] for column in inspect(engine).get_columns("camera_inventory")}


def test_migration_matches_the_model_and_downgrades(scratch_database_url):
    from alembic import command

    from watchwall.cameras.models import InventoryCamera
    from watchwall.config.database import alembic_config

    upgrade(scratch_database_url)
    engine = make_engine(scratch_database_url)
    try:
        expected = {column.name: column.nullable for column in InventoryCamera.__table__.columns}
        assert _inventory_columns(engine) == expected
        command.downgrade(alembic_config(scratch_database_url), "0001_case_database")
        assert "camera_inventory" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_migration_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'watchwall.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        # no clear password column: references (env var, secrets-file key) or ciphertext only
        password_columns = {name for name in _inventory_columns(engine) if "password" in name}
        assert password_columns == {"password_env", "password_secret", "password_sealed"}
        assert set(_inventory_columns(engine)) >= {
            "main_stream_uri",
            "sub_stream_uri",
            "snapshot_uri",
            "ptz_capable",
        }
    finally:
        engine.dispose()
