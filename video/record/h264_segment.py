"""An H.264 recording segment written by WatchWall's own fragmented-MP4 writer.

Same file layout as FFmpeg's ``frag_keyframe+empty_moov+default_base_moof`` (an empty moov,
then a moof + mdat at every keyframe and at least every second, each on disk as soon as it
is complete), without a PyAV packet and a muxer call per frame: a frame costs a list append
here, a fragment one write. The file is hashed as it is written, so closing a segment does
not read it back. HEVC segments still go through FFmpeg's muxer (video.record.segments.SegmentWriter).
"""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path

from watchwall.video.codec.fmp4 import (
    Sample,
    init_segment,
    media_fragment,
    parameter_sets_from,
    timescale_of,
)
from watchwall.video.codec.nal import length_prefixed, nal_units
from watchwall.video.ingest.packet import MediaPacket, StreamInfo
from watchwall.video.record.segments import SegmentSummary, packet_seconds

FRAGMENT_S = 1.0


def mp4_sample(data: bytes) -> bytes:
    """A packet in either framing as an MP4 sample: every NAL unit behind its 4-byte length.

    In-band parameter sets stay in the sample, as FFmpeg's muxer leaves them: a camera that
    changes them mid-segment still decodes."""
    return length_prefixed(nal_units(data))


class H264SegmentWriter:
    """Writes one H.264 segment; timestamps rebased so that the first packet is at 0."""

    def __init__(self, path: Path, info: StreamInfo, start_utc: float) -> None:
        if info.codec != "h264":
            raise ValueError(f"H264SegmentWriter writes H.264, not {info.codec}")
        self.path = path
        self.info = info
        self.start_utc = start_utc
        self.end_utc = start_utc
        self.packets = 0  # samples on disk
        self.timescale = timescale_of(info.time_base)
        self._scale = (
            None if info.time_base == Fraction(1, self.timescale) else info.time_base * self.timescale
        )
        self._fragment_ticks = int(FRAGMENT_S * self.timescale)
        self._sha256 = hashlib.sha256()
        self._bytes = 0
        self._sequence = 0
        self._base_dts: int | None = None
        self._pending: list[tuple[bytes, int, int, bool]] = []  # (sample, dts, composition offset, keyframe)
        self._last_duration = 0
        self._tail_duration: int | None = None  # the last packet's own duration, if it has one
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "wb")  # noqa: SIM115 - open for the segment's whole life

    @property
    def duration_s(self) -> float:
        return self.end_utc - self.start_utc

    def _ticks(self, value: int) -> int:
        return value if self._scale is None else int(value * self._scale)

    def write(self, packet: MediaPacket) -> None:
        """Add one packet; raises OSError (e.g. ENOSPC) from the disk."""
        dts = packet.dts if packet.dts is not None else packet.pts
        pts = packet.pts if packet.pts is not None else dts
        if dts is None:
            raise ValueError("packet without timestamps")
        if self._base_dts is None:
            parameters = parameter_sets_from(self.info.extradata, packet.data)
            if parameters is None:
                raise ValueError("no SPS/PPS for the segment's first packet")
            self._emit(init_segment(self.info.width, self.info.height, self.timescale, parameters))
            self._base_dts = dts
        dts, offset = self._ticks(dts - self._base_dts), self._ticks(pts - dts)
        if self._pending:
            sample, last_dts, last_offset, keyframe = self._pending[-1]
            if dts == last_dts:  # one picture in two packets (a multi-slice keyframe): one sample
                merged = (sample + mp4_sample(packet.data), dts, last_offset, keyframe or packet.is_keyframe)
                self._pending[-1] = merged
                return
            if dts < last_dts:
                return  # a backwards timestamp would break the file's timeline
            if packet.is_keyframe or dts - self._pending[0][1] >= self._fragment_ticks:
                self._write_fragment(dts)  # starts a new pending list
        self._pending.append((mp4_sample(packet.data), dts, offset, packet.is_keyframe))
        self._tail_duration = self._ticks(packet.duration) if packet.duration else None
        self.end_utc = max(self.end_utc, packet.wallclock + packet_seconds(packet))

    def _write_fragment(self, next_dts: int | None) -> None:
        """Write the pending samples as one fragment; ``next_dts`` gives the last one's duration."""
        pending, self._pending = self._pending, []
        samples = []
        for index, (sample, dts, offset, keyframe) in enumerate(pending):
            following = pending[index + 1][1] if index + 1 < len(pending) else next_dts
            if following is not None:
                duration = following - dts
            else:
                duration = self._tail_duration or self._last_duration
            self._last_duration = duration
            samples.append(Sample(sample, duration, keyframe, offset))
        self._sequence += 1
        self._emit(media_fragment(self._sequence, pending[0][1], samples))
        self.packets += len(samples)

    def _emit(self, data: bytes) -> None:
        self._file.write(data)
        self._file.flush()  # on disk (in the page cache) now: a crash keeps every whole fragment
        self._sha256.update(data)
        self._bytes += len(data)

    def close(self) -> SegmentSummary:
        """Write the last fragment and close; the file's hash was taken while writing."""
        try:
            if self._pending:
                self._write_fragment(None)
        finally:
            self._file.close()
        return SegmentSummary(
            self.start_utc, self.end_utc, self.packets, self._bytes, self._sha256.hexdigest()
        )

    def abandon(self) -> None:
        """Close after a write error, ignoring further errors: what reached the disk stays."""
        try:
            self._file.close()
        except OSError:
            pass
