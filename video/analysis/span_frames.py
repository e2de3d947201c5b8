"""A few frames of a recorded span, decoded from its segments: one per sampling window, cheapest first.

The span [start, end) is cut into windows of ``1 / sample_fps`` seconds. Each
window is served by one frame that lies in it: the one with the fewest frames
to decode before it (a keyframe costs one decode; a frame ``n`` after its keyframe
costs ``n + 1``). The packets of the span are demuxed first (cheap, no decode),
the choice is made, and then each group of pictures is decoded only as far as
its deepest chosen frame; the rest of every group is never decoded. Segments
are located through the index (:func:`watchwall.video.record.playback.segments_between`),
never the live stream.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import av

from watchwall.video.record.playback import SourceSegment
from watchwall.video.record.segments import inside_recordings


@dataclass(frozen=True)
class SampledFrame:
    wall_utc: float
    frame: av.VideoFrame


@dataclass
class SpanDecode:
    """What decoding cost: frames decoded, packets demuxed, the segments whose packets were used."""

    frames_decoded: int = 0
    packets_demuxed: int = 0
    segments_used: list[SourceSegment] = field(default_factory=list)


@dataclass
class _Entry:
    packet: av.Packet
    wall_utc: float
    depth: int  # frames to decode from the group's keyframe up to this one, minus one


@dataclass
class _Group:
    """One group of pictures (a keyframe and the packets after it) of one segment."""

    stream: av.video.stream.VideoStream
    entries: list[_Entry] = field(default_factory=list)
    chosen: set[int] = field(default_factory=set)  # depths of the frames kept


def window_count(start_utc: float, end_utc: float, sample_fps: float) -> int:
    return max(1, math.ceil((end_utc - start_utc) * sample_fps - 1e-9))


def sampled_frames(
    recordings_dir: Path,
    segments: Sequence[SourceSegment],
    start_utc: float,
    end_utc: float,
    sample_fps: float,
    cost: SpanDecode,
) -> Iterator[SampledFrame]:
    """The chosen frames of [start, end), oldest first; ``cost`` is filled in as they are decoded."""
    with ExitStack() as stack:
        groups = _demux(stack, recordings_dir, segments, start_utc, end_utc, cost)
        windows = window_count(start_utc, end_utc, sample_fps)
        best: dict[int, tuple[int, _Group, _Entry]] = {}
        for group in groups:
            for entry in group.entries:
                if not start_utc <= entry.wall_utc < end_utc:
                    continue
                window = min(windows - 1, int((entry.wall_utc - start_utc) * sample_fps))
                if window not in best or entry.depth < best[window][0]:
                    best[window] = (entry.depth, group, entry)
        for _depth, group, entry in best.values():
            group.chosen.add(entry.depth)
        for group in groups:
            yield from _decode_group(group, cost)


def _demux(stack: ExitStack, recordings_dir, segments, start_utc, end_utc, cost) -> list[_Group]:
    groups: list[_Group] = []
    for segment in segments:
        container = stack.enter_context(av.open(str(inside_recordings(recordings_dir, segment.path))))
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1  # frames come out in step with packets; cost stays on one core
        first_dts = None
        group: _Group | None = None
        used = False
        for packet in container.demux(stream):
            if packet.dts is None or not packet.size:
                continue
            cost.packets_demuxed += 1
            first_dts = packet.dts if first_dts is None else first_dts
            wall = segment.start_utc + float((packet.dts - first_dts) * stream.time_base)
            if wall >= end_utc:
                break
            if packet.is_keyframe:
                if wall <= start_utc:
                    groups.clear()  # all wholly before the span: memory stays a span's packets
                group = _Group(stream)
                groups.append(group)
            if group is None:
                continue  # no keyframe yet in this segment: undecodable
            group.entries.append(_Entry(packet, wall, len(group.entries)))
            used = used or wall >= start_utc
        if used:
            cost.segments_used.append(segment)
    return groups


def _decode_group(group: _Group, cost: SpanDecode) -> Iterator[SampledFrame]:
    if not group.chosen:
        return
    wanted = {group.entries[depth].packet.pts: group.entries[depth].wall_utc for depth in group.chosen}
    last = max(group.chosen)
    context = group.stream.codec_context
    for depth, entry in enumerate(group.entries):
        if depth > last and not wanted:
            break
        for frame in context.decode(entry.packet):
            cost.frames_decoded += 1
            wall = wanted.pop(frame.pts, None)
            if wall is not None:
                yield SampledFrame(wall, frame)
        if not wanted:
            break
