"""Cameras that speak RTSP differently (issue 13 A.2-A.6): backoff on protocol errors, which path
reads a camera, a codec that cannot be recorded, B-frames decided before recording, raw passwords."""

from __future__ import annotations

import json
import logging
import time

import pytest

from tests.support.rtsp_process import RtspServerProcess, wait_until
from tests.video.interop_run import CAMERA, one_camera_site, recorded
from tests.video.record.recording_media import decode_frames
from watchwall.config.settings import Settings
from watchwall.dashboard.components.camera_live_cells import OPEN_INCIDENTS, live_headers
from watchwall.dashboard.context import AppContext
from watchwall.dashboard.pages.admin import camera_rows
from watchwall.roles.cli import main
from watchwall.video.ingest.fanout import Fanout
from watchwall.video.ingest.health import CameraHealth
from watchwall.video.ingest.reader import CameraReader, ReaderOptions
from watchwall.video.ingest.source_url import rtsp_source
from watchwall.video.record.verify import verify_recordings
from watchwall.video.state.view import LocalMediaView

pytestmark = pytest.mark.rtsp

RAW_PASSWORD = "p@ss:w/rd%"


@pytest.fixture(scope="module")
def cameras():
    """H.264 over TCP or UDP, UDP only, MJPEG, B-frames; one server each so sessions do not mix."""
    servers = {
        "any": RtspServerProcess({"/cam": "h264", "/mjpeg": "mjpeg", "/b": "bframes"}).start(),
        "udp": RtspServerProcess(
            {"/cam": "h264", "/ffmpeg": "h264"}, extra_args=("--protocols", "udp")
        ).start(),
        "raw": RtspServerProcess({"/cam": "h264"}, user="viewer", password=RAW_PASSWORD).start(),
    }
    yield servers
    for server in servers.values():
        server.kill()


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- A.2 backoff ---------------------------------------------------------------------------------


def test_a_protocol_error_backs_off_slowly_and_the_health_says_why(cameras):
    """A camera that refuses our transport answers the same next time: retry slowly, say why."""
    health = CameraHealth("cam", stall_after_s=2.0)
    reader = CameraReader(
        "cam",
        rtsp_source(cameras["udp"].url("/cam"), transport="tcp"),
        Fanout("cam"),
        health,
        ReaderOptions(),
    )
    reader.start()
    try:
        wait_until(lambda: health.attempts >= 1 and health.retry is not None, 15, what="a first failure")
        first = health.attempts
        time.sleep(6)
        made = health.attempts - first
        snapshot = health.snapshot().as_dict()
    finally:
        reader.stop(2)
    # 1 s, 2 s, 4 s (± 20 %) after the first failure: at most 3 more in 6 s; a quick loop makes ~12.
    assert 1 <= made <= 3, made
    assert (snapshot["state"], snapshot["error_kind"]) == ("error", "protocol")
    assert "461" in snapshot["detail"] and "transport: udp or auto" in snapshot["detail"]
    retry = snapshot["retry"]
    assert retry["failures"] >= 2 and 1.5 <= retry["in_s"] <= 15 * 1.2
    assert "protocol error persists" in retry["reason"] and "up to 15 s" in retry["reason"]
    assert json.dumps(snapshot)  # the health JSON carries it as is


# --- A.3 which path -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("server", "path", "transport", "native", "route"),
    [
        ("any", "/cam", "tcp", True, "native TCP"),
        ("udp", "/cam", "udp", True, "native UDP"),
        (
            "udp",
            "/ffmpeg",
            "udp",
            False,
            "ffmpeg UDP",
        ),  # its own path: a shared media being torn down answers 503
        ("any", "/mjpeg", "tcp", True, "ffmpeg TCP"),
    ],
    ids=["native-tcp", "native-udp-fallback", "ffmpeg-udp-fallback", "mjpeg-through-ffmpeg"],
)
def test_the_health_says_which_path_reads_a_camera_and_over_which_transport(
    cameras, server, path, transport, native, route, caplog
):
    caplog.set_level("INFO", logger="watchwall.video.ingest.reader")
    health = CameraHealth("cam", stall_after_s=2.0)
    reader = CameraReader(
        "cam",
        rtsp_source(cameras[server].url(path)),
        Fanout("cam"),
        health,
        ReaderOptions(native_rtsp=native),
    )
    reader.start()
    try:
        wait_until(lambda: health.state == "online" and health.packets >= 10, 30, what="video")
        snapshot = health.snapshot().as_dict()
    finally:
        reader.stop(2)
    assert f"{snapshot['path']} {snapshot['transport'].upper()}" == route
    assert snapshot["transport"] == transport and snapshot["retry"] is None
    # A refused TCP is asked once: after it the reader starts with UDP, also when the first UDP
    # attempt failed otherwise (this server may answer 503 while it tears down the refused media).
    refusals = [r for r in caplog.records if "RTP over tcp refused" in r.getMessage()]
    assert len(refusals) <= 1, [r.getMessage() for r in caplog.records]


def test_probe_goes_through_the_ingest_client_and_says_which(cameras, capsys):
    code, out, err = run_cli(capsys, "probe", cameras["udp"].url("/cam"), "--seconds", "1.5", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert (result["path"], result["transport"], result["codec"]) == ("native", "udp", "h264")
    assert result["packets"] >= 10 and result["width"] == 320
    code, out, err = run_cli(capsys, "probe", cameras["any"].url("/b"), "--seconds", "1.5")
    assert code == 0, err
    assert "read by:           FFmpeg over TCP" in out  # B-frames: as the ingest reads them


def test_admin_camera_table_shows_live_health_path_and_recorder(cameras, tmp_path):
    camera = {"rtsp": cameras["udp"].url("/cam")}
    with recorded(camera, tmp_path, segment_s=2.0) as run:
        wait_until(lambda: run.service.camera_health(CAMERA).recorder == "recording", 30, what="recording")
        wait_until(lambda: (run.service.camera_health(CAMERA).fps or 0) > 5, 15, what="a frame rate")
        site = one_camera_site(camera)
        context = AppContext(
            Settings(data_dir=tmp_path), site, run.engine, media=LocalMediaView(run.service, None)
        )
        table = camera_rows(context, "en", [])
        context.extras[OPEN_INCIDENTS] = lambda camera_id: 2 if camera_id == CAMERA else 0
        with_incidents = camera_rows(context, "en", [])
    headers = [cell.children for cell in table.children[0].children.children]
    row = dict(zip(headers, [cell.children for cell in table.children[1].children[0].children], strict=True))
    assert headers[-6:] == live_headers("en")
    assert row["Live"] == "Online" and float(row["fps"]) > 5
    assert row["Recorder"] == "Recording" and row["Read by"] == "Native · UDP"
    assert row["Last packet"] != "–" and row["Open incidents"] == "–"
    incidents = [cell.children for cell in with_incidents.children[1].children[0].children][-1]
    assert incidents == "2"


# --- A.4 a codec that cannot be recorded ----------------------------------------------------------


def test_an_mjpeg_camera_stays_online_not_recordable_said_once(cameras, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    with recorded({"rtsp": cameras["any"].url("/mjpeg")}, tmp_path, segment_s=2.0, keyframes=True) as run:
        health = run.service.healths[CAMERA]
        wait_until(lambda: health.state == "online" and health.packets >= 30, 30, what="MJPEG packets")
        thumbnails = run.service.keyframe_workers[CAMERA]
        wait_until(lambda: thumbnails.latest_jpeg is not None, 15, what="a thumbnail")
        time.sleep(6)  # longer than the recorder's 5 s retry
        snapshot = run.service.camera_health(CAMERA)
        report = snapshot.as_dict()
    assert report["state"] == "online" and report["codec"] == "mjpeg" and report["path"] == "ffmpeg"
    assert report["recorder"] == "not recordable: codec mjpeg"
    assert thumbnails.latest_jpeg[:2] == b"\xff\xd8"  # the wall's thumbnail is there
    assert run.segments() == [] and not list(run.recordings_dir.rglob("*.mp4"))
    said = [r for r in caplog.records if "not recordable: codec mjpeg" in r.getMessage()]
    assert len(said) == 1 and said[0].exc_info is None
    assert not [r for r in caplog.records if r.name.startswith("watchwall.video.record") and r.exc_info]


# --- A.5 B-frames ----------------------------------------------------------------------------------


def test_a_b_frame_camera_is_recorded_without_a_hole_or_a_short_segment(cameras, tmp_path):
    with recorded({"rtsp": cameras["any"].url("/b")}, tmp_path, segment_s=2.0) as run:
        health = run.service.healths[CAMERA]
        wait_until(lambda: len([s for s in run.segments() if s.sha256]) >= 3, 40, what="3 closed segments")
        snapshot = run.service.camera_health(CAMERA)
    assert snapshot.path == "ffmpeg" and health.errors == 0
    closed = [row for row in run.segments() if row.sha256]
    frames = [decode_frames(run.recordings_dir / row.path) for row in closed]
    assert min(frames[:-1]) >= 15, frames  # no 2-frame segment: each full one is about 2 s at 15 fps
    assert run.gaps() == []  # and no hole between them
    for before, after in zip(closed, closed[1:], strict=False):
        assert after.start_utc - before.end_utc < 0.2
    assert verify_recordings(run.engine, run.recordings_dir) == []


# --- A.6 a raw password in a probe URL -------------------------------------------------------------


def test_probe_takes_a_raw_password_as_the_site_file_does(cameras, capsys):
    server = cameras["raw"]
    url = f"rtsp://viewer:{RAW_PASSWORD}@127.0.0.1:{server.port}/cam"
    code, out, err = run_cli(capsys, "probe", url, "--seconds", "1", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["codec"] == "h264" and result["packets"] > 0
    assert RAW_PASSWORD not in out and result["url"] == f"rtsp://viewer:***@127.0.0.1:{server.port}/cam"
    code, _, err = run_cli(capsys, "probe", url.replace("rd%", "rd!"), "--seconds", "1")
    assert code != 0 and "auth:" in err and RAW_PASSWORD not in err
