"""H.264 and H.265 NAL units: the one place for their framing and type facts.

Annex-B byte streams (start codes, RTSP and raw files), length-prefixed samples (MP4/AVCC),
NAL unit types (ITU-T H.264 table 7-1, H.265 table 7-1), and which units are parameter sets.
Every other module of the media plane takes these from here.
"""

from __future__ import annotations

import struct

START_CODE = b"\x00\x00\x00\x01"  # what WatchWall writes
SHORT_START_CODE = b"\x00\x00\x01"  # what a reader must also accept

# H.264 (nal_unit_type: the low 5 bits of the first byte)
H264_IDR, H264_SEI, H264_SPS, H264_PPS, H264_AUD = 5, 6, 7, 8, 9
H264_STAP_A, H264_FU_A = 24, 28  # RTP payload structures (RFC 6184)
# H.265 (nal_unit_type: bits 1-6 of the first of two header bytes)
HEVC_VPS, HEVC_SPS, HEVC_PPS, HEVC_AUD = 32, 33, 34, 35
HEVC_IRAP = range(16, 22)  # BLA, IDR, CRA: pictures a decoder can start at
HEVC_AP, HEVC_FU = 48, 49  # RTP payload structures (RFC 7798)

PARAMETER_SETS = {"h264": frozenset({H264_SPS, H264_PPS}), "hevc": frozenset({HEVC_VPS, HEVC_SPS, HEVC_PPS})}
# what an MP4 sample entry (avcC / hvcC) carries, so samples leave it out
OUT_OF_BAND = {
    "h264": PARAMETER_SETS["h264"] | {H264_AUD},
    "hevc": PARAMETER_SETS["hevc"] | {HEVC_AUD},
}


def nal_type(unit: bytes, codec: str) -> int:
    return unit[0] & 0x1F if codec == "h264" else (unit[0] >> 1) & 0x3F


def is_annexb(data: bytes) -> bool:
    return data.startswith(SHORT_START_CODE) or data.startswith(START_CODE)


def split_annexb(data: bytes) -> list[bytes]:
    """NAL units of an Annex-B byte stream (start codes 00 00 01 / 00 00 00 01).

    Emulation prevention keeps 00 00 01 out of NAL payloads, so a search for it (in C) finds
    the units; a byte-by-byte loop cost milliseconds a frame.
    """
    units = []
    start = data.find(SHORT_START_CODE)
    while start >= 0:
        start += 3
        following = data.find(SHORT_START_CODE, start)
        # the zero before a 4-byte start code belongs to that start code, not to this unit
        unit = data[start:] if following < 0 else data[start:following].rstrip(b"\x00")
        if unit:
            units.append(unit)
        start = following
    return units


def split_length_prefixed(data: bytes) -> list[bytes] | None:
    """NAL units of an AVCC sample (4-byte big-endian lengths), or None if it is not one."""
    units, offset = [], 0
    while offset + 4 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        if size == 0 or offset + 4 + size > len(data):
            return None
        units.append(data[offset + 4 : offset + 4 + size])
        offset += 4 + size
    return units if offset == len(data) else None


def nal_units(sample: bytes) -> list[bytes]:
    """The NAL units of a packet in either framing (RTSP gives Annex-B, MP4 files AVCC)."""
    as_avcc = split_length_prefixed(sample)
    if as_avcc is not None:
        return as_avcc
    return split_annexb(sample)


def annexb(units) -> bytes:
    """NAL units as an Annex-B byte stream."""
    return b"".join(START_CODE + unit for unit in units if unit)


def length_prefixed(units) -> bytes:
    """NAL units as an MP4 sample: each behind its 4-byte big-endian length."""
    return b"".join(struct.pack(">I", len(unit)) + unit for unit in units)


def parameter_set_units(data: bytes, codec: str) -> list[bytes]:
    """The parameter sets among a packet's NAL units (either framing)."""
    wanted = PARAMETER_SETS[codec]
    return [unit for unit in nal_units(data) if unit and nal_type(unit, codec) in wanted]
