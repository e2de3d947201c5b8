"""The reader's pure decisions: backoff, packet dating, error kinds, NAL sanity, safe URLs."""

from __future__ import annotations

import random

import av
import pytest

from watchwall.config.errors import UserError
from watchwall.video.codec.bitstream import is_malformed
from watchwall.video.ingest.health import RATE_WINDOW_S, CameraHealth
from watchwall.video.ingest.reader import MAX_LAG_S, PacketClock, ReaderOptions
from watchwall.video.ingest.source_url import SourceError, display_url, source_for_url
from watchwall.video.ingest.stream_errors import classify


def test_backoff_doubles_up_to_its_cap_with_jitter_and_is_slower_for_persistent_failures():
    options = ReaderOptions()
    rng = random.Random(1)
    transient = [options.backoff(n, "unreachable", rng) for n in range(1, 8)]
    persistent = [options.backoff(n, "auth", rng) for n in range(1, 8)]
    assert 0.2 <= transient[0] <= 0.3 and all(0.4 <= d <= 0.6 for d in transient[1:])
    assert 0.8 <= persistent[0] <= 1.2 and 1.6 <= persistent[1] <= 2.4
    assert all(d <= 15 * 1.2 for d in persistent) and persistent[-1] >= 15 * 0.8
    assert len({round(options.backoff(3, "auth", rng), 6) for _ in range(20)}) > 10  # jittered


def test_packet_clock_dates_by_timestamp_and_reanchors_on_drift():
    clock = PacketClock()
    assert clock.date(10.0, 1000.0) == 1000.0
    assert clock.date(10.5, 1003.0) == pytest.approx(1000.5)  # held back 2.5 s: dated when it was taken
    assert clock.date(12.0, 1000.0 + MAX_LAG_S + 5) == 1000.0 + MAX_LAG_S + 5  # too far behind: re-anchor
    assert clock.date(None, 2000.0) == 2000.0


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (av.error.HTTPUnauthorizedError(-1, "401"), "auth"),
        (av.error.HTTPNotFoundError(-1, "404"), "not_found"),
        (av.error.ConnectionRefusedError(111, "refused"), "unreachable"),
        (av.error.ExitError(-1, "exit"), "unreachable"),
        (av.error.InvalidDataError(-1, "junk"), "protocol"),
        (UserError("env var X is not set"), "config"),
    ],
)
def test_errors_are_classified(exc, kind):
    assert classify(exc) == kind


def test_nal_sanity_check():
    good = b"\x00\x00\x00\x01\x67\x42" + b"\x00\x00\x01\x68\xce" + b"\x00\x00\x01\x65\x88"
    assert not is_malformed(good, "h264", True)
    assert is_malformed(b"\x00\x00\x01\xe5\x88", "h264", True)  # forbidden bit
    assert is_malformed(b"\x00\x00\x01\x05\x88", "h264", True)  # IDR slice with nal_ref_idc 0
    assert is_malformed(b"\x12\x34\x00\x00\x01\x41", "h264", True)  # no start code first
    assert not is_malformed(b"\x12\x34", "h264", False)  # length-prefixed (MP4): not checked
    assert not is_malformed(b"\x00\x00\x01\x40\x01", "hevc", True)  # VPS
    assert is_malformed(b"\x00\x00\x01\x40\x00", "hevc", True)  # temporal id 0 is invalid


def test_health_counts_frames_not_packets_and_records_gaps():
    from fractions import Fraction

    from watchwall.video.ingest.packet import MediaPacket, StreamInfo

    info = StreamInfo("h264", 320, 240, Fraction(1, 90000))
    health = CameraHealth("c", stall_after_s=2.0)
    t0 = health.last_wallclock
    for index in range(30):
        for _part in range(2):  # two packets per frame, as RTP hands some frames over
            wallclock = t0 + index / 10 + (5 if index >= 25 else 0)
            packet = MediaPacket(
                "c", b"x" * 100, None, None, None, index % 10 == 0, False, info, 0.0, wallclock
            )
            health.packet(packet, wallclock - t0)
    snapshot = health.snapshot()
    assert snapshot.keyframes == 3 and snapshot.keyframe_interval_frames == 10
    assert snapshot.keyframe_interval_s == pytest.approx(1.0)
    assert snapshot.fps == pytest.approx(10, abs=0.5)
    assert len(health.gap_spans()) == 1
    start, end = health.gap_spans()[0]
    assert end - start == pytest.approx(5.1)


def test_urls_are_shown_without_passwords_even_when_typed_raw():
    assert (
        display_url("rtsp://admin:pa#ss/wd@10.0.0.5:554/Streaming/101")
        == "rtsp://admin:***@10.0.0.5:554/Streaming/101"
    )
    assert display_url("rtsp://admin:secret@cam/x") == "rtsp://admin:***@cam/x"
    assert display_url("rtsp://cam/x") == "rtsp://cam/x"
    with pytest.raises(SourceError, match="not an RTSP URL") as caught:
        source_for_url("http://admin:pa#ss@cam/x")
    assert "pa#ss" not in str(caught.value)
    source = source_for_url("rtsp://cam:8554/x")
    assert source.options["rtsp_transport"] == "tcp" and source.is_network


def test_a_site_camera_opens_its_chosen_profile_with_credentials(tmp_path, monkeypatch):
    from watchwall.config.site import Camera
    from watchwall.video.ingest.source_url import source_for_camera

    monkeypatch.setenv("WATCHWALL_TEST_CAM_PASSWORD", "pa#ss")
    camera = Camera(
        id="door",
        name="door",
        rtsp="rtsp://10.0.0.5/main",
        sub_rtsp="rtsp://10.0.0.5/sub",
        profile="sub",
        credentials={"username": "admin", "password_env": "WATCHWALL_TEST_CAM_PASSWORD"},
    )
    source = source_for_camera(camera, "door", tmp_path)
    assert source.url == "rtsp://admin:pa%23ss@10.0.0.5/sub"
    assert source.display == "rtsp://admin:***@10.0.0.5/sub"


def test_a_packet_built_with_every_field_equals_the_dataclass_one():
    """``MediaPacket.every_field`` (the RTSP loop's cheaper constructor) takes exactly the fields,
    and builds a packet equal to ``MediaPacket(...)`` in all that can be seen."""
    import dataclasses
    import inspect
    from fractions import Fraction

    from watchwall.video.ingest.packet import MediaPacket, StreamInfo

    names = [field.name for field in dataclasses.fields(MediaPacket)]
    assert list(inspect.signature(MediaPacket.every_field).parameters) == names
    info = StreamInfo("h264", 320, 240, Fraction(1, 90000))
    values = dict(
        zip(names, ("c", b"\0\0\0\1\x65", 9, 9, 3600, True, False, info, 1.5, 2.5, 7, 1), strict=True)
    )
    quick, slow = MediaPacket.every_field(**values), MediaPacket(**values)
    assert quick == slow and hash(quick) == hash(slow) and repr(quick) == repr(slow)
    assert vars(quick) == vars(slow) and quick.size == 5
    assert dataclasses.replace(quick, sequence=8) == dataclasses.replace(slow, sequence=8)
    with pytest.raises(dataclasses.FrozenInstanceError):
        quick.sequence = 8


def counted_one_by_one(health, packet, media_time_s, malformed) -> None:
    """The counting of one packet as ``CameraHealth.packet`` did before it counted a drain at
    once: the reference the drain's counts are held to."""
    wallclock, size = packet.wallclock, len(packet.data)
    if wallclock - health.last_wallclock > health.stall_after_s:
        health._gaps.append((health.last_wallclock, wallclock))
    health.last_wallclock = max(health.last_wallclock, wallclock)
    health.last_arrival = packet.arrival
    health.stream = packet.stream
    health.packets += 1
    health.bytes += size
    health.corrupt_packets += packet.is_corrupt
    health.malformed_packets += malformed
    when = media_time_s if media_time_s is not None else packet.arrival
    new_frame = when != health._last_frame_time
    health._last_frame_time = when
    if packet.is_keyframe and new_frame:
        health.keyframes += 1
        if health._keyframe_times:
            health.keyframe_interval_frames = health._frames_since_keyframe
        health._keyframe_times.append(when)
        health._frames_since_keyframe = 0
    if new_frame:
        health._frames_since_keyframe += 1
    health._recent.append((when, size))
    while health._recent and (when - health._recent[0][0] > RATE_WINDOW_S or when < health._recent[0][0]):
        health._recent.popleft()


def test_health_counts_a_drain_as_it_counts_packet_by_packet():
    """``CameraHealth.count_packets`` (one lock for a drain) leaves what ``packet`` one by one does:
    frames, keyframes and their interval, bytes, corrupt and malformed counts, gaps, rates."""
    import dataclasses
    from fractions import Fraction

    from watchwall.video.ingest.packet import MediaPacket, StreamInfo

    info = StreamInfo("h264", 320, 240, Fraction(1, 90000))
    one, batched = CameraHealth("c", stall_after_s=2.0), CameraHealth("c", stall_after_s=2.0)
    batched.last_wallclock = t0 = one.last_wallclock
    batched.state_since = one.state_since  # both made now, perhaps a millisecond apart
    entries = []
    for index in range(60):
        for part in range(1 + index % 2):
            wallclock = t0 + index / 10 + (5 if index >= 40 else 0)
            packet = MediaPacket(
                "c",
                b"x" * (100 + index),
                None,
                None,
                None,
                index % 12 == 0,
                index % 7 == 0,
                info,
                index,
                wallclock,
            )
            media_s = None if index == 33 else wallclock - t0
            entries.append((packet, media_s, part == 1))
    for packet, media_s, malformed in entries:
        counted_one_by_one(one, packet, media_s, malformed)
    for drain in range(0, len(entries), 8):
        batched.count_packets(entries[drain : drain + 8])
    snapshots = [dataclasses.replace(health.snapshot(), last_packet_age_s=None) for health in (batched, one)]
    assert snapshots[0] == snapshots[1]  # (the age is read from the clock at each call)
    assert batched.gap_spans() == one.gap_spans() and len(one.gap_spans()) == 1
    names = (
        "packets",
        "bytes",
        "corrupt_packets",
        "malformed_packets",
        "keyframes",
        "keyframe_interval_frames",
    )
    assert [getattr(batched, name) for name in names] == [getattr(one, name) for name in names]
    assert list(batched._recent) == list(one._recent) and batched.stream is one.stream
    assert batched.last_arrival == one.last_arrival and batched._last_frame_time == one._last_frame_time
    assert one.keyframes == 5 and one.malformed_packets == 30
