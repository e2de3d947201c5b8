"""Interop with another make of RTSP server: Perl's RTSP::Server fed by ffmpeg (H.264 and H.265).

Its SDP is ffmpeg's (sprop parameter sets, H.265's sprop-vps/sps/pps), its sessions, ports and
RTP timing its own; it serves RTP over UDP only. The camera is pulled, recorded and watched live
as `watchwall serve` would, and the recording verifies.
"""

from __future__ import annotations

import subprocess

import av
import pytest

from tests.support.perl_rtsp_server import PerlRtspServer, installed
from tests.support.rtsp_process import wait_until
from tests.video.interop_run import CAMERA, recorded
from tests.video.record.recording_media import decode_frames
from watchwall.video.record.verify import verify_recordings

pytestmark = [
    pytest.mark.rtsp,
    pytest.mark.skipif(not installed(), reason="rtsp-server-perl (Debian) is installed by .ci/setup"),
]

ENCODERS = {
    "h264": ["-c:v", "libx264", "-g", "25", "-bf", "0", "-tune", "zerolatency"],
    "hevc": ["-c:v", "libx265", "-x265-params", "keyint=25:bframes=0:log-level=error"],
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("perl-rtsp")
    running = PerlRtspServer(folder).start()
    urls = {}
    for codec, options in ENCODERS.items():
        clip = folder / f"{codec}.mp4"
        subprocess.run(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
             "-i", "testsrc=size=640x360:rate=25", "-t", "6", *options, "-pix_fmt", "yuv420p", str(clip)],
            check=True,
            timeout=120,
        )  # fmt: skip
        urls[codec] = running.publish(clip, f"/{codec}")
    yield urls
    running.kill()


@pytest.mark.parametrize("codec", ["h264", "hevc"])
def test_a_camera_of_another_server_is_recorded_live_and_verifies(server, codec, tmp_path):
    with recorded({"rtsp": server[codec]}, tmp_path, segment_s=2.0, live=True) as run:
        health = run.service.healths[CAMERA]
        wait_until(lambda: health.state == "online" and health.packets >= 125, 40, what="5 s of video")
        wait_until(lambda: sum(kind == "fragment" for kind, _ in run.watcher.messages) >= 50, 15, what="live")
        snapshot = run.service.camera_health(CAMERA)
    assert snapshot.transport == "udp"  # the server refuses RTP over TCP; auto fell back
    assert snapshot.errors == 0 and snapshot.malformed_packets == 0, snapshot
    segments = [row for row in run.segments() if row.sha256]
    assert len(segments) >= 2, segments
    assert {(row.codec, row.width, row.height) for row in segments} == {(codec, 640, 360)}
    assert sum(decode_frames(run.recordings_dir / row.path) for row in segments) >= 75
    with av.open(str(run.recordings_dir / segments[0].path)) as container:
        assert container.streams.video[0].codec_context.name == codec
    assert verify_recordings(run.engine, run.recordings_dir) == []
