"""Picture size, profile and pixel format from an H.264 or H.265 sequence parameter set.

The RTP client learns the stream's parameters from the SPS (in the SDP's sprop, or in-band)
rather than by decoding a picture, so a camera is online with its first packet.
"""

from __future__ import annotations

from dataclasses import dataclass

from watchwall.video.codec.nal import H264_SPS, HEVC_SPS, nal_type, split_annexb

H264_PROFILES = {
    66: "Baseline",
    77: "Main",
    88: "Extended",
    100: "High",
    110: "High 10",
    122: "High 4:2:2",
    244: "High 4:4:4 Predictive",
    44: "CAVLC 4:4:4",
}
HEVC_PROFILES = {1: "Main", 2: "Main 10", 3: "Main Still Picture", 4: "Rext"}
_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}
_CHROMA = {0: "gray", 1: "yuv420p", 2: "yuv422p", 3: "yuv444p"}


class SpsError(ValueError):
    """A parameter set too short or inconsistent to read."""


@dataclass(frozen=True)
class SequenceParameters:
    width: int
    height: int
    profile: str | None
    pix_fmt: str | None


def unescape(payload: bytes) -> bytes:
    """The RBSP: emulation-prevention bytes (00 00 03) removed."""
    return payload.replace(b"\x00\x00\x03", b"\x00\x00")


class BitReader:
    def __init__(self, data: bytes) -> None:
        self.value = int.from_bytes(data, "big")
        self.left = len(data) * 8

    def bits(self, count: int) -> int:
        if count > self.left:
            raise SpsError("parameter set ends early")
        self.left -= count
        return (self.value >> self.left) & ((1 << count) - 1)

    def flag(self) -> bool:
        return bool(self.bits(1))

    def ue(self) -> int:
        zeros = 0
        while not self.bits(1):
            zeros += 1
            if zeros > 31:
                raise SpsError("Exp-Golomb code too long")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        code = self.ue()
        return (code + 1) // 2 if code & 1 else -(code // 2)


def _pix_fmt(chroma: int, bit_depth: int) -> str | None:
    base = _CHROMA.get(chroma)
    if base is None:
        return None
    if bit_depth == 8:
        return base
    return f"{base}{bit_depth}le" if base != "gray" else f"gray{bit_depth}le"


def h264_sps(nal: bytes) -> SequenceParameters:
    """``nal`` is the SPS NAL unit, header byte included, without start code."""
    reader = BitReader(unescape(nal[1:]))
    profile_idc = reader.bits(8)
    constraints = reader.bits(8)
    reader.bits(8)  # level
    reader.ue()  # seq_parameter_set_id
    chroma, separate_planes, bit_depth = 1, False, 8
    if profile_idc in _HIGH_PROFILES:
        chroma = reader.ue()
        if chroma == 3:
            separate_planes = reader.flag()
        bit_depth = reader.ue() + 8
        reader.ue()  # bit_depth_chroma
        reader.flag()  # qpprime_y_zero_transform_bypass
        if reader.flag():  # seq_scaling_matrix_present
            for index in range(8 if chroma != 3 else 12):
                if reader.flag():
                    _skip_scaling_list(reader, 16 if index < 6 else 64)
    reader.ue()  # log2_max_frame_num
    order_type = reader.ue()
    if order_type == 0:
        reader.ue()
    elif order_type == 1:
        reader.flag()
        reader.se()
        reader.se()
        for _ in range(reader.ue()):
            reader.se()
    reader.ue()  # max_num_ref_frames
    reader.flag()  # gaps_in_frame_num_allowed
    width_mbs = reader.ue() + 1
    height_units = reader.ue() + 1
    frame_mbs_only = reader.flag()
    if not frame_mbs_only:
        reader.flag()  # mb_adaptive_frame_field
    reader.flag()  # direct_8x8_inference
    width, height = width_mbs * 16, (2 - frame_mbs_only) * height_units * 16
    if reader.flag():  # frame_cropping
        left, right, top, bottom = reader.ue(), reader.ue(), reader.ue(), reader.ue()
        if chroma == 0 or separate_planes:
            unit_x, unit_y = 1, 2 - frame_mbs_only
        else:
            unit_x = 1 if chroma == 3 else 2
            unit_y = (2 if chroma == 1 else 1) * (2 - frame_mbs_only)
        width -= unit_x * (left + right)
        height -= unit_y * (top + bottom)
    if width <= 0 or height <= 0:
        raise SpsError(f"picture size {width}x{height}")
    profile = H264_PROFILES.get(profile_idc)
    if profile_idc == 66 and constraints & 0x40:
        profile = "Constrained Baseline"
    return SequenceParameters(width, height, profile, _pix_fmt(0 if separate_planes else chroma, bit_depth))


def _skip_scaling_list(reader: BitReader, size: int) -> None:
    last = following = 8
    for _ in range(size):
        if following:
            following = (last + reader.se() + 256) % 256
        last = following or last


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
    width: int  # the picture, conformance window applied
    height: int


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
    width, height = reader.ue(), reader.ue()
    if reader.flag():  # conformance window, in chroma samples
        left, right, top, bottom = reader.ue(), reader.ue(), reader.ue(), reader.ue()
        unit_x = 2 if chroma in (1, 2) else 1
        unit_y = 2 if chroma == 1 else 1
        width -= unit_x * (left + right)
        height -= unit_y * (top + bottom)
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
        width=width,
        height=height,
    )


def hevc_sps(nal: bytes) -> SequenceParameters:
    """``nal`` is the SPS NAL unit, its 2-byte header included, without start code."""
    facts = hevc_facts(nal)
    if facts.width <= 0 or facts.height <= 0:
        raise SpsError(f"picture size {facts.width}x{facts.height}")
    return SequenceParameters(
        facts.width,
        facts.height,
        HEVC_PROFILES.get(facts.profile_idc),
        _pix_fmt(facts.chroma_format, facts.bit_depth_luma),
    )


def sequence_parameters(annexb: bytes | None, codec: str) -> SequenceParameters | None:
    """The first readable SPS in ``annexb``, or None."""
    if not annexb:
        return None
    for unit in split_annexb(annexb):
        try:
            if codec == "h264" and nal_type(unit, codec) == H264_SPS:
                return h264_sps(unit)
            if codec == "hevc" and nal_type(unit, codec) == HEVC_SPS:
                return hevc_sps(unit)
        except (SpsError, IndexError):
            continue
    return None
