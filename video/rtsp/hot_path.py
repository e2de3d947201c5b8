"""The RTSP loop's per-packet work, compiled where the package was built with its C extension
(``_speedups.c``), in Python otherwise.

At 2 Mbit/s a camera sends about 200 RTP packets a second over its RTSP connection. Python spends
a few microseconds on each (walking the interleaved frames, the RTCP reception statistics,
depacketising), which made the RTSP loop the largest part of an ingest node's CPU. Compiled:

- ``media_frames`` and ``reception``: exact counterparts of the Python functions here;
- ``h264_drain``: ``Depacketizer.push`` (video/rtsp/depacketize.py) for every H.264 packet of a
  drain; the Python depacketiser is its reference (``fu_a_run`` below is part of that Python path).

Same arguments, same results, the same floating-point operations in the same order: the tests
run both on the same bytes. ``WATCHWALL_PURE_PYTHON=1`` (or ``rtsp``) in the environment picks
Python (config.compiled_paths).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from watchwall.config.compiled_paths import describe as describe_path
from watchwall.config.compiled_paths import pure_python_asked

try:
    from watchwall.video.rtsp import _speedups
except ImportError:  # built without a C compiler: the Python functions below run
    _speedups = None

_WRAP = 1 << 32
_HALF = 1 << 31
_FRAME = struct.Struct("!BBH")  # an interleaved frame's header (RFC 2326 10.12): '$', channel, length
_SEQ_TS_SSRC = struct.Struct("!HII")  # an RTP header's sequence number, timestamp and SSRC
# an RTP header without CSRC, then an FU-A indicator and header: first byte, second, sequence
# number, timestamp, (SSRC skipped), indicator, FU header
_FU_A_HEADER = struct.Struct("!BBHI4xBB")

Span = tuple[int, int]
# ssrc, max_seq, cycles, received, jitter, last_arrival, last_ts, restarted_at
ReceptionState = tuple[int | None, int, int, int, float, float | None, int, int | None]


def media_frames(buf: bytes | bytearray, position: int, channel: int) -> tuple[list[Span], int]:
    """The complete interleaved frames of ``channel`` from ``position`` on, as (start, end) of their
    payloads, up to the first thing that is not one (another channel, an RTSP message, garbage, a
    frame not all here yet); and the position of that thing."""
    if not 0 <= position <= len(buf):
        raise ValueError(f"position {position} is outside the buffer of {len(buf)} bytes")
    size = len(buf)
    spans: list[Span] = []
    frame = _FRAME.unpack_from
    while size - position >= 4:
        dollar, frame_channel, length = frame(buf, position)
        if dollar != 0x24 or frame_channel != channel or position + 4 + length > size:
            break
        spans.append((position + 4, position + 4 + length))
        position += 4 + length
    return spans, position


def reception(
    buf: bytes | bytearray,
    spans: Sequence[Span],
    arrival: float,
    clock_rate: int,
    ssrc: int | None,
    max_seq: int,
    cycles: int,
    received: int,
    jitter: float,
    last_arrival: float | None,
    last_ts: int,
) -> ReceptionState:
    """RFC 3550 reception statistics (A.1 sequence numbers, A.8 jitter) over the RTP packets at
    ``buf[start:end]`` of ``spans``, all arrived at ``arrival``; one shorter than an RTP header is
    not one. ``restarted_at``: the sequence number the source last started over at (its first
    packet, or a new SSRC), None if it did not in these packets."""
    restarted_at = None
    unpack = _SEQ_TS_SSRC.unpack_from
    for start, end in spans:
        if end - start < 12:
            continue
        sequence, timestamp, source = unpack(buf, start + 2)
        if source != ssrc:  # first packet, or the source changed (a new encoder): start over
            ssrc, restarted_at, max_seq, cycles, received = source, sequence, sequence, 0, 0
            jitter, last_arrival = 0.0, None
        else:
            ahead = (sequence - max_seq) & 0xFFFF
            if 0 < ahead < 0x8000:
                if sequence < max_seq:
                    cycles += 1 << 16
                max_seq = sequence
        received += 1
        if timestamp == last_ts and arrival == last_arrival:
            # Another packet of the same frame in the same drain (most packets over TCP): the
            # difference below is 0, and this is the same arithmetic on it.
            jitter -= jitter / 16
            continue
        if last_arrival is not None:  # A.8, from the differences of arrival and RTP times
            step = (timestamp - last_ts) % _WRAP
            if step >= _HALF:
                step -= _WRAP
            d = abs((arrival - last_arrival) * clock_rate - step)
            jitter += (d - jitter) / 16
        last_arrival, last_ts = arrival, timestamp
    return ssrc, max_seq, cycles, received, jitter, last_arrival, last_ts, restarted_at


def fu_a_run(
    buf: bytes | bytearray,
    spans: Sequence[Span],
    index: int,
    payload_type: int,
    sequence: int,
    raw_ts: int,
    parts: list,
) -> tuple[int, int, bool, bool]:
    """Take the next FU-A pieces (RFC 6184 5.8) of an H.264 NAL unit being built, from
    ``spans[index]`` on: each a plain RTP header (no CSRC, extension or padding) of our payload
    type, the next sequence number, the unit's timestamp, and not a fragment's start. Their
    payloads go to ``parts``. Stops at the first packet that is not one (which the caller then
    depacketises in full), after a fragment's end, or after the marker bit (the access unit is
    complete). Returns (index of the next packet, last sequence number, still in the fragment,
    marker seen)."""
    if index < 0:
        raise ValueError("index must not be negative")
    in_fragment = True
    unpack = _FU_A_HEADER.unpack_from
    count = len(spans)
    while index < count and in_fragment:
        start, end = spans[index]
        if end - start <= 14:
            break
        first, second, number, timestamp, indicator, fu = unpack(buf, start)
        if not (
            first == 0x80
            and indicator & 0x1F == 28
            and not fu & 0x80
            and number == (sequence + 1) & 0xFFFF
            and second & 0x7F == payload_type
            and timestamp == raw_ts
        ):
            break
        parts.append(buf[start + 14 : end])
        sequence = number
        index += 1
        if fu & 0x40:
            in_fragment = False
        if second & 0x80:
            return index, sequence, in_fragment, True
    return index, sequence, in_fragment, False


PYTHON = {"media_frames": media_frames, "reception": reception}


def _compiled() -> dict | None:
    if _speedups is None or pure_python_asked("rtsp"):
        return None
    return {name: getattr(_speedups, name) for name in (*PYTHON, "h264_drain")}


COMPILED = _compiled()
h264_drain = None  # Python: Depacketizer.push_many packet by packet
if COMPILED is not None:
    media_frames, reception, h264_drain = (  # noqa: F811 - the compiled counterparts replace them
        COMPILED["media_frames"],
        COMPILED["reception"],
        COMPILED["h264_drain"],
    )


def describe() -> str:
    """For the node's log: which of the two runs here."""
    return describe_path("rtsp", "watchwall.video.rtsp._speedups" if COMPILED is not None else None)
