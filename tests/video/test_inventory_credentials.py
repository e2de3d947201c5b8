"""An inventory camera behind RTSP authentication: its password comes from the secrets file at connect time
and reaches no event, log record, health snapshot or the site the pages are given (real GStreamer server).
"""

from __future__ import annotations

import json
import logging

import pytest

from tests.support.rtsp_process import RTSP_PASSWORD, RTSP_USER, wait_until
from watchwall.cameras.inventory_watch import pull_list_now, watch_inventory
from watchwall.cameras.models import InventoryCamera
from watchwall.config.database import make_engine, session_scope, upgrade
from watchwall.config.settings import Settings
from watchwall.config.site import Site
from watchwall.video.ingest.supervisor import IngestService
from watchwall.video.state.events import MemorySink

pytestmark = pytest.mark.rtsp


def site_file() -> Site:
    return Site.model_validate(
        {
            "centres": [
                {
                    "code": "gangu",
                    "name": "甘谷县",
                    "level": "county",
                    "rooms": [{"code": "checkin", "name": "报到"}],
                }
            ]
        }
    )


def test_password_of_an_inventory_camera_comes_from_the_secrets_file_only(auth_server, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(f"gangu_cam: {json.dumps(RTSP_PASSWORD)}\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'watchwall.db'}"
    upgrade(url)
    engine = make_engine(url)
    settings = Settings(data_dir=tmp_path, secrets_file=secrets)
    sink = MemorySink()
    shown: dict[str, Site] = {}
    stamp, site = pull_list_now(site_file(), engine)
    service = IngestService(site, settings=settings, sink=sink, keyframes=False)
    service.start()
    watcher = watch_inventory(
        engine, site_file(), service, on_site=lambda s: shown.update(site=s), applied=stamp, interval_s=0.2
    )
    try:
        with session_scope(engine) as session:
            session.add(
                InventoryCamera(
                    id="gg-secure",
                    centre="gangu",
                    room="checkin",
                    name="secure",
                    onvif_host="127.0.0.1",
                    onvif_port=80,
                    username=RTSP_USER,
                    password_secret="gangu_cam",
                    main_stream_uri=auth_server.url("/cam0"),
                    enabled=True,
                )
            )
        wait_until(
            lambda: (
                service.healths.get("gg-secure") is not None and service.healths["gg-secure"].packets >= 10
            ),
            20,
            what="packets with the secrets file's password",
        )
        snapshot = service.camera_health("gg-secure").as_dict()
    finally:
        assert watcher.stop(timeout=10)
        assert service.stop(timeout=10)
        engine.dispose()
    assert RTSP_PASSWORD not in json.dumps(snapshot, default=str)
    assert RTSP_PASSWORD not in str(sink.events)
    assert RTSP_PASSWORD not in shown["site"].model_dump_json()
    assert RTSP_PASSWORD not in shown["site"].camera("gg-secure").camera.redacted_source()
    assert not any(RTSP_PASSWORD in record.getMessage() for record in caplog.records)
