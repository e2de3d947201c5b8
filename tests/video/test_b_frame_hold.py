"""The native reader decides about B-frames before publishing (issue 13 A.5): a Main-profile
stream's first GOP is held; out-of-order pictures switch the camera with nothing sent."""

from __future__ import annotations

import io
import time
from fractions import Fraction

import av
import numpy as np
import pytest

from watchwall.video.ingest.fanout import Fanout
from watchwall.video.ingest.health import CameraHealth
from watchwall.video.ingest.reader import BFramesSeen, CameraReader, _NativeStream
from watchwall.video.rtsp.depacketize import AccessUnit
from watchwall.video.rtsp.sdp import START_CODE

GOP = 10


def units_of(bframes: int, frames: int = 3 * GOP) -> tuple[bytes, list[AccessUnit]]:
    """Annex-B access units of a Main-profile clip in decode order, dated by presentation time as RTP
    dates them (90 kHz), and its parameter sets."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mpegts") as container:
        stream = container.add_stream("libx264", rate=15)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        stream.options = {
            "preset": "ultrafast",
            "profile": "main",
            "x264-params": f"keyint={GOP}:min-keyint={GOP}:scenecut=0:bframes={bframes}:b-adapt=0:cabac=1",
        }
        for index in range(frames):
            picture = np.full((96, 160, 3), (index * 7) % 256, np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, 15)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with av.open(io.BytesIO(buffer.getvalue()), format="mpegts") as source:
        packets = [p for p in source.demux(video=0) if p.size]
    units = [
        AccessUnit(bytes(p), p.pts - packets[0].pts, p.is_keyframe, False)  # mpegts: 90 kHz already
        for p in packets
    ]
    parameters = b"".join(
        START_CODE + nal for nal in bytes(packets[0]).split(START_CODE) if nal and nal[0] & 0x1F in (7, 8)
    )
    return parameters, units


def native(reader: CameraReader, parameters: bytes) -> _NativeStream:
    return _NativeStream(reader, "h264", 90000, parameters, time.monotonic())


def reader_with(subscription_name: str = "test"):
    fanout = Fanout("cam")
    subscription = fanout.subscribe(subscription_name, maxsize=1000)
    return CameraReader("cam", lambda: None, fanout, CameraHealth("cam")), subscription


def drained(subscription) -> list:
    out = []
    while (packet := subscription.get(timeout=0)) is not None:
        out.append(packet)
    return out


def test_a_main_profile_gop_is_held_then_published_whole_and_not_held_again():
    parameters, units = units_of(bframes=0)
    reader, subscription = reader_with()
    stream = native(reader, parameters)
    assert stream.info.profile == "Main"
    stream.deliver(units[: GOP - 1], time.monotonic())
    assert drained(subscription) == []  # the first GOP is held: B-frames might still come
    stream.deliver(units[GOP - 1 : GOP + 1], time.monotonic())  # the next keyframe ends the hold
    published = drained(subscription)
    assert [p.pts for p in published] == [u.timestamp for u in units[: GOP + 1]]
    assert published[0].is_keyframe and [p.sequence for p in published] == list(range(GOP + 1))

    again = native(reader, parameters)  # a reconnect of the same camera: decided already
    again.deliver(units[:1], time.monotonic())
    assert len(drained(subscription)) == 1


def test_b_frames_in_the_first_gop_switch_the_camera_with_nothing_published():
    parameters, units = units_of(bframes=2)
    reader, subscription = reader_with()
    stream = native(reader, parameters)
    with pytest.raises(BFramesSeen):
        stream.deliver(units[:GOP], time.monotonic())
    assert drained(subscription) == [] and reader.health.packets == 0
