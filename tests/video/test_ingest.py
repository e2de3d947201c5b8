"""The ingest against real RTSP servers: healthy streams, and each fault beside a healthy camera."""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import datetime

import pytest

from tests.support.rtsp_process import RTSP_PASSWORD, RTSP_USER, closed_port, wait_until
from tests.video.sites import make_site
from watchwall.config.settings import Settings
from watchwall.video.ingest.reader import ReaderOptions
from watchwall.video.ingest.supervisor import ALARM_EVENT, STATUS_EVENT, VIDEO_LOSS, IngestService
from watchwall.video.state.events import MemorySink

pytestmark = pytest.mark.rtsp

PASSWORD_ENV = "WATCHWALL_TEST_RTSP_PASSWORD"


@contextmanager
def running(cameras: dict[str, dict], tmp_path, keyframes: bool = False):
    sink = MemorySink()
    service = IngestService(
        make_site(cameras), settings=Settings(data_dir=tmp_path), sink=sink, keyframes=keyframes
    )
    service.start()
    try:
        yield service, sink
    finally:
        assert service.stop(timeout=10), "readers did not stop"


def state_of(service: IngestService, camera_id: str) -> str:
    return service.healths[camera_id].state


def seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def statuses(sink: MemorySink, camera_id: str) -> list[str]:
    return [p["state"] for p in sink.payloads(STATUS_EVENT) if p["camera_id"] == camera_id]


def assert_kept_flowing(service: IngestService, camera_id: str, since_packets: int) -> None:
    health = service.camera_health(camera_id)
    assert health.state == "online", health
    assert health.packets > since_packets
    assert health.gaps == [], health.gaps
    assert statuses_are_only_online(service, camera_id)


def statuses_are_only_online(service: IngestService, camera_id: str) -> bool:
    return statuses(service.sink, camera_id) == ["connecting", "online"]


def test_healthy_h264_stream_is_measured_and_fanned_out(rtsp_server, tmp_path):
    with running({"cam0": {"rtsp": rtsp_server.url("/cam0")}}, tmp_path) as (service, sink):
        subscription = service.fanout("cam0").subscribe("test", maxsize=1000)
        wait_until(lambda: service.healths["cam0"].keyframes >= 4, 15, what="four keyframes")
        packets = []
        while (packet := subscription.get(timeout=0)) is not None:
            packets.append(packet)
        health = service.camera_health("cam0")  # after the drain: it has counted every packet drained
        assert statuses(sink, "cam0") == ["connecting", "online"]

    assert health.state == "online" and health.error_kind is None
    assert (health.codec, health.width, health.height) == ("h264", 320, 240)
    assert health.browser_playable is True
    assert health.fps == pytest.approx(15, abs=2)
    assert health.keyframe_interval_s == pytest.approx(1.0, abs=0.15)
    assert health.keyframe_interval_frames == 15
    assert 0 < health.time_to_first_keyframe_s < 5
    assert health.bitrate_bps > 10_000
    assert health.last_packet_age_s < 1.5
    assert health.attempts == 1 and health.reconnects == 0 and health.gaps == []
    assert health.dropped == {"test": 0}

    assert packets, "the subscriber got nothing"
    sequences = [p.sequence for p in packets]
    assert sequences == list(range(sequences[0], sequences[0] + len(sequences)))
    assert all(p.camera_id == "cam0" and p.stream.codec == "h264" for p in packets)
    assert sum(p.size for p in packets) <= health.bytes
    for packet in packets:  # dated by timestamp: close to arrival on a live, flowing stream
        assert abs(packet.wallclock - (time.time() - (time.monotonic() - packet.arrival))) < 1.0
    wallclocks = [p.wallclock for p in packets]
    assert wallclocks == sorted(wallclocks)


def test_h265_camera_is_ingested_but_not_browser_playable(rtsp_server, tmp_path):
    cameras = {"hevc": {"rtsp": rtsp_server.url("/hevc")}, "cam1": {"rtsp": rtsp_server.url("/cam1")}}
    with running(cameras, tmp_path) as (service, _):
        wait_until(lambda: service.healths["hevc"].keyframes >= 2, 15, what="H.265 keyframes")
        hevc = service.camera_health("hevc")
        cam1 = service.camera_health("cam1")
    assert hevc.state == "online" and hevc.codec == "hevc"
    assert hevc.browser_playable is False
    assert hevc.fps == pytest.approx(15, abs=2)
    assert cam1.state == "online" and cam1.browser_playable is True


def test_server_killed_and_restarted_comes_back_with_a_gap_of_the_outage(
    outage_server, rtsp_server, tmp_path
):
    cameras = {"victim": {"rtsp": outage_server.url("/cam0")}, "healthy": {"rtsp": rtsp_server.url("/cam1")}}
    with running(cameras, tmp_path) as (service, sink):
        wait_until(
            lambda: state_of(service, "victim") == "online" and state_of(service, "healthy") == "online", 15
        )
        healthy_before = service.healths["healthy"].packets

        killed_at = time.time()
        outage_server.kill()
        wait_until(lambda: state_of(service, "victim") == "offline", 10, what="offline")
        assert service.healths["victim"].error_kind == "unreachable"
        time.sleep(3)  # the outage; the reader keeps knocking on the closed port meanwhile
        outage_server.start()
        back_at = time.time()
        wait_until(lambda: state_of(service, "victim") == "online", 10, what="online after restart")
        online_after = time.time() - back_at
        print(f"back online {online_after:.2f} s after the server returned")

        victim = service.camera_health("victim")
        assert_kept_flowing(service, "healthy", healthy_before)

    assert online_after < 2.0, f"back online {online_after:.2f} s after the server returned"
    assert victim.reconnects >= 2  # a few refused attempts during the outage, then the good one
    closed = [gap for gap in victim.gaps if gap["end"] is not None]
    assert len(closed) == 1, victim.gaps
    outage = back_at - killed_at
    assert seconds_between(closed[0]["start"], closed[0]["end"]) == pytest.approx(outage, abs=2.0)
    assert statuses(sink, "victim") == ["connecting", "online", "offline", "online", "stopped"]
    alarms = [p for p in sink.payloads(ALARM_EVENT) if p["camera_id"] == "victim"]
    assert [(a["kind"], a["active"]) for a in alarms] == [(VIDEO_LOSS, True), (VIDEO_LOSS, False)]
    assert alarms[0]["start"] == alarms[1]["start"] and alarms[1]["end"] is not None
    (logged,) = service.alarm_log("victim")  # one entry per alarm, closed
    assert logged == alarms[1] and logged["centre"] == "qinzhou"


@pytest.mark.parametrize(
    "stall_s",
    [1.0, 7.0],  # past the read timeout (2 x 2.5 s): the reader reconnects into the still-stalled mount
    ids=["short", "past-read-timeout"],
)
def test_stall_with_the_connection_open_is_detected_and_recovers(rtsp_server, tmp_path, stall_s):
    cameras = {"valve": {"rtsp": rtsp_server.url("/valve")}, "healthy": {"rtsp": rtsp_server.url("/cam0")}}
    with running(cameras, tmp_path) as (service, sink):
        wait_until(
            lambda: state_of(service, "valve") == "online" and state_of(service, "healthy") == "online", 15
        )
        healthy_before = service.healths["healthy"].packets
        try:
            rtsp_server.stall("/valve")
            stalled_from = time.monotonic()
            wait_until(lambda: state_of(service, "valve") == "stalled", 6, what="stalled")
            stalled_after = time.monotonic() - stalled_from
            print(f"stalled declared {stalled_after:.2f} s after the stall")
            time.sleep(stall_s)
        finally:
            rtsp_server.resume("/valve")
        wait_until(lambda: state_of(service, "valve") == "online", 20, what="online after resume")
        # The frame held back through the stall may come first, dated before it: the gap closes just after.
        wait_until(lambda: service.healths["valve"].gap_spans(), 5, what="the stall's gap to close")
        valve = service.camera_health("valve")
        assert_kept_flowing(service, "healthy", healthy_before)

    assert stalled_after < 3.0, f"stalled declared {stalled_after:.2f} s after the stall"
    closed = [gap for gap in valve.gaps if gap["end"] is not None]
    assert len(closed) == 1 and seconds_between(closed[0]["start"], closed[0]["end"]) > 2.0, valve.gaps
    assert statuses(sink, "valve")[:3] == ["connecting", "online", "stalled"] and statuses(sink, "valve")[
        -2:
    ] == [
        "online",
        "stopped",
    ]
    alarms = [p for p in sink.payloads(ALARM_EVENT) if p["camera_id"] == "valve"]
    assert [a["active"] for a in alarms] == [True, False], (statuses(sink, "valve"), alarms)


def test_corrupted_stream_keeps_flowing_and_counts_malformed_packets(rtsp_server, tmp_path):
    cameras = {"broken": {"rtsp": rtsp_server.url("/broken")}, "healthy": {"rtsp": rtsp_server.url("/cam1")}}
    with running(cameras, tmp_path) as (service, _):
        wait_until(lambda: service.healths["broken"].malformed_packets >= 1, 20, what="a malformed packet")
        counted = service.healths["broken"].packets
        wait_until(
            lambda: service.healths["broken"].packets > counted + 15, 10, what="packets after corruption"
        )
        broken = service.camera_health("broken")
        assert service.readers["broken"].join(timeout=0) is False  # the reader thread is alive
        healthy = service.camera_health("healthy")
    assert broken.state == "online"
    assert healthy.state == "online" and healthy.malformed_packets == 0


@pytest.fixture(scope="module")
def failing_cameras(rtsp_server, auth_server, garbage_server, silent_server, tmp_path_factory):
    """One service with a camera for each way of failing to open, and a healthy one, run for 7 s."""
    port = closed_port()
    cameras = {
        "missing": {"rtsp": rtsp_server.url("/no-such-path")},
        "anonymous": {"rtsp": auth_server.url("/cam0")},
        "closed": {"rtsp": f"rtsp://127.0.0.1:{port}/cam0"},
        "garbage": {"rtsp": f"rtsp://127.0.0.1:{garbage_server.port}/cam0"},
        "silent": {"rtsp": f"rtsp://127.0.0.1:{silent_server.port}/cam0"},
        "healthy": {"rtsp": rtsp_server.url("/cam1")},
    }
    with running(cameras, tmp_path_factory.mktemp("failing")) as (service, sink):
        wait_until(lambda: all(h.attempts >= 1 for h in service.healths.values()), 10)
        started = {camera_id: health.attempts for camera_id, health in service.healths.items()}
        healthy_before = service.healths["healthy"].packets
        time.sleep(7)
        healths = service.health()
        attempts = {camera_id: healths[camera_id].attempts - started[camera_id] for camera_id in healths}
        assert_kept_flowing(service, "healthy", healthy_before)
    return healths, attempts, sink


@pytest.mark.parametrize(
    ("camera_id", "state", "kind"),
    [
        ("missing", "error", "not_found"),
        ("anonymous", "error", "auth"),
        ("closed", "offline", "unreachable"),
        ("garbage", "error", "protocol"),
        ("silent", "offline", "unreachable"),  # connects, then no answer within the open timeout
    ],
)
def test_each_failure_has_its_kind_and_a_status_event(failing_cameras, camera_id, state, kind):
    healths, _, sink = failing_cameras
    health = healths[camera_id]
    assert (health.state, health.error_kind) == (state, kind), health.detail
    assert health.packets == 0
    assert health.gaps and health.gaps[0]["end"] is None  # silent since the start
    events = [p for p in sink.payloads(STATUS_EVENT) if p["camera_id"] == camera_id]
    assert events[0]["state"] == "connecting"
    events = events[1:]
    assert (
        events[0]["state"] == state and events[0]["error_kind"] == kind and events[0]["centre"] == "qinzhou"
    )
    assert RTSP_PASSWORD not in str(events)


@pytest.mark.parametrize("camera_id", ["missing", "anonymous", "garbage"])
def test_persistent_failures_back_off_instead_of_looping(failing_cameras, camera_id):
    _, attempts, _ = failing_cameras
    # 1 s, 2 s, 4 s ... between attempts: at most 4 in 7 s (a tight loop would make thousands).
    assert 1 <= attempts[camera_id] <= 4, attempts


@pytest.mark.parametrize("camera_id", ["closed"])
def test_transient_failures_retry_at_a_bounded_pace(failing_cameras, camera_id):
    _, attempts, _ = failing_cameras
    # 0.25 s then 0.5 s (capped) between attempts, with ±20 % jitter: about 14 in 7 s.
    assert 5 <= attempts[camera_id] <= 25, attempts


@pytest.mark.parametrize("native", [True, False], ids=["native-rtsp", "ffmpeg-rtsp"])
def test_stop_is_bounded_even_with_a_reader_blocked_in_an_open(silent_server, rtsp_server, tmp_path, native):
    cameras = {
        "silent": {"rtsp": f"rtsp://127.0.0.1:{silent_server.port}/x"},
        "cam": {"rtsp": rtsp_server.url("/cam0")},
    }
    service = IngestService(
        make_site(cameras),
        settings=Settings(data_dir=tmp_path),
        keyframes=False,
        options=ReaderOptions(native_rtsp=native),
    )
    service.start()
    wait_until(lambda: service.healths["cam"].packets > 0 and service.healths["silent"].attempts > 0, 15)
    started = time.monotonic()
    ended = service.stop(timeout=0.5)
    took = time.monotonic() - started
    packets = service.healths["cam"].packets
    assert took < 1.5
    # The native client opens in quarter-second slices and honours the stop request; FFmpeg's
    # open to the silent server stays blocked until its open timeout.
    assert ended is native
    assert service.readers["cam"].join(0) is True
    assert service.readers["silent"].join(timeout=10) is True  # at the latest at the open timeout
    assert service.healths["silent"].state == "stopped" and service.healths["cam"].packets == packets


def test_credentials_from_the_environment_open_an_auth_camera(auth_server, tmp_path, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, RTSP_PASSWORD)
    credentials = {"username": RTSP_USER, "password_env": PASSWORD_ENV}
    with running({"secure": {"rtsp": auth_server.url("/cam0"), "credentials": credentials}}, tmp_path) as (
        service,
        sink,
    ):
        wait_until(lambda: service.healths["secure"].packets >= 10, 15, what="packets with credentials")
    assert RTSP_PASSWORD not in str(sink.events)
