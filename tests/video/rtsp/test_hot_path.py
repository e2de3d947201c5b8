"""The compiled per-packet functions (video/rtsp/_speedups.c) against their Python references in
video.rtsp.hot_path: the same results on a real encoded stream cut into every kind of drain, on
damaged and random bytes, and the same refusals of spans outside the buffer."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from tests.video.rtsp.test_batched_receive import framed, stream_packets
from watchwall.video.rtsp import hot_path

try:
    from watchwall.video.rtsp import _speedups
except ImportError:  # the suite installs the package with its extension: this is a build fault
    _speedups = None

PYTHON = hot_path.PYTHON


def compiled():
    assert _speedups is not None, "the C extension was not built: pip install -e . with a C compiler"
    return _speedups


def interleaved(packets: list[bytes], rng: random.Random) -> bytearray:
    """An RTSP connection's bytes: the packets on channel 0, RTCP on 1, now and then another
    channel, an RTSP answer or garbage between frames."""
    wire = bytearray()
    for packet in packets:
        wire += b"$\x00" + len(packet).to_bytes(2, "big") + packet
        roll = rng.random()
        if roll < 0.05:
            wire += b"$\x01\x00\x08" + bytes(8)
        elif roll < 0.07:
            wire += b"RTSP/1.0 200 OK\r\nCSeq: 3\r\n\r\n"
        elif roll < 0.08:
            wire += b"\x00garbage"
    return wire


def test_the_extension_is_what_the_node_runs():
    """Built here, and chosen (unless WATCHWALL_PURE_PYTHON asks for Python)."""
    assert hot_path.media_frames is compiled().media_frames
    assert hot_path.COMPILED is not None and "compiled" in hot_path.describe()
    forced = subprocess.run(
        [sys.executable, "-c", "from watchwall.video.rtsp import hot_path; print(hot_path.describe())"],
        env={"WATCHWALL_PURE_PYTHON": "1", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert forced.stdout.startswith("Python (WATCHWALL_PURE_PYTHON")


def test_media_frames_walk_the_same_frames():
    rng = random.Random(7)
    wire = interleaved(stream_packets(), rng)
    for cut in [0, 1, 3, 4, 5, 100, 777, len(wire) - 1, len(wire)] + rng.sample(range(len(wire)), 40):
        piece = wire[:cut]
        for position in (0, min(cut, 4), cut):
            assert compiled().media_frames(piece, position, 0) == PYTHON["media_frames"](piece, position, 0)
    spans, end = compiled().media_frames(wire, 0, 0)
    assert spans and wire[end : end + 2] != b"$\x00"  # stopped at something else


def test_media_frames_on_random_bytes():
    rng = random.Random(11)
    for _ in range(3000):
        size = rng.randrange(0, 40)
        data = bytearray(rng.choice((0x24, 0x00, 0x01, 0x02, rng.randrange(256))) for _ in range(size))
        channel = rng.choice((0, 1, 2))
        position = rng.randrange(0, size + 1)
        assert compiled().media_frames(data, position, channel) == PYTHON["media_frames"](
            data, position, channel
        )
        assert compiled().media_frames(bytes(data), position, channel) == PYTHON["media_frames"](
            bytes(data), position, channel
        )


def reception_state(start: tuple, buffer, spans, arrival):
    return PYTHON["reception"](buffer, spans, arrival, 90000, *start), compiled().reception(
        buffer, spans, arrival, 90000, *start
    )


def test_reception_counts_the_same_to_the_last_bit():
    """Drains of every size over a stream that wraps its sequence numbers and timestamps, loses
    packets, holds a short packet and changes SSRC: every figure equal, the jitter bit for bit."""
    packets = stream_packets()
    buffer, spans = framed(packets)
    rng = random.Random(3)
    state_py = state_c = (None, 0, 0, 0, 0.0, None, 0)
    restarts = 0
    index, arrival = 0, 1000.0
    while index < len(spans):
        size = rng.choice((1, 2, 7, 30))
        drain = spans[index : index + size]
        index += size
        arrival += rng.choice((0.0, 0.04, 0.1, 0.1337))
        result_py = PYTHON["reception"](buffer, drain, arrival, 90000, *state_py)
        result_c = compiled().reception(buffer, drain, arrival, 90000, *state_c)
        assert result_c == result_py
        assert [type(value) for value in result_c] == [type(value) for value in result_py]
        restarts += result_py[-1] is not None
        state_py, state_c = result_py[:-1], result_c[:-1]
    assert restarts == 2 and state_py[4] > 0  # the first packet and the new encoder; some jitter


def test_reception_on_random_headers():
    rng = random.Random(5)
    for _ in range(500):
        buffer = bytearray(rng.randbytes(rng.randrange(0, 200)))
        spans = []
        for _ in range(rng.randrange(0, 12)):
            start = rng.randrange(0, len(buffer) + 1)
            spans.append((start, rng.randrange(start, len(buffer) + 1)))
        state = (
            rng.choice((None, rng.randrange(2**32))),
            rng.randrange(65536),
            rng.choice((0, 1 << 16)),
            rng.randrange(100),
            rng.random() * 100,
            rng.choice((None, 5.0)),
            rng.randrange(2**32),
        )
        arrival = rng.choice((5.0, 5.25))
        assert compiled().reception(buffer, spans, arrival, 90000, *state) == PYTHON["reception"](
            buffer, spans, arrival, 90000, *state
        )


def test_fu_a_runs_take_the_same_pieces():
    """From every packet of the stream as the run's start, with the depacketiser's state as it
    would be there: the same stop, state and pieces."""
    packets = stream_packets()
    buffer, spans = framed(packets)
    taken = 0
    for index in range(len(spans) - 1):
        start, _ = spans[index]
        previous = packets[index - 1] if index else packets[0]
        sequence = ((previous[2] << 8) | previous[3]) if len(previous) >= 4 else 0
        raw_ts = int.from_bytes(buffer[start + 4 : start + 8], "big")
        parts_py, parts_c = [], []
        result_py = PYTHON["fu_a_run"](buffer, spans, index, 96, sequence, raw_ts, parts_py)
        result_c = compiled().fu_a_run(buffer, spans, index, 96, sequence, raw_ts, parts_c)
        assert result_c == result_py
        assert parts_c == parts_py and all(type(part) is bytes for part in parts_c)
        taken += len(parts_c)
    assert taken > len(spans) // 2  # most packets are FU-A pieces


def test_fu_a_runs_on_random_packets():
    rng = random.Random(9)
    for _ in range(2000):
        header = bytearray(rng.randbytes(14))
        header[0] = rng.choice((0x80, 0x90, rng.randrange(256)))
        header[1] = rng.choice((96, 96 | 0x80, rng.randrange(256)))
        header[12] = rng.choice((28, 28 | 0x60, 24, rng.randrange(256)))
        header[13] = rng.choice((0x01, 0x41, 0x81, rng.randrange(256)))
        buffer = header + rng.randbytes(rng.randrange(0, 5))
        sequence = ((header[2] << 8) | header[3]) - 1 if rng.random() < 0.8 else rng.randrange(65536)
        raw_ts = int.from_bytes(header[4:8], "big") if rng.random() < 0.8 else rng.randrange(2**32)
        spans = [(0, len(buffer))] * rng.randrange(0, 3)
        parts_py, parts_c = [], []
        assert compiled().fu_a_run(buffer, spans, 0, 96, sequence & 0xFFFF, raw_ts, parts_c) == PYTHON[
            "fu_a_run"
        ](buffer, spans, 0, 96, sequence & 0xFFFF, raw_ts, parts_py)
        assert parts_c == parts_py


@pytest.mark.parametrize("name", ["reception", "fu_a_run"])
def test_a_span_outside_the_buffer_is_refused(name):
    buffer = bytearray(40)
    for bad in ((0, 41), (-1, 10), (20, 10)):
        arguments = (
            (buffer, [bad], 1.0, 90000, None, 0, 0, 0, 0.0, None, 0)
            if name == "reception"
            else (buffer, [bad], 0, 96, 0, 0, [])
        )
        with pytest.raises((ValueError, IndexError)):
            getattr(compiled(), name)(*arguments)
    with pytest.raises(TypeError):
        getattr(compiled(), name)(*((buffer, [(0,)]) + arguments[2:]))
    with pytest.raises(ValueError):
        compiled().media_frames(buffer, 41, 0)
