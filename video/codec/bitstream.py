"""A cheap sanity check of H.264 / H.265 packets, without decoding them.

FFmpeg's RTSP demuxer hands corrupted data over without complaint (it never
sets the corrupt flag), so the reader looks at the NAL unit headers itself:
a set forbidden bit, a reserved or unspecified unit type, or a packet that
does not start with a start code is counted as malformed.
"""

from __future__ import annotations

from watchwall.video.codec.nal import SHORT_START_CODE, is_annexb

# Parameter sets, SEI and slice headers sit at the front of a packet; scanning the whole
# payload for start codes cost more than the demux itself (every packet, every camera).
SCAN_BYTES = 1024


def nal_headers(data: bytes, limit: int = 64, scan_bytes: int = SCAN_BYTES):
    """The first byte(s) after each start code in the first ``scan_bytes`` of ``data`` (at most ``limit`` units)."""
    end = min(len(data), scan_bytes)
    position = data.find(SHORT_START_CODE, 0, end)
    found = 0
    while position >= 0 and found < limit:
        header = data[position + 3 : position + 5]
        if header:
            yield header
        found += 1
        position = data.find(SHORT_START_CODE, position + 3, end)


def _h264_ok(header: bytes) -> bool:
    byte = header[0]
    nal_type = byte & 0x1F
    if byte & 0x80 or not 1 <= nal_type <= 23:
        return False
    must_be_referenced = nal_type in (5, 7, 8)  # IDR slice, SPS, PPS
    return not (must_be_referenced and byte & 0x60 == 0)


def _hevc_ok(header: bytes) -> bool:
    if len(header) < 2 or header[0] & 0x80:
        return False
    nal_type = (header[0] >> 1) & 0x3F
    return nal_type <= 40 and (header[1] & 0x07) != 0


CHECKS = {"h264": _h264_ok, "hevc": _hevc_ok}


def is_malformed(data: bytes, codec: str, annexb_stream: bool) -> bool:
    """True when the packet's NAL structure is broken; streams of other codecs are not checked."""
    check = CHECKS.get(codec)
    if check is None or not annexb_stream:
        return False
    if not is_annexb(data):
        return True
    return not all(check(header) for header in nal_headers(data))
