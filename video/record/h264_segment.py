"""An H.264 recording segment written by WatchWall's own fragmented-MP4 writer.

Same file layout as FFmpeg's ``frag_keyframe+empty_moov+default_base_moof`` (an empty moov,
then a moof + mdat at every keyframe and at least every second, each on disk as soon as it
is complete), without a PyAV packet and a muxer call per frame: a frame costs a list append here
(and a search for its start codes when the depacketiser did not count its NAL units), a fragment
one join, one write and one hash update
(the samples' bytes are copied once, into the fragment). The file is hashed as it is written,
so closing a segment does not read it back. Written video goes on to the disk a MiB at a time and
leaves the page cache (video.record.write_behind). HEVC segments still go through FFmpeg's muxer
(video.record.segments.SegmentWriter).
"""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path

from watchwall.video.codec.fmp4 import (
    fragment_header,
    init_segment,
    parameter_sets_from,
    timescale_of,
)
from watchwall.video.codec.nal import START_CODE, length_prefixed, nal_units
from watchwall.video.ingest.packet import MediaPacket, StreamInfo
from watchwall.video.record.segments import SegmentSummary
from watchwall.video.record.write_behind import WriteBehind

FRAGMENT_S = 1.0


def mp4_sample(data: bytes) -> bytes:
    """A packet in either framing as an MP4 sample: every NAL unit behind its 4-byte length.

    In-band parameter sets stay in the sample, as FFmpeg's muxer leaves them: a camera that
    changes them mid-segment still decodes."""
    return length_prefixed(nal_units(data))


def sample_parts(data: bytes, nal_units: int = 0) -> list:
    """``mp4_sample(data)`` as the pieces to join, without copying the packet."""
    return sample_of(data, nal_units)[0]


def sample_of(data: bytes, nal_units: int = 0) -> tuple[list, int]:
    """``mp4_sample(data)`` as the pieces to join (without copying the packet), and its size.

    The usual packet of an RTSP camera is one NAL unit behind a 4-byte start code (a P-frame):
    its sample is its length and the packet's bytes after the start code. ``nal_units`` is how
    many units the RTSP depacketiser put into the packet (MediaPacket.nal_units); when it says
    one, that is known without looking. Otherwise one search through the packet tells (the
    search costs more than hashing the packet). Anything else (several units, 3-byte start
    codes, length-prefixed packets) takes the general way.
    """
    if _one_unit(data, nal_units):
        size = len(data) - 4
        return ([size.to_bytes(4, "big"), memoryview(data)[4:]], size + 4) if size else ([], 0)
    sample = mp4_sample(data)
    return [sample], len(sample)


def _one_unit(data: bytes, nal_units: int) -> bool:
    """Whether ``data`` is one NAL unit behind a 4-byte start code."""
    if not data.startswith(START_CODE):
        return False
    if nal_units:
        return nal_units == 1
    return data.find(b"\x00\x00\x01", 4) < 0 and not _length_prefixed(data)


def _length_prefixed(data: bytes) -> bool:
    """Whether ``data`` reads whole as 4-byte lengths and units (what nal_units tries first)."""
    offset, size = 0, len(data)
    while offset + 4 <= size:
        length = int.from_bytes(data[offset : offset + 4], "big")
        if length == 0 or offset + 4 + length > size:
            return False
        offset += 4 + length
    return offset == size


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
        # [sample parts, sample size, dts, composition offset, keyframe] a sample, until its fragment is written
        self._pending: list[list] = []
        self._last_duration = 0
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
        if not self._pending:
            return FRAGMENT_S
        return (self._fragment_ticks - (self._pending[-1][2] - self._pending[0][2])) / self.timescale

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
        pending = self._pending
        keyframe = packet.is_keyframe
        # a damaged unit (packets lost) is framed by looking at it, as any packet of unknown framing
        parts, size = sample_of(packet.data, 0 if packet.is_corrupt else packet.nal_units)
        if pending:
            last = pending[-1]
            if dts == last[2]:  # one picture in two packets (a multi-slice keyframe): one sample
                last[0] += parts
                last[1] += size
                last[4] = last[4] or keyframe
                return
            if dts < last[2]:
                return  # a backwards timestamp would break the file's timeline
            if keyframe or dts - pending[0][2] >= self._fragment_ticks:
                self._write_fragment(dts)  # starts a new pending list
                pending = self._pending
        pending.append([parts, size, dts, offset, keyframe])
        duration = packet.duration
        if duration:
            self._tail_duration = duration if scale is None else int(duration * scale)
            end = packet.wallclock + duration * packet.stream.seconds_per_tick
        else:
            self._tail_duration = None
            end = packet.wallclock
        if end > self.end_utc:
            self.end_utc = end

    def _write_fragment(self, next_dts: int | None) -> None:
        """Write the pending samples as one fragment; ``next_dts`` gives the last one's duration."""
        pending, self._pending = self._pending, []
        table = []
        data = []
        for index, (parts, size, dts, offset, keyframe) in enumerate(pending):
            following = pending[index + 1][2] if index + 1 < len(pending) else next_dts
            if following is not None:
                duration = following - dts
            else:
                duration = self._tail_duration or self._last_duration
            self._last_duration = duration
            table.append((duration, size, keyframe, offset))
            data += parts
        self._sequence += 1
        header = fragment_header(self._sequence, pending[0][2], table)
        self._emit(b"".join([header, *data]))
        self.packets += len(table)

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
            if self._pending:
                self._write_fragment(None)
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
