"""The cameras to pull: site file + inventory as one site; refusals on add; the watched stamp (real PostgreSQL)."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import delete

from tests.cameras.onvif_test_params import PASSWORD_ENV
from watchwall.cameras.inventory import NewCamera, add_camera, list_cameras, set_enabled
from watchwall.cameras.inventory_watch import InventoryWatcher, pull_list_now
from watchwall.cameras.models import InventoryCamera
from watchwall.cameras.placement import PlacementError
from watchwall.cameras.pull_list import inventory_stamp, site_with_inventory
from watchwall.config.database import make_engine, session_scope, upgrade
from watchwall.config.errors import UserError
from watchwall.config.site import Site
from watchwall.video.ingest.source_url import SourceError, source_for_camera

ROOT = Path(__file__).resolve().parents[2]


def site_file() -> Site:
    rooms = [
        {
            "code": "checkin",
            "name": "报到登记室",
            "cameras": [{"id": "qz-site-1", "name": "入口", "demo": True}],
        }
    ]
    return Site.model_validate(
        {
            "centres": [
                {"code": "qinzhou", "name": "秦州区", "level": "county", "rooms": rooms},
                {"code": "gangu", "name": "甘谷县", "level": "county"},
            ]
        }
    )


def row(camera_id: str, centre: str = "qinzhou", room: str = "checkin", **fields) -> InventoryCamera:
    values = {
        "id": camera_id,
        "centre": centre,
        "room": room,
        "name": f"{camera_id} 摄像机",
        "onvif_host": "127.0.0.1",
        "onvif_port": 8080,
        "main_stream_uri": "rtsp://127.0.0.1:8554/video_main",
        "sub_stream_uri": "rtsp://127.0.0.1:8554/video_sub",
        "ptz_capable": False,
        "enabled": True,
        **fields,
    }
    return InventoryCamera(**values)


@pytest.fixture
def inventory_engine(scratch_database_url):
    upgrade(scratch_database_url)
    engine = make_engine(scratch_database_url)
    yield engine
    engine.dispose()


def test_inventory_cameras_join_their_centre_and_room(caplog):
    site = site_file()
    rows = [
        row("qz-inv-1", username="admin", password_env=PASSWORD_ENV, ptz_capable=True),
        row("qz-inv-2", room="counselling"),  # a standard room the site file does not list for this centre
        row("gg-inv-1", centre="gangu", room="lobby-2", enabled=False),
        row("qz-site-1"),  # the site file's id: the site file wins
        row("nowhere-1", centre="nowhere"),
    ]
    with caplog.at_level(logging.WARNING, logger="watchwall.cameras.pull_list"):
        merged = site_with_inventory(site, rows)

    places = {p.camera.id: p for p in merged.cameras()}
    assert sorted(places) == ["gg-inv-1", "qz-inv-1", "qz-inv-2", "qz-site-1"]
    assert places["qz-site-1"].camera.demo is not None  # not replaced by the inventory row
    assert (places["qz-inv-1"].centre.code, places["qz-inv-1"].room.code) == ("qinzhou", "checkin")
    assert [c.id for c in merged.centre("qinzhou").rooms[0].cameras] == ["qz-site-1", "qz-inv-1"]
    assert places["qz-inv-2"].room.name.zh == "心理矫治室" and places["qz-inv-2"].room.name.en.startswith(
        "Psych"
    )
    assert places["gg-inv-1"].room.name.zh == "lobby-2" and places["gg-inv-1"].camera.enabled is False

    camera = places["qz-inv-1"].camera
    assert camera.rtsp == "rtsp://127.0.0.1:8554/video_main" and camera.sub_rtsp.endswith("/video_sub")
    assert (camera.onvif.host, camera.onvif.port, camera.ptz) == ("127.0.0.1", 8080, True)
    assert (camera.credentials.username, camera.credentials.password_env) == ("admin", PASSWORD_ENV)
    assert camera.name.zh == camera.name.en == "qz-inv-1 摄像机"
    assert merged.camera("qz-inv-2").centre.code == "qinzhou"  # what the pages and routes look up

    assert [c.id for c in site.centre("qinzhou").cameras()] == ["qz-site-1"]  # the site file is untouched
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "qz-site-1 left out" in messages and "nowhere-1 left out" in messages


def test_a_row_without_an_rtsp_uri_keeps_only_its_onvif_address():
    merged = site_with_inventory(site_file(), [row("qz-inv-3", main_stream_uri=None, sub_stream_uri=None)])
    camera = merged.camera("qz-inv-3").camera
    assert camera.source_kind == "onvif" and camera.rtsp is None
    with pytest.raises(SourceError, match="ONVIF camera"):  # the reader reports this as its error
        source_for_camera(camera, "qz-inv-3", Path("."))


def test_an_rtsp_uri_with_a_password_in_it_is_not_used():
    merged = site_with_inventory(site_file(), [row("qz-inv-4", main_stream_uri="rtsp://u:p@127.0.0.1/x")])
    assert merged.camera("qz-inv-4").camera.rtsp is None


def test_add_refuses_a_site_file_id_or_an_unknown_centre_before_asking_the_camera(
    inventory_engine, closed_port
):
    host, port = closed_port.split(":")
    clash = NewCamera("qz-site-1", "qinzhou", "checkin", "dup", host, int(port))
    with pytest.raises(PlacementError, match="already a camera of the site file"):
        add_camera(inventory_engine, clash, timeout=2, site=site_file())
    elsewhere = NewCamera("xx-1", "nowhere", "checkin", "x", host, int(port))
    with pytest.raises(PlacementError, match="centre 'nowhere' is not in the site"):
        add_camera(inventory_engine, elsewhere, timeout=2, site=site_file())
    assert list_cameras(inventory_engine) == []


def test_camera_add_command_refuses_an_id_of_the_site_file(closed_port, scratch_database_url, cli_env):
    env = {**cli_env, "WATCHWALL_DATABASE_URL": scratch_database_url}
    command = [
        sys.executable,
        "-m",
        "watchwall.roles.cli",
        "camera",
        "add",
        "--centre",
        "qinzhou",
        "--room",
        "checkin",
    ]
    command += ["--id", "qinzhou-checkin-1", "--name", "dup", "--onvif", closed_port, "--timeout", "2"]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "'qinzhou-checkin-1' is already a camera of the site file" in result.stderr


def test_stamp_changes_with_every_kind_of_change_and_the_watcher_applies_it(inventory_engine):
    with session_scope(inventory_engine) as session:
        session.add(row("qz-inv-1"))
    seen: list[Site] = []
    stamp, merged = pull_list_now(site_file(), inventory_engine)
    watcher = InventoryWatcher(inventory_engine, site_file(), seen.append, interval_s=0.1, applied=stamp)
    assert "qz-inv-1" in {p.camera.id for p in merged.cameras()}
    assert watcher.poll_once() is False and seen == []  # nothing changed since

    set_enabled(inventory_engine, "qz-inv-1", False)
    assert inventory_stamp(inventory_engine) != stamp
    assert watcher.poll_once() is True and seen[-1].camera("qz-inv-1").camera.enabled is False
    with session_scope(inventory_engine) as session:
        session.add(row("qz-inv-2"))
    assert watcher.poll_once() is True and "qz-inv-2" in {p.camera.id for p in seen[-1].cameras()}
    with session_scope(inventory_engine) as session:
        session.execute(delete(InventoryCamera).where(InventoryCamera.id == "qz-inv-1"))
    assert watcher.poll_once() is True and "qz-inv-1" not in {p.camera.id for p in seen[-1].cameras()}
    assert watcher.poll_once() is False and len(seen) == 3
    with pytest.raises(UserError, match="no camera 'gone'"):
        set_enabled(inventory_engine, "gone", True)


def test_watcher_retries_a_failed_apply_and_stops_within_its_bound(inventory_engine):
    attempts: list[float] = []
    applied = threading.Event()

    def apply(_site: Site) -> None:
        attempts.append(time.monotonic())
        if len(attempts) < 2:
            raise RuntimeError("the ingest could not start a camera")
        applied.set()

    watcher = InventoryWatcher(inventory_engine, site_file(), apply, interval_s=0.1).start()
    try:
        assert applied.wait(10), "the failed apply was not tried again"
        assert watcher.changes == 1 and watcher.last_error is None
    finally:
        started = time.monotonic()
        assert watcher.stop(timeout=5)
    assert time.monotonic() - started < 5


def test_watcher_keeps_watching_while_the_database_is_away(scratch_database_url):
    missing = scratch_database_url.rsplit("/", 1)[0] + "/ww_no_such_database"
    engine = make_engine(missing, check=False)
    applied: list[Site] = []
    watcher = InventoryWatcher(engine, site_file(), applied.append, interval_s=0.05).start()
    try:
        wait = time.monotonic() + 10
        while watcher.last_error is None and time.monotonic() < wait:
            time.sleep(0.05)
        assert watcher.last_error and watcher.last_error.startswith("OperationalError")
        assert "ww_no_such_database" in watcher.last_error and applied == []
    finally:
        assert watcher.stop(timeout=5)
        engine.dispose()
