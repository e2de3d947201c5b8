"""Cameras that send RTP over UDP only (issue 13 A.1), and RTCP receiver reports on both transports."""

from __future__ import annotations

import io
import time

import av
import pytest

from tests.support.rtsp_process import RtspServerProcess, wait_until
from tests.video.interop_run import CAMERA, recorded
from tests.video.record.recording_media import decode_frames
from watchwall.video.record.verify import verify_recordings
from watchwall.video.rtsp.depacketize import Depacketizer
from watchwall.video.rtsp.session import RtspSession, TransportRefused
from watchwall.video.rtsp.udp import ReorderBuffer

pytestmark = pytest.mark.rtsp


@pytest.fixture(scope="module")
def udp_only_server():
    """GStreamer's RTSP server offering RTP over UDP only: a TCP SETUP is answered 461."""
    # A path per test: a shared media still being torn down after a test answers DESCRIBE with 503.
    mounts = {"/cam": "h264", "/refuse": "h264", "/auto": "h264"}
    server = RtspServerProcess(mounts, extra_args=("--protocols", "udp")).start()
    yield server
    server.kill()


def decoded(stream: bytes) -> int:
    with av.open(io.BytesIO(stream), format="mp4") as container:
        return sum(1 for _ in container.decode(video=0))


def test_a_udp_only_camera_is_live_recorded_and_verified(udp_only_server, tmp_path):
    with recorded({"rtsp": udp_only_server.url("/cam")}, tmp_path, segment_s=2.0, live=True) as run:
        health = run.service.healths[CAMERA]
        wait_until(
            lambda: health.state == "online" and health.packets >= 90, 30, what="6 s of video over UDP"
        )
        snapshot = run.service.camera_health(CAMERA)
        wait_until(lambda: sum(kind == "fragment" for kind, _ in run.watcher.messages) >= 60, 10, what="live")
    assert (snapshot.path, snapshot.transport) == ("native", "udp")
    assert snapshot.errors == 0 and snapshot.corrupt_packets == 0 and snapshot.malformed_packets == 0
    assert decoded(run.watcher.stream()) >= 60  # what the browser got plays
    segments = [row for row in run.segments() if row.sha256]
    assert len(segments) >= 2 and run.gaps() == []
    assert sum(decode_frames(run.recordings_dir / row.path) for row in segments) >= 80
    assert verify_recordings(run.engine, run.recordings_dir) == []


def test_auto_falls_back_to_udp_and_tcp_alone_is_refused_with_a_hint(udp_only_server):
    session = RtspSession(udp_only_server.url("/refuse"), "cam", 5.0, transport="tcp")
    try:
        with pytest.raises(TransportRefused, match=r"461 .*transport: udp or auto"):
            session.open()
    finally:
        session.close()
    session = RtspSession(udp_only_server.url("/auto"), "cam", 5.0)
    try:
        session.open()
        assert session.transport == "udp"
    finally:
        session.close()


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_rtcp_receiver_reports_reach_the_server(transport, tmp_path):
    """The server's RTP session (GStreamer's rtpsession) reads our reports: a well-formed RR."""
    server = RtspServerProcess({"/cam": "h264"}).start()
    try:
        session = RtspSession(server.url("/cam"), "cam", 5.0, transport=transport)
        try:
            session.open()
            assert session.transport == transport
            units: list = []

            def reported() -> bool:
                session.pump(time.monotonic(), units)
                return (
                    server.receiver_reports("/cam")[0] >= 1
                    and session.stats.reports_sent >= 2
                    and session.stats.sender_reports >= 1  # the server's first may come after our second
                )

            wait_until(
                reported, 20, interval=0.1, what="a receiver report read by the server, its report read"
            )
            reports, highest = server.receiver_reports("/cam")
            assert highest >= session.stats.base_seq  # the extended sequence number we reported
            assert session.stats.sender_reports >= 1  # and we read the server's sender reports
            assert units and not any(unit.corrupt for unit in units)
        finally:
            session.close()
    finally:
        server.kill()


def rtp(sequence: int, timestamp: int, payload: bytes, marker: bool) -> bytes:
    header = bytes((0x80, (0x80 if marker else 0) | 96)) + sequence.to_bytes(2, "big")
    return header + timestamp.to_bytes(4, "big") + b"\x00\x00\x00\x01" + payload


def frames(count: int, first_sequence: int = 65530) -> list[bytes]:
    """Each picture in two single-NAL packets (slices), the second with the marker."""
    packets = []
    for index in range(count):
        nal = b"\x65" if index == 0 else b"\x41"
        for part in range(2):
            sequence = (first_sequence + 2 * index + part) & 0xFFFF
            packets.append(rtp(sequence, 3000 * index, nal + bytes([index, part]) * 20, part == 1))
    return packets


def depacketized(packets: list[bytes], buffer: ReorderBuffer, now: float = 0.0):
    depacketizer, ready, out = Depacketizer("h264", 96), [], []
    for packet in packets:
        buffer.push((packet[2] << 8) | packet[3], packet, now, ready)
    buffer.expire(now + 1.0, ready)
    for packet in ready:
        depacketizer.push(packet, 0, len(packet), out)
    depacketizer.flush(out)
    return out, depacketizer


def test_udp_reordering_is_undone_across_the_sequence_wrap():
    packets = frames(6)
    shuffled = [packets[i] for i in (0, 2, 1, 3, 5, 4, 6, 8, 7, 9, 11, 10)]
    shuffled.insert(5, packets[3])  # and a duplicate
    units, depacketizer = depacketized(shuffled, ReorderBuffer())
    expected, _ = depacketized(packets, ReorderBuffer())
    assert [u.data for u in units] == [u.data for u in expected] and len(units) == 6
    assert not any(unit.corrupt for unit in units) and depacketizer.lost_packets == 0


def test_a_packet_lost_over_udp_marks_its_unit_corrupt():
    packets = frames(6)
    del packets[5]  # the first slice of the third picture
    units, depacketizer = depacketized(packets, ReorderBuffer())
    assert [unit.corrupt for unit in units] == [False, False, True, False, False, False]
    assert depacketizer.lost_packets == 1
