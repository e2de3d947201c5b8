"""Recorded video over a time range, for the browser (fMP4 through MSE) and for evidence export.

Everything starts from the index: which segments cover an instant or a range
is an indexed query on (camera, start), never a scan of files. The segments'
packets are remuxed (never decoded) into one stream that starts at the
keyframe at or before the requested instant.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

import av
from sqlalchemy import select
from sqlalchemy.engine import Engine

from watchwall.config.database import session_scope
from watchwall.config.errors import UserError
from watchwall.video.record.models import SEGMENT_CLOSED, SEGMENT_RECOVERED, RecordingGap, RecordingSegment
from watchwall.video.record.segments import checked_camera_id, inside_recordings

PLAYABLE = (SEGMENT_CLOSED, SEGMENT_RECOVERED)
MSE_MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"
FILE_MOVFLAGS = ""  # a plain MP4, moov at the end: no second pass over the file
READ_CHUNK = 256 * 1024


class NoRecordingError(UserError):
    pass


@dataclass(frozen=True)
class SourceSegment:
    path: str  # relative to recordings_dir
    start_utc: float
    end_utc: float
    sha256: str
    prev_sha256: str | None
    bytes: int


@dataclass(frozen=True)
class RemuxResult:
    actual_start_utc: float
    actual_end_utc: float
    packets: int
    segments_used: tuple[SourceSegment, ...]


def segments_between(engine: Engine, camera_id: str, start_utc: float, end_utc: float) -> list[SourceSegment]:
    """The playable segments of ``camera_id`` that overlap [start, end), oldest first."""
    checked_camera_id(camera_id)
    query = (
        select(RecordingSegment)
        .where(
            RecordingSegment.camera_id == camera_id,
            RecordingSegment.status.in_(PLAYABLE),
            RecordingSegment.start_utc < end_utc,
            RecordingSegment.end_utc > start_utc,
        )
        .order_by(RecordingSegment.start_utc)
    )
    with session_scope(engine) as session:
        return [
            SourceSegment(r.path, r.start_utc, r.end_utc, r.sha256, r.prev_sha256, r.bytes)
            for r in session.scalars(query)
        ]


@dataclass(frozen=True)
class SeekAnswer:
    camera_id: str
    instant_utc: float
    segment: SourceSegment | None  # the segment holding the instant, if recorded
    offset_s: float | None  # from the segment's start
    gap_reason: str | None  # when not recorded: why, if a gap row covers it
    next_start_utc: float | None  # when not recorded: where recording resumes


def seek(engine: Engine, camera_id: str, instant_utc: float) -> SeekAnswer:
    """Where ``instant_utc`` is in the recordings: two indexed queries, no file opened."""
    checked_camera_id(camera_id)
    with session_scope(engine) as session:
        row = session.scalars(
            select(RecordingSegment)
            .where(
                RecordingSegment.camera_id == camera_id,
                RecordingSegment.status.in_(PLAYABLE),
                RecordingSegment.start_utc <= instant_utc,
            )
            .order_by(RecordingSegment.start_utc.desc())
            .limit(1)
        ).first()
        if row is not None and row.end_utc > instant_utc:
            segment = SourceSegment(
                row.path, row.start_utc, row.end_utc, row.sha256, row.prev_sha256, row.bytes
            )
            return SeekAnswer(camera_id, instant_utc, segment, instant_utc - row.start_utc, None, None)
        gap = session.scalars(
            select(RecordingGap)
            .where(
                RecordingGap.camera_id == camera_id,
                RecordingGap.start_utc <= instant_utc,
                RecordingGap.end_utc > instant_utc,
            )
            .limit(1)
        ).first()
        following = session.scalars(
            select(RecordingSegment.start_utc)
            .where(
                RecordingSegment.camera_id == camera_id,
                RecordingSegment.status.in_(PLAYABLE),
                RecordingSegment.start_utc > instant_utc,
            )
            .order_by(RecordingSegment.start_utc)
            .limit(1)
        ).first()
    return SeekAnswer(camera_id, instant_utc, None, None, gap.reason if gap else None, following)


def remux_span(
    recordings_dir: Path,
    segments: Sequence[SourceSegment],
    start_utc: float,
    end_utc: float,
    out: Path | BinaryIO,
    *,
    movflags: str,
    on_bytes: Callable[[int], None] | None = None,
) -> RemuxResult:
    """Copy the packets of [start, end) into one MP4, starting at the keyframe at or before ``start``.

    ``out`` is a path, or a stream that is only written (fragmented ``movflags`` then, which need no seek).
    """
    if not segments:
        raise NoRecordingError("no recording in that span")
    target = str(out) if isinstance(out, Path) else out
    output = av.open(target, mode="w", format="mp4", options={"movflags": movflags} if movflags else {})
    out_stream = None
    time_base = None
    actual_start = actual_end = None
    last_dts = None
    written = 0
    used: list[SourceSegment] = []
    try:
        for segment in segments:
            path = inside_recordings(recordings_dir, segment.path)
            with av.open(str(path)) as source:
                stream = source.streams.video[0]
                if out_stream is None:
                    out_stream = output.add_stream_from_template(stream)
                    time_base = stream.time_base
                used_here = False
                first_dts = None
                waiting: list = []  # the GOP before ``start``: needed to decode from ``start``
                for packet in source.demux(stream):
                    if packet.dts is None or not packet.size:
                        continue
                    first_dts = packet.dts if first_dts is None else first_dts
                    wall = segment.start_utc + float((packet.dts - first_dts) * stream.time_base)
                    if wall >= end_utc and (actual_start is not None or waiting):
                        break
                    if actual_start is None:
                        if packet.is_keyframe:
                            waiting = [(packet, wall)]
                        elif waiting:
                            waiting.append((packet, wall))
                        if wall + _seconds(packet, stream.time_base) <= start_utc or not waiting:
                            continue
                        actual_start = waiting[0][1]
                        batch, waiting = waiting, []
                    else:
                        batch = [(packet, wall)]
                    for item, item_wall in batch:
                        last_dts = _mux(
                            output, out_stream, item, item_wall, actual_start, time_base, last_dts
                        )
                        actual_end = item_wall + _seconds(item, stream.time_base)
                        written += 1
                    used_here = True
                if used_here:
                    used.append(segment)
            if on_bytes is not None:
                on_bytes(segment.bytes or 0)
            if actual_end is not None and actual_end >= end_utc:
                break
    except BaseException:
        output.close()
        _discard(out)
        raise
    output.close()
    if not written:
        _discard(out)
        raise NoRecordingError("no recorded frame in that span")
    return RemuxResult(actual_start, actual_end, written, tuple(used))


def _discard(out) -> None:
    if isinstance(out, Path):
        out.unlink(missing_ok=True)


def _seconds(packet, time_base) -> float:
    return float((packet.duration or 0) * time_base)


def _mux(output, out_stream, packet, wall: float, origin: float, time_base, last_dts):
    shift = packet.pts - packet.dts if packet.pts is not None else 0
    dts = round((wall - origin) / time_base)
    if last_dts is not None and dts <= last_dts:
        dts = last_dts + 1
    packet.dts, packet.pts = dts, dts + shift
    packet.stream = out_stream
    output.mux_one(packet)
    return dts


# -- HTTP serving: a cached fMP4 file with Range support -------------------------------------------------------
@dataclass(frozen=True)
class PlaybackFile:
    path: Path
    length: int
    actual_start_utc: float
    actual_end_utc: float


def playback_file(
    engine: Engine,
    recordings_dir: Path,
    cache_dir: Path,
    camera_id: str,
    start_utc: float,
    end_utc: float,
    *,
    audit: Callable[..., object] | None = None,
    actor: str | None = None,
    address: str | None = None,
) -> PlaybackFile:
    """The fMP4 (init segment + fragments, MSE-ready) of [start, end), cached by its sources' hashes."""
    if end_utc <= start_utc:
        raise UserError("the end of the span must come after its start")
    segments = segments_between(engine, camera_id, start_utc, end_utc)
    if not segments:
        raise NoRecordingError(f"no recording of {camera_id} in that span")
    key = hashlib.sha256(
        f"{camera_id}|{start_utc:.6f}|{end_utc:.6f}|{'|'.join(s.sha256 for s in segments)}".encode()
    ).hexdigest()[:32]
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"{key}.mp4"
    span_file = path.with_suffix(".span")
    if not path.exists() or not span_file.exists():
        partial = path.with_suffix(f".{id(segments)}.part")
        result = remux_span(recordings_dir, segments, start_utc, end_utc, partial, movflags=MSE_MOVFLAGS)
        span_file.write_text(f"{result.actual_start_utc!r} {result.actual_end_utc!r}")
        partial.replace(path)
    actual_start, actual_end = (float(x) for x in span_file.read_text().split())
    if audit is not None:
        audit(
            actor=actor or "unknown",
            action="playback",
            target=camera_id,
            detail={"from_utc": start_utc, "to_utc": end_utc},
            address=address,
        )
    return PlaybackFile(path, path.stat().st_size, actual_start, actual_end)


def prune_playback_cache(cache_dir: Path, max_bytes: int = 2 * 1024**3) -> int:
    """Delete the least recently used cached playback files beyond ``max_bytes``; returns files deleted."""
    cache_dir = Path(cache_dir)
    if not cache_dir.is_dir():
        return 0
    files = sorted(cache_dir.glob("*.mp4"), key=lambda p: p.stat().st_atime, reverse=True)
    kept = deleted = 0
    for path in files:
        size = path.stat().st_size
        if kept + size <= max_bytes:
            kept += size
            continue
        path.unlink(missing_ok=True)
        path.with_suffix(".span").unlink(missing_ok=True)
        deleted += 1
    return deleted


def parse_range(header: str | None, length: int) -> tuple[int, int] | None:
    """(first, last) byte, inclusive, of a single ``bytes=`` range; None for the whole file.

    Raises ValueError for a range that cannot be satisfied (HTTP 416).
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        return None  # not a range we serve: the whole file, as RFC 9110 allows
    first_text, _, last_text = spec.strip().partition("-")
    if not first_text:
        suffix = int(last_text)
        if suffix <= 0:
            raise ValueError("empty suffix range")
        return max(0, length - suffix), length - 1
    first = int(first_text)
    last = int(last_text) if last_text else length - 1
    if first >= length or last < first:
        raise ValueError(f"range {header!r} outside 0-{length - 1}")
    return first, min(last, length - 1)


def read_range(path: Path, first: int, last: int, chunk: int = READ_CHUNK) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        handle.seek(first)
        remaining = last - first + 1
        while remaining > 0:
            data = handle.read(min(chunk, remaining))
            if not data:
                return
            remaining -= len(data)
            yield data


# -- timeline ---------------------------------------------------------------------------------------------------
def timeline(engine: Engine, camera_id: str, day: date, zone: ZoneInfo, alarms: Sequence[dict] = ()) -> dict:
    """Segments, gaps with reasons, and alarms of one camera over one local day, for the timeline view.

    ``alarms`` are dicts with at least ``at_utc`` (epoch seconds); those of the day are kept.
    """
    checked_camera_id(camera_id)
    day_start = datetime.combine(day, time(0), zone).timestamp()
    day_end = datetime.combine(day + timedelta(days=1), time(0), zone).timestamp()
    with session_scope(engine) as session:
        segments = session.scalars(
            select(RecordingSegment)
            .where(
                RecordingSegment.camera_id == camera_id,
                RecordingSegment.status.in_(PLAYABLE),
                RecordingSegment.start_utc < day_end,
                RecordingSegment.end_utc > day_start,
            )
            .order_by(RecordingSegment.start_utc)
        ).all()
        gaps = session.scalars(
            select(RecordingGap)
            .where(
                RecordingGap.camera_id == camera_id,
                RecordingGap.start_utc < day_end,
                RecordingGap.end_utc > day_start,
            )
            .order_by(RecordingGap.start_utc)
        ).all()
    return {
        "camera_id": camera_id,
        "day": day.isoformat(),
        "timezone": zone.key,
        "start_utc": day_start,
        "end_utc": day_end,
        "segments": [
            {"start_utc": s.start_utc, "end_utc": s.end_utc, "status": s.status, "bytes": s.bytes}
            for s in segments
        ],
        "gaps": [{"start_utc": g.start_utc, "end_utc": g.end_utc, "reason": g.reason} for g in gaps],
        "alarms": sorted(
            (a for a in alarms if day_start <= float(a["at_utc"]) < day_end), key=lambda a: float(a["at_utc"])
        ),
    }
