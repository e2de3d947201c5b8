"""The compiled per-packet functions (video/rtsp/_speedups.c) against their Python references
(video.rtsp.hot_path, and the Python depacketiser for ``h264_drain``): the same results on a real
encoded stream cut into every kind of drain, on damaged and random bytes; spans outside the buffer
refused."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from tests.video.rtsp.test_batched_receive import framed, stream_packets
from watchwall.video.rtsp import hot_path
from watchwall.video.rtsp.depacketize import AccessUnit, Depacketizer

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


def mutated(packets: list[bytes], rng: random.Random) -> list[bytes]:
    """The stream with about one packet in six damaged as a camera or a network might: cut short,
    a header with CSRCs, an extension or padding (true or lying), another payload type, a wrong
    version, a timestamp or sequence number changed, a packet lost, repeated or out of order,
    random bytes."""
    result = []
    for packet in packets:
        roll = rng.random()
        data = bytearray(packet)
        if roll < 0.83 or len(data) < 14:
            result.append(bytes(data))
            continue
        kind = rng.randrange(11)
        if kind == 0:
            data = data[: rng.randrange(0, len(data))]
        elif kind == 1:
            data[0] = (data[0] & 0xF0) | rng.randrange(16)
        elif kind == 2:
            data[0] |= 0x10
            data[12:12] = bytes([0xBE, 0xDE, 0, rng.randrange(4)]) + rng.randbytes(4 * rng.randrange(4))
        elif kind == 3:
            data[0] |= 0x20
            data[-1] = rng.randrange(256)
        elif kind == 4:
            data[1] = (data[1] & 0x80) | rng.choice((0, 97, 127))
        elif kind == 5:
            data[0] = rng.randrange(256)
        elif kind == 6:
            data[4:8] = rng.randbytes(4)
        elif kind == 7:
            data[2:4] = rng.randbytes(2)
        elif kind == 8:
            continue  # lost
        elif kind == 9:
            result.append(bytes(data))  # repeated
        else:
            data[12:] = rng.randbytes(len(data) - 12)
        result.append(bytes(data))
    if len(result) > 10:
        i = rng.randrange(len(result) - 1)
        result[i], result[i + 1] = result[i + 1], result[i]
    return result


def state_of(depacketizer: Depacketizer) -> tuple:
    return (
        depacketizer._units,
        depacketizer._keyframe,
        depacketizer._corrupt,
        depacketizer._in_fragment,
        depacketizer._sequence,
        depacketizer._raw_ts,
        depacketizer._raw_ts_bytes,
        depacketizer._ts,
        depacketizer.lost_packets,
        depacketizer.bad_packets,
        b"".join(depacketizer._parts),
    )


def test_h264_drains_give_what_the_python_depacketiser_gives(monkeypatch):
    """The compiled drain against the Python one (FU-A runs, then ``push``) and against ``push``
    packet by packet, on damaged streams cut into drains of every size: the same access units
    and the same state after every drain, the unit in progress included."""
    assert compiled().h264_drain is hot_path.h264_drain
    rng = random.Random(21)
    packets = stream_packets()
    units_seen = 0
    for trial in range(60):
        stream = mutated(packets, rng) if trial else packets
        buffer, spans = framed(stream)
        fast, python, one = (Depacketizer("h264", 96) for _ in range(3))
        fast_out, python_out, one_out = [], [], []
        index = 0
        while index < len(spans):
            drain = spans[index : index + rng.choice((1, 2, 5, 13, 40))]
            index += len(drain)
            fast.push_many(buffer, drain, fast_out)
            with monkeypatch.context() as patch:
                patch.setattr(hot_path, "h264_drain", None)
                python.push_many(buffer, drain, python_out)
            for start, end in drain:
                one.push(buffer, start, end, one_out)
            assert state_of(fast) == state_of(python) == state_of(one)
            assert fast_out == python_out == one_out
        for depacketizer, out in ((fast, fast_out), (python, python_out), (one, one_out)):
            depacketizer.flush(out)
        assert fast_out == python_out == one_out
        assert all(type(unit.data) is bytes for unit in fast_out)
        units_seen += len(fast_out)
    assert units_seen > 60 * 15


def test_h264_drains_on_random_packets(monkeypatch):
    rng = random.Random(4)
    for _ in range(400):
        packets = []
        for _ in range(rng.randrange(1, 12)):
            header = bytearray(rng.randbytes(12))
            header[0] = rng.choice((0x80, 0x80, 0x81, 0x90, 0xA0, rng.randrange(256)))
            header[1] = rng.choice((96, 96 | 0x80, rng.randrange(256)))
            payload = bytes(
                [rng.choice((0x65, 0x41, 0x67, 0x68, 24, 28, 0x7C, 0, 30, 0x9C, rng.randrange(256)))]
            )
            payload += bytes([rng.choice((0x85, 0x05, 0x45, 0xC5, rng.randrange(256)))]) + rng.randbytes(
                rng.randrange(0, 20)
            )
            if rng.random() < 0.2:  # STAP-A: units of random sizes, some empty, the last maybe cut
                payload = bytes([24])
                for _ in range(rng.randrange(1, 4)):
                    unit = rng.randbytes(rng.choice((0, 1, 3)))
                    payload += len(unit).to_bytes(2, "big") + unit
            packets.append(bytes(header) + payload[: rng.randrange(0, len(payload) + 1)])
        buffer, spans = framed(packets)
        fast, python = Depacketizer("h264", 96), Depacketizer("h264", 96)
        fast_out, python_out = [], []
        fast.push_many(buffer, spans, fast_out)
        with monkeypatch.context() as patch:
            patch.setattr(hot_path, "h264_drain", None)
            python.push_many(buffer, spans, python_out)
        assert state_of(fast) == state_of(python)
        assert fast_out == python_out


def test_a_span_outside_the_buffer_is_refused():
    buffer = bytearray(40)
    state = (0, False, False, False, None, None, 0, 0, 0)
    for bad in ((0, 41), (-1, 10), (20, 10)):
        with pytest.raises(ValueError):
            compiled().reception(buffer, [bad], 1.0, 90000, None, 0, 0, 0, 0.0, None, 0)
        with pytest.raises(ValueError):
            compiled().h264_drain(buffer, [bad], 96, [], state, [], AccessUnit)
    with pytest.raises(TypeError):
        compiled().reception(buffer, [(0,)], 1.0, 90000, None, 0, 0, 0, 0.0, None, 0)
    with pytest.raises(TypeError):
        compiled().h264_drain(buffer, [(0, 1, 2)], 96, [], state, [], AccessUnit)
    with pytest.raises(ValueError):
        compiled().media_frames(buffer, 41, 0)
