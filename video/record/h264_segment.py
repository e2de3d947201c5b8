"""An H.264 recording segment written by WatchWall's own fragmented-MP4 writer.

Same file layout as FFmpeg's ``frag_keyframe+empty_moov+default_base_moof`` (an empty moov,
then a moof + mdat at every keyframe and at least every second, each on disk as soon as it
is complete), without a PyAV packet and a muxer call per frame: a frame costs one call of
video.record.pending_samples (compiled; a search for its start codes when the depacketiser did not
count its NAL units), a fragment one write and one hash update (the samples' bytes are copied
once, into the fragment). The file is hashed as it is written,
so closing a segment does not read it back. Written video goes on to the disk a MiB at a time and
leaves the page cache (video.record.write_behind). HEVC segments still go through FFmpeg's muxer
(video.record.segments.SegmentWriter).
"""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path

from watchwall.video.codec.fmp4 import init_segment, parameter_sets_from, timescale_of
from watchwall.video.ingest.packet import MediaPacket, StreamInfo
from watchwall.video.record.pending_samples import FRAGMENT_DUE, MERGED_OR_DROPPED, PendingSamples, mp4_sample
from watchwall.video.record.segments import SegmentSummary
from watchwall.video.record.write_behind import WriteBehind

FRAGMENT_S = 1.0


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
        self._base_dts: int | None = None
        self._samples = PendingSamples(self._fragment_ticks, mp4_sample)  # until their fragment is written
        self._tail_duration: int | None = None  # the last packet's own duration, if it has one
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "wb")  # noqa: SIM115 - open for the segment's whole life
        self._behind = WriteBehind(self._file.fileno())

    @property
    def duration_s(self) -> float:
        return self.end_utc - self.start_utc

    def fragment_due_s(self) -> float:
        """Media seconds until the pending fragment is full and goes to disk with the next packet.

        The recorder sleeps about this long while packets flow: waking more often writes nothing."""
        samples = self._samples
        if not samples:
            return FRAGMENT_S
        return (self._fragment_ticks - (samples.last_dts - samples.first_dts)) / self.timescale

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
        scale = self._scale
        if scale is None:
            dts, offset = dts - self._base_dts, pts - dts
        else:
            dts, offset = int((dts - self._base_dts) * scale), int((pts - dts) * scale)
        samples = self._samples
        # a damaged unit (packets lost) is framed by looking at it, as any packet of unknown framing
        outcome = samples.add(
            packet.data, 0 if packet.is_corrupt else packet.nal_units, dts, offset, packet.is_keyframe
        )
        if outcome == MERGED_OR_DROPPED:  # the same picture as the last sample, or a backwards timestamp
            return
        if outcome == FRAGMENT_DUE:
            self._write(samples.take_fragment())
        duration = packet.duration
        if duration:
            self._tail_duration = duration if scale is None else int(duration * scale)
            end = packet.wallclock + duration * packet.stream.seconds_per_tick
        else:
            self._tail_duration = None
            end = packet.wallclock
        if end > self.end_utc:
            self.end_utc = end

    def _write(self, fragment: tuple[bytes, int]) -> None:
        data, samples = fragment
        self._emit(data)
        self.packets += samples

    def _emit(self, data: bytes) -> None:
        self._file.write(data)
        self._file.flush()  # on disk (in the page cache) now: a crash keeps every whole fragment
        self._sha256.update(data)
        self._bytes += len(data)
        self._behind.written(self._bytes)

    def close(self) -> SegmentSummary:
        """Write the last fragment, wait until the file is on disk, and close; the file's hash
        was taken while writing."""
        try:
            last = self._samples.flush(self._tail_duration)
            if last is not None:
                self._write(last)
            self._behind.finish()
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
