"""H.265 parameter sets for MP4: the HEVCDecoderConfigurationRecord (hvcC) and the RFC 6381 codec string.

ISO/IEC 14496-15, 8.3.3.1. The record copies the SPS's profile_tier_level and, from the
rest of the SPS, the chroma format and bit depths; its arrays hold the VPS, SPS and PPS.
A browser's MSE reads the ``hvc1.…`` string to decide whether it can play the stream.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from watchwall.video.codec.fmp4 import box
from watchwall.video.codec.nal import HEVC_PPS, HEVC_SPS, HEVC_VPS, nal_type, nal_units, split_annexb
from watchwall.video.codec.parameter_sets import BitReader, SpsError, unescape


@dataclass(frozen=True)
class HevcFacts:
    """What the record needs from the SPS."""

    profile_space: int
    tier: int
    profile_idc: int
    compatibility: int  # 32 flags
    constraints: bytes  # 6 bytes
    level_idc: int
    sub_layers: int
    temporal_id_nesting: int
    chroma_format: int
    bit_depth_luma: int
    bit_depth_chroma: int


def hevc_facts(sps: bytes) -> HevcFacts:
    """``sps`` is the SPS NAL unit with its 2-byte header, without start code."""
    rbsp = unescape(sps[2:])
    if len(rbsp) < 13:
        raise SpsError("H.265 SPS too short")
    first, ptl = rbsp[0], rbsp[1:13]
    sub_layers = (first >> 1) & 0x07
    reader = BitReader(rbsp[13:])
    present = [(reader.flag(), reader.flag()) for _ in range(sub_layers)]
    if sub_layers:
        reader.bits(2 * (8 - sub_layers))
    for profile_present, level_present in present:
        if profile_present:
            reader.bits(88)
        if level_present:
            reader.bits(8)
    reader.ue()  # sps_seq_parameter_set_id
    chroma = reader.ue()
    if chroma == 3:
        reader.flag()
    reader.ue()  # width
    reader.ue()  # height
    if reader.flag():  # conformance window
        for _ in range(4):
            reader.ue()
    luma, chroma_depth = reader.ue() + 8, reader.ue() + 8
    return HevcFacts(
        profile_space=ptl[0] >> 6,
        tier=(ptl[0] >> 5) & 1,
        profile_idc=ptl[0] & 0x1F,
        compatibility=int.from_bytes(ptl[1:5], "big"),
        constraints=bytes(ptl[5:11]),
        level_idc=ptl[11],
        sub_layers=sub_layers + 1,
        temporal_id_nesting=first & 1,
        chroma_format=chroma,
        bit_depth_luma=luma,
        bit_depth_chroma=chroma_depth,
    )


@dataclass(frozen=True)
class HevcParameterSets:
    vps: bytes
    sps: bytes
    pps: bytes

    sample_entry = b"hvc1"  # parameter sets out of band only: the samples carry none

    @property
    def facts(self) -> HevcFacts:
        return hevc_facts(self.sps)

    def hvcc(self) -> bytes:
        facts = self.facts
        header = struct.pack(
            ">BBI6sBHBBBBHB",
            1,
            (facts.profile_space << 6) | (facts.tier << 5) | facts.profile_idc,
            facts.compatibility,
            facts.constraints,
            facts.level_idc,
            0xF000,  # min_spatial_segmentation_idc 0
            0xFC,  # parallelismType 0 (unknown)
            0xFC | facts.chroma_format,
            0xF8 | (facts.bit_depth_luma - 8),
            0xF8 | (facts.bit_depth_chroma - 8),
            0,  # avgFrameRate unknown
            (facts.sub_layers << 3) | (facts.temporal_id_nesting << 2) | 3,  # 4-byte NAL lengths
        )
        arrays = b"".join(
            struct.pack(">BHH", 0x80 | kind, 1, len(unit)) + unit
            for kind, unit in ((HEVC_VPS, self.vps), (HEVC_SPS, self.sps), (HEVC_PPS, self.pps))
        )
        return header + bytes([3]) + arrays

    def config_box(self) -> bytes:
        return box(b"hvcC", self.hvcc())

    @property
    def codec(self) -> str:
        """RFC 6381 / ISO/IEC 14496-15 Annex E: ``hvc1.<space><profile>.<compat>.<tier><level>.<constraints>``."""
        facts = self.facts
        space = "" if facts.profile_space == 0 else "ABC"[facts.profile_space - 1]
        compatibility = int(f"{facts.compatibility:032b}"[::-1], 2)  # written bit-reversed
        constraints = list(facts.constraints)
        while constraints and constraints[-1] == 0:
            constraints.pop()
        parts = [
            "hvc1",
            f"{space}{facts.profile_idc}",
            f"{compatibility:X}",
            f"{'H' if facts.tier else 'L'}{facts.level_idc}",
            *(f"{byte:X}" for byte in constraints),
        ]
        return ".".join(parts)


def hvcc_units(record: bytes) -> list[bytes]:
    """NAL units of an hvcC record."""
    units, offset = [], 23
    if len(record) < offset:
        return units
    for _ in range(record[22]):
        if offset + 3 > len(record):
            break
        count = int.from_bytes(record[offset + 1 : offset + 3], "big")
        offset += 3
        for _ in range(count):
            size = int.from_bytes(record[offset : offset + 2], "big")
            units.append(record[offset + 2 : offset + 2 + size])
            offset += 2 + size
    return units


def hevc_parameter_sets_from(
    extradata: bytes | None, first_keyframe: bytes | None = None
) -> HevcParameterSets | None:
    """VPS, SPS and PPS from a keyframe's in-band units, else from hvcC or Annex-B extradata."""
    units: list[bytes] = []
    if first_keyframe:
        units += nal_units(first_keyframe)
    if extradata and extradata[0] == 1:
        units += hvcc_units(extradata)
    elif extradata:
        units += split_annexb(extradata)
    found: dict[int, bytes] = {}
    for unit in units:
        if len(unit) > 2:
            found.setdefault(nal_type(unit, "hevc"), unit)
    if not all(kind in found for kind in (HEVC_VPS, HEVC_SPS, HEVC_PPS)):
        return None
    parameters = HevcParameterSets(found[HEVC_VPS], found[HEVC_SPS], found[HEVC_PPS])
    try:
        hevc_facts(parameters.sps)  # readable, or no record can be made
    except (SpsError, IndexError):
        return None
    return parameters
