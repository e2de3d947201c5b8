"""A minimal fragmented-MP4 writer for H.264 and H.265, built box by box (ISO/IEC 14496-12 and -15).

H.264 gets ``avc1`` sample entries with an avcC record; H.265 ``hvc1`` ones with an hvcC record
(video.codec.hvcc) holding the VPS/SPS/PPS, which are then left out of the samples.

Why not FFmpeg's mp4 muxer through PyAV: an output stream made from parameters
(not from a demuxed template) opens the libx264 encoder, which replaces the
camera's parameter sets and holds fragments back. Live view needs neither; the
boxes below are all that Media Source Extensions reads.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from fractions import Fraction

from watchwall.video.codec.nal import (
    H264_PPS,
    H264_SPS,
    OUT_OF_BAND,
    length_prefixed,
    nal_type,
    nal_units,
    split_annexb,
)

MATRIX = struct.pack(">9I", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)
SYNC_SAMPLE_FLAGS = 0x02000000  # depends on no other sample
NON_SYNC_SAMPLE_FLAGS = 0x01010000  # depends on others, not a sync sample


def box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *payload)


@dataclass(frozen=True)
class ParameterSets:
    sps: bytes
    pps: bytes

    def avcc(self) -> bytes:
        """The AVCDecoderConfigurationRecord."""
        return (
            bytes([1, self.sps[1], self.sps[2], self.sps[3], 0xFF, 0xE1])
            + struct.pack(">H", len(self.sps))
            + self.sps
            + bytes([1])
            + struct.pack(">H", len(self.pps))
            + self.pps
        )

    @property
    def codec(self) -> str:
        return f"avc1.{self.sps[1]:02X}{self.sps[2]:02X}{self.sps[3]:02X}"

    sample_entry = b"avc1"

    def config_box(self) -> bytes:
        return box(b"avcC", self.avcc())


def parameter_sets_from(extradata: bytes | None, first_keyframe: bytes | None = None) -> ParameterSets | None:
    """SPS and PPS from a keyframe's in-band NAL units, else from avcC or Annex-B extradata.

    In-band sets come first: they are what the slices were encoded with, and some cameras
    announce different ones in their SDP than they send.
    """
    units: list[bytes] = []
    if first_keyframe:
        units += nal_units(first_keyframe)
    if extradata and extradata[0] == 1 and len(extradata) >= 7:
        offset, count = 6, extradata[5] & 0x1F
        for _ in range(count):
            size = int.from_bytes(extradata[offset : offset + 2], "big")
            units.append(extradata[offset + 2 : offset + 2 + size])
            offset += 2 + size
        count, offset = extradata[offset], offset + 1
        for _ in range(count):
            size = int.from_bytes(extradata[offset : offset + 2], "big")
            units.append(extradata[offset + 2 : offset + 2 + size])
            offset += 2 + size
    elif extradata:
        units += split_annexb(extradata)
    sps = next(
        (unit for unit in units if unit and nal_type(unit, "h264") == H264_SPS and len(unit) >= 4), None
    )
    pps = next((unit for unit in units if unit and nal_type(unit, "h264") == H264_PPS), None)
    if sps is None or pps is None:
        return None
    return ParameterSets(sps, pps)


def to_sample(packet: bytes, codec: str = "h264") -> bytes:
    """A packet as an MP4 sample: length-prefixed NAL units, parameter sets and AUDs left out
    (they are in the sample entry's avcC / hvcC)."""
    left_out = OUT_OF_BAND[codec]
    return length_prefixed(
        unit for unit in nal_units(packet) if unit and nal_type(unit, codec) not in left_out
    )


def timescale_of(time_base: Fraction) -> int:
    if time_base.numerator == 1:
        return time_base.denominator
    return 90000


def init_segment(width: int, height: int, timescale: int, parameters) -> bytes:
    """The init segment; ``parameters`` is a :class:`ParameterSets` (H.264) or an
    ``HevcParameterSets`` (video.codec.hvcc): its ``sample_entry`` and ``config_box()`` are used."""
    entry = parameters.sample_entry
    ftyp = box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isom", b"iso6", b"iso2", entry, b"mp41")
    mvhd = full_box(
        b"mvhd", 0, 0,
        struct.pack(">IIII", 0, 0, 1000, 0), struct.pack(">IH", 0x00010000, 0x0100), bytes(10), MATRIX,
        bytes(24), struct.pack(">I", 2),
    )  # fmt: skip
    tkhd = full_box(
        b"tkhd", 0, 3,
        struct.pack(">IIIII", 0, 0, 1, 0, 0), bytes(8), struct.pack(">hhhH", 0, 0, 0, 0), MATRIX,
        struct.pack(">II", width << 16, height << 16),
    )  # fmt: skip
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, timescale, 0, 0x55C4, 0))
    hdlr = full_box(b"hdlr", 0, 0, struct.pack(">I4s", 0, b"vide"), bytes(12), b"WatchWall video\x00")
    sample_entry = box(
        entry,
        bytes(6), struct.pack(">H", 1), bytes(16), struct.pack(">HH", width, height),
        struct.pack(">II", 0x00480000, 0x00480000), bytes(4), struct.pack(">H", 1), bytes(32),
        struct.pack(">Hh", 0x0018, -1), parameters.config_box(),
    )  # fmt: skip
    stbl = box(
        b"stbl",
        full_box(b"stsd", 0, 0, struct.pack(">I", 1), sample_entry),
        full_box(b"stts", 0, 0, struct.pack(">I", 0)),
        full_box(b"stsc", 0, 0, struct.pack(">I", 0)),
        full_box(b"stsz", 0, 0, struct.pack(">II", 0, 0)),
        full_box(b"stco", 0, 0, struct.pack(">I", 0)),
    )
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
    minf = box(b"minf", full_box(b"vmhd", 0, 1, bytes(8)), dinf, stbl)
    trak = box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, minf))
    mvex = box(b"mvex", full_box(b"trex", 0, 0, struct.pack(">IIIII", 1, 1, 0, 0, 0)))
    return ftyp + box(b"moov", mvhd, trak, mvex)


@dataclass(frozen=True)
class Sample:
    data: bytes
    duration: int
    keyframe: bool
    composition_offset: int = 0


def media_fragment(sequence: int, base_decode_time: int, samples: list[Sample]) -> bytes:
    """One moof + mdat holding ``samples`` (decode times from ``base_decode_time``)."""
    table = [(s.duration, len(s.data), s.keyframe, s.composition_offset) for s in samples]
    return fragment_header(sequence, base_decode_time, table) + b"".join(sample.data for sample in samples)


# trun: a data offset, and each sample's duration, size, flags and composition offset
TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800
# moof [mfhd] [traf [tfhd] [tfdt] [trun header]]: every box header of a fragment but the trun's entries
_MOOF_HEAD = struct.Struct(">I4s I4sII I4s I4sII I4sIQ I4sIIi")
_MOOF_FIXED = 88  # bytes of the moof without the trun's entries (16 a sample)
_MDAT_HEAD = struct.Struct(">I4s")


def fragment_header(sequence: int, base_decode_time: int, table: list[tuple[int, int, bool, int]]) -> bytes:
    """The moof and the mdat box header of a fragment whose samples are ``table``'s
    (duration, size, keyframe, composition offset); the samples' bytes follow it.

    Packed in one go: the box sizes follow from the sample count (the fragment of every camera,
    every second, and of every live view)."""
    count = len(table)
    values = []
    mdat_size = 8
    for duration, size, keyframe, composition_offset in table:
        values += (
            duration,
            size,
            SYNC_SAMPLE_FLAGS if keyframe else NON_SYNC_SAMPLE_FLAGS,
            composition_offset,
        )
        mdat_size += size
    moof_size = _MOOF_FIXED + 16 * count
    head = _MOOF_HEAD.pack(
        moof_size, b"moof",
        16, b"mfhd", 0, sequence,
        moof_size - 24, b"traf",
        16, b"tfhd", 0x020000, 1,
        20, b"tfdt", 1 << 24, base_decode_time,
        20 + 16 * count, b"trun", (1 << 24) | TRUN_FLAGS, count, moof_size + 8,
    )  # fmt: skip
    return b"".join((head, struct.pack(">" + "IIIi" * count, *values), _MDAT_HEAD.pack(mdat_size, b"mdat")))
