"""One recording segment on disk: camera packets remuxed, never re-encoded, into fragmented MP4.

The moov box is written first and empty (``empty_moov``); each fragment (at every
keyframe, and at least every second) goes to disk as soon as it is complete
(``flush_packets``), so a file cut short by a crash still plays up to its last
fragment. Packets come in either framing: RTSP gives Annex-B packets and
parameter sets, which FFmpeg's mp4 muxer converts to avcC / length-prefixed
form itself; MP4 files (the demo cameras) give length-prefixed packets with an
avcC / hvcC record, which the muxer takes as they are.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import av

from watchwall.config.errors import UserError
from watchwall.video.codec.fmp4 import parameter_sets_from
from watchwall.video.codec.hvcc import hvcc_units
from watchwall.video.codec.nal import annexb, parameter_set_units, split_length_prefixed
from watchwall.video.ingest.packet import MediaPacket, StreamInfo
from watchwall.video.record.write_behind import STEP_BYTES, WriteBehind

FRAGMENTED_MP4_OPTIONS = {
    "movflags": "frag_keyframe+empty_moov+default_base_moof",
    "frag_duration": "1000000",  # microseconds: a fragment at least every second
    "flush_packets": "1",
}
SEGMENT_SUFFIX = ".mp4"
RECORDABLE_CODECS = frozenset({"h264", "hevc"})  # what segments hold (see video.record.recorder)
HASH_CHUNK = 1 << 20


def segment_relative_path(camera_id: str, start_utc: float) -> Path:
    """``<camera>/<YYYY-MM-DD>/<HH>/<YYYYmmddTHHMMSS.mmmZ>.mp4``, named by the UTC start."""
    moment = datetime.fromtimestamp(start_utc, UTC)
    name = moment.strftime("%Y%m%dT%H%M%S") + f".{moment.microsecond // 1000:03d}Z{SEGMENT_SUFFIX}"
    return Path(camera_id) / moment.strftime("%Y-%m-%d") / moment.strftime("%H") / name


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def annexb_parameter_sets(data: bytes, codec: str) -> bytes | None:
    """The SPS/PPS (H.264) or VPS/SPS/PPS (HEVC) NAL units of a keyframe in either framing, as Annex-B.

    For cameras that announce no parameter sets (no ``sprop-parameter-sets``)
    and send them in-band only: the mp4 muxer needs them before the first packet.
    """
    return annexb(parameter_set_units(data, codec)) or None


def in_band_extradata(data: bytes, codec: str) -> bytes | None:
    """Extradata from a keyframe's in-band parameter sets, in the framing of the keyframe.

    A length-prefixed H.264 packet needs an avcC record (the muxer then copies
    packets as they are); an Annex-B one needs Annex-B parameter sets.
    """
    if codec == "h264" and split_length_prefixed(data) is not None:
        parameters = parameter_sets_from(None, data)
        return parameters.avcc() if parameters else None
    return annexb_parameter_sets(data, codec)


def is_configuration_record(extradata: bytes | None) -> bool:
    """avcC / hvcC (MP4 files) start with version 1; Annex-B extradata starts with a start code."""
    return bool(extradata) and extradata[0] == 1


def annexb_extradata(extradata: bytes | None, codec: str) -> bytes | None:
    """The parameter sets of ``extradata`` (Annex-B, avcC or hvcC) as an Annex-B byte stream."""
    if not is_configuration_record(extradata):
        return extradata
    if codec == "h264":
        parameters = parameter_sets_from(extradata)
        return annexb([parameters.sps, parameters.pps]) if parameters else None
    return annexb(hvcc_units(extradata)) or None


def add_copy_stream(container: av.container.OutputContainer, info: StreamInfo):
    """An output stream that takes ``info``'s packets as they are (no encoder is opened).

    PyAV builds copy streams from a template input stream; a raw elementary
    stream holding just the parameter sets (Annex-B, whatever the source's
    framing) gives one for the codec. The stream keeps the source's own
    extradata, which tells the muxer how the packets are framed.
    """
    template_bytes = annexb_extradata(info.extradata, _raw_format(info.codec)) or b""
    template_input = av.open(io.BytesIO(template_bytes), format=_raw_format(info.codec))
    try:
        template = template_input.streams.video[0]
        stream = container.add_stream_from_template(template)
    finally:
        template_input.close()
    context = stream.codec_context
    context.width, context.height = info.width, info.height
    if info.extradata:
        context.extradata = info.extradata
    context.time_base = info.time_base
    stream.time_base = info.time_base
    return stream


def _raw_format(codec: str) -> str:
    formats = {"h264": "h264", "hevc": "hevc", "h265": "hevc"}
    if codec not in formats:
        raise ValueError(f"cannot record codec {codec!r} (H.264 and HEVC are supported)")
    return formats[codec]


@dataclass
class _HeldPacket:
    parts: list[bytes]
    dts: int
    pts: int
    duration: int | None
    is_keyframe: bool


@dataclass
class SegmentSummary:
    start_utc: float
    end_utc: float
    packets: int
    bytes: int
    sha256: str

    @property
    def duration_s(self) -> float:
        return self.end_utc - self.start_utc


class SegmentWriter:
    """Writes one segment. Timestamps are rebased so that the first packet is at 0."""

    def __init__(self, path: Path, info: StreamInfo, start_utc: float) -> None:
        self.path = path
        self.info = info
        self.start_utc = start_utc
        self.end_utc = start_utc
        self.packets = 0
        self._base_dts: int | None = None
        self._held: _HeldPacket | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        self._container = av.open(str(path), mode="w", format="mp4", options=dict(FRAGMENTED_MP4_OPTIONS))
        self._stream = None  # added with the first packet, which may carry the only parameter sets
        # FFmpeg writes the file (it creates it with its first write); write-behind follows it
        # through a descriptor of its own
        self._behind: WriteBehind | None = None
        self._muxed_bytes = 0  # since the file's size was last looked at

    @property
    def duration_s(self) -> float:
        return self.end_utc - self.start_utc

    def write(self, packet: MediaPacket) -> None:
        """Mux one packet; raises OSError (e.g. ENOSPC) from the disk.

        A packet is held until the next one arrives: RTSP demuxing can split one
        picture into two packets of the same timestamp (a multi-slice keyframe
        with parameter sets repeated in-band), which are merged here into one
        sample; dropping either would lose part of the picture.
        """
        dts = packet.dts if packet.dts is not None else packet.pts
        pts = packet.pts if packet.pts is not None else dts
        if dts is None:
            raise ValueError("packet without timestamps")
        if self._stream is None:
            extradata = self.info.extradata or in_band_extradata(packet.data, self.info.codec)
            self._stream = add_copy_stream(self._container, replace(self.info, extradata=extradata))
        if self._base_dts is None:
            self._base_dts = dts
        held = self._held
        if held is not None and dts == held.dts:
            held.parts.append(packet.data)
            held.is_keyframe = held.is_keyframe or packet.is_keyframe
            return
        if held is not None and dts < held.dts:
            return  # a backwards timestamp would make the muxer fail the whole segment
        self._mux_held()
        self._held = _HeldPacket([packet.data], dts, pts, packet.duration, packet.is_keyframe)
        self.end_utc = max(self.end_utc, packet.wallclock + packet_seconds(packet))

    def _mux_held(self) -> None:
        held, self._held = self._held, None
        if held is None:
            return
        out = av.Packet(b"".join(held.parts))
        out.dts = held.dts - self._base_dts
        out.pts = held.pts - self._base_dts
        if held.duration:
            out.duration = held.duration
        out.is_keyframe = held.is_keyframe
        out.time_base = self.info.time_base
        out.stream = self._stream
        self._container.mux_one(out)
        self.packets += 1
        self._muxed_bytes += out.size
        if self._muxed_bytes >= STEP_BYTES:
            self._muxed_bytes = 0
            behind = self._follow()
            behind.written(os.fstat(behind.fd).st_size)

    def _follow(self) -> WriteBehind:
        if self._behind is None:
            self._behind = WriteBehind(os.open(self.path, os.O_RDONLY))
        return self._behind

    def close(self) -> SegmentSummary:
        """Flush the last fragment and the file, hash it, and wait until it is on disk."""
        try:
            self._mux_held()
            self._container.close()
            size = self.path.stat().st_size
            summary = SegmentSummary(self.start_utc, self.end_utc, self.packets, size, file_sha256(self.path))
            self._follow().finish()
        finally:
            self._container = None
            self._close_follow_fd()
        return summary

    def abandon(self) -> None:
        """Close after a write error, ignoring further errors: what reached the disk stays."""
        self._close_follow_fd()
        if self._container is None:
            return
        try:
            self._container.close()
        except (OSError, av.error.FFmpegError, ValueError):
            pass
        self._container = None

    def _close_follow_fd(self) -> None:
        if self._behind is not None:
            os.close(self._behind.fd)
            self._behind = None


def packet_seconds(packet: MediaPacket) -> float:
    if not packet.duration:
        return 0.0
    return packet.duration * packet.stream.seconds_per_tick


def parse_segment_start(path: Path) -> float | None:
    """The UTC start encoded in a segment's file name, or None if it is not one of ours."""
    name = path.name
    if not name.endswith("Z" + SEGMENT_SUFFIX):
        return None
    try:
        moment = datetime.strptime(name[: -len(SEGMENT_SUFFIX) - 1], "%Y%m%dT%H%M%S.%f")
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC).timestamp()


@dataclass
class OnDiskExtent:
    """What a segment file really holds, found by demuxing it."""

    packets: int
    keyframes: int
    first_dts_s: float
    end_s: float  # end of the last complete packet, seconds from the first
    codec: str
    width: int
    height: int


def probe_extent(path: Path) -> OnDiskExtent | None:
    """Demux (no decode) the playable part of a possibly truncated segment; None if nothing plays."""
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError):
        return None
    try:
        if not container.streams.video:
            return None
        stream = container.streams.video[0]
        time_base = stream.time_base or Fraction(1, 90000)
        packets = keyframes = 0
        first: int | None = None
        end = 0
        try:
            for packet in container.demux(stream):
                if packet.dts is None or not packet.size:
                    continue
                if first is None:
                    first = packet.dts
                packets += 1
                keyframes += bool(packet.is_keyframe)
                end = max(end, packet.dts + (packet.duration or 0))
        except (av.error.FFmpegError, OSError):
            pass  # a truncated tail: everything before it counts
        if not packets or first is None:
            return None
        context = stream.codec_context
        return OnDiskExtent(
            packets=packets,
            keyframes=keyframes,
            first_dts_s=float(first * time_base),
            end_s=float((end - first) * time_base),
            codec=context.name,
            width=context.width,
            height=context.height,
        )
    finally:
        container.close()


CAMERA_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,62}$")


class UnsafePathError(UserError):
    pass


def checked_camera_id(camera_id: str) -> str:
    """Refuse a camera id that could leave the recordings folder (``../..``, slashes, NUL)."""
    if not isinstance(camera_id, str) or not CAMERA_ID_PATTERN.match(camera_id) or ".." in camera_id:
        raise UnsafePathError(f"refused camera id {camera_id!r}: letters, digits, '_', '-', '.' only")
    return camera_id


def inside_recordings(recordings_dir: Path, relative: str | Path) -> Path:
    """``recordings_dir / relative``, refused if it resolves outside ``recordings_dir``."""
    root = Path(recordings_dir).resolve()
    candidate = (root / relative).resolve()
    if Path(relative).is_absolute() or not candidate.is_relative_to(root):
        raise UnsafePathError(f"refused segment path {str(relative)!r}: outside the recordings folder")
    return candidate


def default_recordings_dir(settings) -> Path:
    """Where segments go: ``<data dir>/recordings``."""
    return Path(settings.data_dir) / "recordings"


def complete_fragments_size(path: Path) -> int:
    """Bytes of ``path`` up to the end of its last complete fragment (moof + mdat) or header.

    A crash can stop the disk in the middle of a fragment; FFmpeg then fails to
    open the file (a cut moof) or to decode its last packet (a cut mdat).
    """
    size = path.stat().st_size
    good = position = 0
    fragment_open = False
    with open(path, "rb") as handle:
        while position + 8 <= size:
            handle.seek(position)
            header = handle.read(16)
            box_size, kind = int.from_bytes(header[:4], "big"), header[4:8]
            if box_size == 1 and len(header) >= 16:
                box_size = int.from_bytes(header[8:16], "big")
            elif box_size == 0:
                box_size = size - position
            if box_size < 8 or position + box_size > size:
                break
            position += box_size
            if kind == b"moof":
                fragment_open = True
            elif kind == b"mdat" and fragment_open:
                fragment_open, good = False, position
            elif kind in (b"ftyp", b"moov"):
                good = position
            elif kind == b"mfra":
                good = position  # the index that a clean close writes last
    return good


def cut_to_complete_fragments(path: Path) -> int:
    """Drop a torn last fragment (it cannot play); returns the bytes removed."""
    size = path.stat().st_size
    good = complete_fragments_size(path)
    if good < size:
        os.truncate(path, good)
    return size - good
