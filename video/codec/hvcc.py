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
from watchwall.video.codec.parameter_sets import HevcFacts, SpsError, hevc_facts


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
