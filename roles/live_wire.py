"""How an ingest node sends one camera stream's live fMP4 to a web node: framed messages over HTTP.

The web node relays them to its browsers unchanged (``dashboard/live_routes.py`` says what each
means to a browser). A message is one kind byte, the payload's length (4 bytes, big-endian) and
the payload. An idle stream carries a keep-alive every second, so either end notices a dead peer.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

INIT, FRAGMENT, KEYFRAME, JUMP, RESET, UNSUPPORTED, KEEPALIVE = b"i", b"f", b"k", b"j", b"r", b"u", b"."
HEADER = struct.Struct(">cI")
MAX_PAYLOAD = 64 * 1024 * 1024


def encode(kind: bytes, payload: bytes = b"") -> bytes:
    return HEADER.pack(kind, len(payload)) + payload


def encode_viewer_message(kind: str, payload: object, keyframe: bool = False) -> bytes:
    """A channel viewer's message (``Viewer.get``) on the wire."""
    if kind == "init":
        codec, init = payload
        return encode(INIT, codec.encode() + b"\n" + init)
    if kind == "fragment":
        return encode(KEYFRAME if keyframe else FRAGMENT, payload)
    if kind == "jump":
        return encode(JUMP)
    if kind == "reset":
        return encode(RESET)
    raise ValueError(f"no wire form for a {kind!r} message")


def is_keyframe_fragment(data: bytes) -> bool:
    """Whether an fMP4 fragment (moof+mdat of one sample) holds a sync sample.

    The live channel's viewers get fragments without their flag; the node reads it back from
    the fragment's first sample flags (ISO/IEC 14496-12: sample_is_non_sync_sample bit)."""
    flags = _first_sample_flags(data)
    return flags is not None and not flags & 0x00010000


def _first_sample_flags(data: bytes) -> int | None:
    # moof > traf > (tfhd default flags) / trun (first_sample_flags or per-sample flags)
    position, end = 0, len(data)
    default_flags = None
    while position + 8 <= end:
        size, box = struct.unpack_from(">I4s", data, position)
        if size < 8:
            return None
        if box in (b"moof", b"traf"):
            position += 8
            continue
        body = position + 8
        if box == b"tfhd":
            tf_flags = struct.unpack_from(">I", data, body)[0] & 0xFFFFFF
            offset = body + 8  # version/flags, track id
            for bit, width in ((0x1, 8), (0x2, 4), (0x8, 4), (0x10, 4)):
                if tf_flags & bit:
                    offset += width
            if tf_flags & 0x20:
                default_flags = struct.unpack_from(">I", data, offset)[0]
        elif box == b"trun":
            tr_flags = struct.unpack_from(">I", data, body)[0] & 0xFFFFFF
            offset = body + 8  # version/flags, sample count
            if tr_flags & 0x1:
                offset += 4
            if tr_flags & 0x4:
                return struct.unpack_from(">I", data, offset)[0]
            if tr_flags & 0x400:
                offset += 4 * bool(tr_flags & 0x100) + 4 * bool(tr_flags & 0x200)
                return struct.unpack_from(">I", data, offset)[0]
            return default_flags
        position += size
    return None


def read_message(stream: BinaryIO) -> tuple[bytes, bytes] | None:
    """The next (kind, payload), or None at the end of the stream."""
    header = _read_exactly(stream, HEADER.size)
    if header is None:
        return None
    kind, length = HEADER.unpack(header)
    if length > MAX_PAYLOAD:
        raise ValueError(f"a live message of {length} bytes")
    payload = _read_exactly(stream, length) if length else b""
    if payload is None:
        return None
    return kind, payload


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    parts, remaining = [], size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            return None
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)
