"""``watchwall ingest`` pulls and records the inventory's cameras beside the site file's (real GStreamer server)."""

from __future__ import annotations

import json

import pytest

from tests.support.rtsp_process import closed_port
from watchwall.cameras.models import InventoryCamera
from watchwall.config.database import make_engine, session_scope, upgrade
from watchwall.config.settings import reset_settings_cache
from watchwall.roles.cli import main

pytestmark = pytest.mark.rtsp


def inventory_row(camera_id: str, uri: str, enabled: bool = True) -> InventoryCamera:
    return InventoryCamera(
        id=camera_id,
        centre="gangu",
        room="checkin",
        name=camera_id,
        onvif_host="127.0.0.1",
        onvif_port=80,
        main_stream_uri=uri,
        enabled=enabled,
    )


def test_ingest_pulls_and_records_enabled_inventory_cameras(rtsp_server, tmp_path, monkeypatch, capsys):
    site = tmp_path / "site.yaml"
    site.write_text(
        "centres:\n  - code: gangu\n    name: 甘谷县\n    level: county\n    rooms:\n      - code: checkin\n"
        f"        name: 报到登记室\n        cameras:\n          - {{id: door, name: door, rtsp: '{rtsp_server.url('/cam0')}'}}\n",
        encoding="utf-8",
    )
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    url = f"sqlite:///{data_dir / 'watchwall.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        session.add(inventory_row("gg-inv", rtsp_server.url("/cam1")))
        session.add(inventory_row("gg-off", rtsp_server.url("/cam1"), enabled=False))
        session.add(inventory_row("gg-dead", f"rtsp://127.0.0.1:{closed_port()}/video_main"))
    engine.dispose()
    monkeypatch.setenv("WATCHWALL_DATA_DIR", str(data_dir))
    reset_settings_cache()
    try:
        code = main(["ingest", "--site", str(site), "--seconds", "4", "--json", "--no-thumbnails"])
    finally:
        reset_settings_cache()
    captured = capsys.readouterr()
    assert code == 0, captured.err
    report = json.loads(captured.out)
    assert set(report) == {"door", "gg-inv", "gg-dead"}
    assert report["gg-inv"]["state"] == "online" and report["gg-inv"]["packets"] > 10
    assert report["gg-inv"]["recording"]["packets"] > 0
    assert (report["gg-dead"]["state"], report["gg-dead"]["error_kind"]) == ("offline", "unreachable")
    assert report["door"]["state"] == "online"


def test_ingest_names_the_inventory_when_a_camera_is_unknown(tmp_path, monkeypatch, capsys):
    site = tmp_path / "site.yaml"
    site.write_text("centres:\n  - code: gangu\n    name: 甘谷县\n    level: county\n", encoding="utf-8")
    monkeypatch.setenv("WATCHWALL_DATA_DIR", str(tmp_path / "data"))
    reset_settings_cache()
    try:
        code = main(["ingest", "--site", str(site), "--camera", "nope", "--seconds", "1"])
    finally:
        reset_settings_cache()
    err = capsys.readouterr().err
    assert code == 2 and "no camera nope in" in err and "or the inventory" in err
