"""A running ingest node follows the camera inventory: a camera added is claimed and recorded, a
camera disabled is let go. The node reads the inventory again only when its stamp changes, so this
is the test that the stamp sees an add and a disable."""

from __future__ import annotations

import pytest

from tests.support.cluster import (
    NodeProcess,
    cluster_site,
    cluster_status,
    node_env,
    query,
    wait_for,
    write_annexb_clip,
)
from tests.support.rtsp_process import RtspServerProcess
from watchwall.cameras.describe import CameraDescription, ProfileDescription
from watchwall.cameras.inventory import NewCamera, set_enabled, store_camera
from watchwall.cameras.parsers import DeviceInfo, StreamProfile
from watchwall.config.database import make_engine

pytestmark = [pytest.mark.postgres, pytest.mark.rtsp, pytest.mark.slow]


def described(rtsp_url: str) -> CameraDescription:
    """What ONVIF would have said of a one-profile camera (the ONVIF exchange itself is tested in
    tests/cameras/): here only the stored row matters."""
    profile = StreamProfile("main", "main", "H264", 320, 240, 10.0, 500, False)
    return CameraDescription(
        host="127.0.0.1",
        port=80,
        device=DeviceInfo("Test", "Camera", "1", "SN-added", "hw"),
        services={},
        profiles=[ProfileDescription(profile, rtsp_url)],
        snapshot_uri=None,
        ptz_capable=False,
        clock_drift_s=None,
    )


def test_a_running_node_claims_an_added_camera_and_lets_a_disabled_one_go(postgres, tmp_path):
    clip = write_annexb_clip(tmp_path / "clip.h264")
    server = RtspServerProcess({"/site-cam": f"file:{clip}", "/added-cam": f"file:{clip}"}).start()
    database_url = postgres.migrated("ww_node_inventory")
    site = cluster_site(
        tmp_path / "site.yaml", lambda camera: server.url(f"/{camera}"), {"qinzhou": ["site-cam"]}
    )
    env = node_env(tmp_path / "node-a", database_url, site)
    node = NodeProcess("node-a", tmp_path / "node-a", env, ["--listen", "127.0.0.1:0"]).start()
    engine = make_engine(database_url)
    try:

        def held() -> list[str]:
            status = cluster_status(env)
            return sorted(
                camera
                for entry in status["nodes"]
                if entry["name"] == "node-a" and entry["alive"]
                for camera in entry["cameras"]
            )

        wait_for(lambda: held() == ["site-cam"], 60, f"node-a holding the site's camera\n{node.log()}")

        new = NewCamera("added-cam", "qinzhou", "checkin", "Added camera", "127.0.0.1", 80)
        store_camera(engine, new, described(server.url("/added-cam")), key_dir=tmp_path / "node-a")
        wait_for(
            lambda: held() == ["added-cam", "site-cam"], 30, f"node-a claiming the added camera\n{node.log()}"
        )
        wait_for(
            lambda: query(database_url, "SELECT 1 FROM recording_segments WHERE camera_id = 'added-cam'"),
            60,
            f"a recorded segment of the added camera\n{node.log()}",
        )

        set_enabled(engine, "added-cam", False)
        wait_for(lambda: held() == ["site-cam"], 30, f"node-a letting the disabled camera go\n{node.log()}")
        assert node.process is not None and node.process.poll() is None, node.log()
        # the node runs the compiled per-packet path (the suite installs the package with it)
        assert "RTSP per-packet path: compiled" in node.log(), node.log()[-2000:]
        assert "Recording per-packet path: compiled" in node.log(), node.log()[-2000:]
    finally:
        engine.dispose()
        node.stop()
        server.kill()
