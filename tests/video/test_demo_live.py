"""Demo cameras with a wall-clock overlay, encoded live: no two keyframes alike, so a healthy demo
raises no tamper alarm (before, a 10 s loop sampled every 10 s looked "frozen")."""

from __future__ import annotations

import fcntl
import json
import os
import threading
from datetime import datetime, timedelta

import av
import pytest

from tests.video import demo_run
from watchwall.config.site import Camera, DemoSource
from watchwall.video.ingest import demo_live
from watchwall.video.ingest.analytics import KINDS, Thresholds, changed_pixels, to_analysis_size
from watchwall.video.ingest.demo_live import LiveDemo
from watchwall.video.ingest.source_url import source_for_camera

F_GETPIPE_SZ = getattr(fcntl, "F_GETPIPE_SZ", 1032)  # Linux

CAMERAS = demo_run.CAMERAS


def _seconds(alarm: dict) -> float:
    if not alarm.get("end"):
        return float("inf")  # still active at the end
    start, end = (datetime.fromisoformat(alarm[key].replace("Z", "+00:00")) for key in ("start", "end"))
    return (end - start).total_seconds()


def _grey(i420, width: int, height: int):
    return to_analysis_size(i420[:height, :width], Thresholds().analysis_width)


def test_the_same_scene_a_loop_later_differs_by_its_clock():
    demo = DemoSource(pattern="room")
    live = LiveDemo("qinzhou-checkin-1", demo, "qinzhou-checkin-1 Check-in room")
    frames = demo.seconds * demo.fps
    now = datetime(2026, 12, 4, 9, 30, 0).astimezone()
    first = _grey(live.frame(0, now), live.width, live.height)
    same = _grey(live.frame(0, now), live.width, live.height)
    loop_later = _grey(live.frame(frames, now + timedelta(seconds=demo.seconds)), live.width, live.height)
    tolerance = Thresholds()
    assert changed_pixels(first, same, tolerance.pixel_tolerance) == 0
    assert (
        changed_pixels(first, loop_later, tolerance.pixel_tolerance)
        >= 10 * tolerance.frozen_max_changed_pixels
    )


def test_a_demo_camera_streams_live_h264_and_a_clip_stays_available(tmp_path):
    camera = Camera(id="demo-1", name="demo", demo={"pattern": "counter", "width": 320, "height": 180})
    source = source_for_camera(camera, "demo-1", tmp_path)
    assert source.url.startswith("pipe:") and source.is_network
    container = av.open(source.url, options=source.options, timeout=(10, 10))
    try:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.codec_context.width, stream.codec_context.height) == (
            "h264",
            320,
            180,
        )
        packets = []
        for packet in container.demux(stream):
            if packet.size:
                packets.append(packet)
            if len(packets) >= 31:
                break
        assert packets[0].is_keyframe and packets[30].is_keyframe  # an IDR frame every gop (30) frames
        assert not any(p.is_keyframe for p in packets[1:30])
    finally:
        container.close()
        source.release()
    looped = Camera(
        id="demo-2", name="demo", demo={"pattern": "counter", "clock": False, "width": 320, "height": 180}
    )
    assert source_for_camera(looped, "demo-2", tmp_path).url.endswith(".mp4")


def _encoder(camera_id: str) -> threading.Thread:
    return next(thread for thread in threading.enumerate() if thread.name == f"demo-{camera_id}")


def test_a_released_stream_ends_its_encoder_at_once_and_closes_the_read_end():
    source = LiveDemo("release-1", DemoSource(pattern="room", width=320, height=180), "room").open()
    read_fd = int(source.url.removeprefix("pipe:"))
    encoder = _encoder("release-1")
    container = av.open(source.url, options=source.options, timeout=(10, 10))
    try:
        assert next(container.demux(container.streams.video[0])).size > 0
    finally:
        container.close()
    assert os.fstat(read_fd)  # FFmpeg's pipe: protocol left it open
    source.release()
    encoder.join(demo_live.WRITE_STALL_S / 2)  # its next write fails: no waiting out the stall
    assert not encoder.is_alive()
    with pytest.raises(OSError):
        os.fstat(read_fd)
    source.release()  # a second release is harmless


def test_an_encoder_that_gives_up_leaves_the_read_end_to_its_reader(monkeypatch):
    """A reader starved of CPU longer than the encoder waits: the encoder ends, but the descriptor
    the reader reads stays its own (closed, its number would soon be another file's) until release."""
    monkeypatch.setattr(demo_live, "WRITE_STALL_S", 0.3)
    source = LiveDemo("stalled-1", DemoSource(pattern="room", width=320, height=180), "room").open()
    read_fd = int(source.url.removeprefix("pipe:"))
    encoder = _encoder("stalled-1")
    encoder.join(30)  # nobody reads: the pipe fills and the encoder gives up
    assert not encoder.is_alive()
    assert os.fstat(read_fd)
    received = 0
    for _ in range(10_000):  # what was written, then the end of the stream
        chunk = os.read(read_fd, 65536)
        if not chunk:
            break
        received += len(chunk)
    assert received > 0
    source.release()
    with pytest.raises(OSError):
        os.fstat(read_fd)


def test_a_write_larger_than_the_pipe_has_room_for_gives_up_when_nobody_reads(monkeypatch):
    """select() calls a pipe writable with PIPE_BUF bytes free; a blocking write of more than is free
    then waited for a reader for ever (seen on CI: the encoder above never ended)."""
    monkeypatch.setattr(demo_live, "WRITE_STALL_S", 0.3)
    read_fd, write_fd = os.pipe()
    try:
        capacity = fcntl.fcntl(write_fd, F_GETPIPE_SZ)
        os.write(write_fd, bytes(capacity - 8192))  # 8 KiB left: writable for select()
        writer = demo_live._PipeWriter(write_fd)
        outcome: list[BaseException | int] = []

        def write() -> None:
            try:
                outcome.append(writer.write(bytes(20_000)))
            except BaseException as exc:  # noqa: BLE001 - the test reports what the thread met
                outcome.append(exc)

        thread = threading.Thread(target=write, daemon=True)
        thread.start()
        thread.join(10)
        assert not thread.is_alive(), "the write waited for a reader instead of giving up"
        assert len(outcome) == 1 and isinstance(outcome[0], BrokenPipeError)
        assert os.get_blocking(read_fd)  # the reader's end is left as it was
    finally:
        os.close(read_fd)
        os.close(write_fd)


@pytest.mark.slow
def test_the_shipped_demo_site_runs_five_minutes_without_an_alarm():
    """Three cameras of the shipped site (one per pattern) through the real ingest: keyframe analytics at
    the default thumbnail interval (10 s), recording on, for 5 minutes. ``frozen`` needs 4 identical
    keyframes over 15 s and ``moved`` a changed view over 3 keyframes, so the looped clips of before
    raised ``frozen`` within the first minute; the rest of the 5 minutes is for anything slower.
    The run starts with the session (tests/conftest.py) and goes on beside the other tests."""
    returncode, stdout, stderr = demo_run.report()
    assert returncode == 0, stderr[-3000:]
    report = json.loads(stdout)
    assert sorted(report) == sorted(CAMERAS)
    for camera_id, row in report.items():
        tamper = [alarm for alarm in row["alarms"] if alarm["kind"] in KINDS]
        assert tamper == [], f"{camera_id}: {tamper}"
        # video_loss is not the analytics' doing: on this shared 2-core machine at load 30+ a process
        # can get no CPU for seconds, and its demo encoders go silent as a starved camera link would.
        # Seen once (1.7 s); anything longer is a real fault.
        losses = [alarm for alarm in row["alarms"] if alarm["kind"] not in KINDS]
        assert all(alarm["kind"] == "video_loss" and _seconds(alarm) < 10 for alarm in losses), losses
        # gaps are not alarms: on a shared machine at load 30+ the encoder thread can be starved for seconds
        assert (row["state"], row["errors"], row["reconnects"]) == ("online", 0, 0), row
        assert row["keyframes"] >= 120 and row["fps"] > 12  # 5 min at an IDR frame every 2 s
        assert row["recording"]["errors"] == 0
