"""The live-edge lag benchmark's measuring tool: a painted capture time reads back from decoded video."""

from __future__ import annotations

import time
from fractions import Fraction

import av
import pytest

from tests.support import time_code
from tests.support.rtsp_process import RtspServerProcess

WIDTH, HEIGHT, FPS = 640, 360, 25


def read_time(frame: av.VideoFrame) -> int | None:
    plane = frame.planes[0]
    return time_code.decode_levels(time_code.block_levels(bytes(plane), plane.line_size))


def test_painted_times_read_back_exactly_after_x264_and_pyav(tmp_path):
    painted = [1_764_920_000_000 + 40 * index + (index * 7919) % 40 for index in range(50)]
    path = tmp_path / "painted.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.bit_rate = 1_500_000
        stream.options = {"preset": "ultrafast", "tune": "zerolatency", "x264-params": "keyint=25"}
        for index, epoch_ms in enumerate(painted):
            frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
            luma = bytearray([128]) * (frame.planes[0].line_size * HEIGHT)
            time_code.paint(luma, frame.planes[0].line_size, epoch_ms)
            frame.planes[0].update(bytes(luma))
            for plane in frame.planes[1:]:
                plane.update(bytes([128]) * plane.buffer_size)
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with av.open(str(path)) as container:
        read = [read_time(frame) for frame in container.decode(video=0)]
    assert read == painted


def test_a_smeared_code_is_rejected_not_misread():
    levels = [time_code.WHITE if bit else time_code.BLACK for bit in time_code.bits_for(1_764_920_000_123)]
    assert time_code.decode_levels(levels) == 1_764_920_000_123
    flipped = list(levels)
    flipped[20] = time_code.BLACK if levels[20] == time_code.WHITE else time_code.WHITE
    assert time_code.decode_levels(flipped) is None  # one time bit wrong: the checksum refuses it
    assert time_code.decode_levels([time_code.BLACK] * 64) is None  # no marker: no code here


@pytest.mark.rtsp
def test_the_timecode_camera_paints_the_time_each_frame_is_made():
    camera = RtspServerProcess(
        {"/clock": "timecode"}, extra_args=("--width", str(WIDTH), "--height", str(HEIGHT), "--fps", str(FPS))
    ).start()
    try:
        opened_at = time.time() * 1000
        times = []
        with av.open(camera.url("/clock"), options={"rtsp_transport": "tcp"}, timeout=10) as container:
            for frame in container.decode(video=0):
                times.append(read_time(frame))
                if len(times) == 50:
                    break
        decoded_at = time.time() * 1000
    finally:
        camera.kill()
    assert None not in times
    assert times == sorted(times) and len(set(times)) == len(times)  # one time per picture
    assert opened_at - 5000 < times[0] and times[-1] <= decoded_at  # made this run, before it was read
