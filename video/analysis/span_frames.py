"""A few frames of a recorded span, decoded from its segments: one per sampling window, cheapest first.

The span [start, end) is cut into windows of ``1 / sample_fps`` seconds. Each
window is served by one frame that lies in it: the one with the fewest frames
to decode before it (a keyframe costs one decode; a frame ``n`` after its keyframe
costs ``n + 1``). The packets of the span are demuxed first (cheap, no decode),
the choice is made, and then each group of pictures is decoded only as far
as the deepest chosen frame that is looked at: a chosen frame is decoded when its
``frame`` is first asked for, so a sample the caller never looks at costs nothing, and
the deepest one of a group saves the decode of every frame after the one before it.
The rest of every group is never decoded. Segments are located through the index
(:func:`watchwall.video.record.playback.segments_between`), never the live stream.

A decode budget (megapixels decoded per second of the span) bounds the plan before anything is
decoded: its cost is known exactly once the frames are chosen (per group of pictures, the deepest
chosen frame's depth + 1, times the picture's width x height). While it is over the budget the
deepest chosen frame is left out (the later group first among equals), but never a keyframe, nor the
cheapest frame of a floor window (one sample every ``floor_s`` seconds of the span, whatever the cost).
Windows left without a frame are not sampled.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import av

from watchwall.video.record.playback import SourceSegment
from watchwall.video.record.segments import inside_recordings


@dataclass
class SpanDecode:
    """What decoding cost: frames decoded, packets demuxed, the segments whose packets were used."""

    frames_decoded: int = 0
    packets_demuxed: int = 0
    segments_used: list[SourceSegment] = field(default_factory=list)
    plan_frames: int = 0  # frames the plan decodes if every chosen sample is read (after the budget)
    plan_mpix: float = 0.0  # the same in megapixels
    samples_over_budget: int = 0  # chosen samples the decode budget left out


@dataclass
class _Entry:
    packet: av.Packet
    wall_utc: float
    depth: int  # frames to decode from the group's keyframe up to this one, minus one


@dataclass
class _Group:
    """One group of pictures (a keyframe and the packets after it) of one segment, with its own decoder:
    a group whose deepest sample is left for later keeps its place while the next group is decoded."""

    codec: str
    extradata: bytes | None  # the parameter sets of an mp4 (avcC / hvcC) segment
    skip_deblocking: bool
    pixels: int  # width x height of the pictures (0 if the container does not say)
    entries: list[_Entry] = field(default_factory=list)
    chosen: set[int] = field(default_factory=set)  # depths of the frames kept
    context: av.CodecContext | None = None
    fed: int = 0  # entries given to the decoder so far
    ready: dict[int, av.VideoFrame] = field(default_factory=dict)  # chosen frames decoded, by pts

    def frame_at(self, depth: int, cost: SpanDecode) -> av.VideoFrame | None:
        """The chosen frame at ``depth``, decoding on from where the group's decoder stopped."""
        pts = self.entries[depth].packet.pts
        wanted = {self.entries[chosen].packet.pts for chosen in self.chosen}
        while pts not in self.ready and self.fed <= len(self.entries):
            if self.context is None:
                self.context = av.CodecContext.create(self.codec, "r")
                if self.skip_deblocking:
                    self.context.options = {"skip_loop_filter": "all"}
                self.context.extradata = self.extradata
                self.context.thread_count = 1  # frames come out in step with packets; cost stays on one core
            packet = self.entries[self.fed].packet if self.fed < len(self.entries) else None
            self.fed += 1  # past the last entry: the decoder is drained (frames it still holds)
            for frame in self.context.decode(packet):
                cost.frames_decoded += 1
                if frame.pts in wanted:
                    self.ready[frame.pts] = frame
        return self.ready.pop(pts, None)


class SampledFrame:
    """One chosen frame of the span; decoded when ``frame`` is first read."""

    def __init__(self, wall_utc: float, group: _Group, depth: int, cost: SpanDecode, saves: int) -> None:
        self.wall_utc = wall_utc
        self.skip_saves = saves  # frames never decoded if this sample's frame is never read
        self.next_skip_saves = 0  # the same for the sample after it (filled in before it is handed out)
        self._group: _Group | None = group
        self.depth = depth  # frames of its group of pictures decoded before it
        self._cost = cost
        self._frame: av.VideoFrame | None = None

    @property
    def frame(self) -> av.VideoFrame | None:
        """The picture; None if its packet gave no frame (a damaged recording)."""
        if self._group is not None:
            self._frame = self._group.frame_at(self.depth, self._cost)
            self._group = None  # the group's decoder is freed once no sample of it is waiting
        return self._frame

    @property
    def unreadable(self) -> bool:
        """Read, and its packet gave no frame."""
        return self._group is None and self._frame is None


def window_count(start_utc: float, end_utc: float, sample_fps: float) -> int:
    return max(1, math.ceil((end_utc - start_utc) * sample_fps - 1e-9))


def sampled_frames(
    recordings_dir: Path,
    segments: Sequence[SourceSegment],
    start_utc: float,
    end_utc: float,
    sample_fps: float,
    cost: SpanDecode,
    skip_deblocking_from: int | None = None,
    decode_budget_mpix_per_s: float | None = None,
    floor_s: float | None = None,
) -> Iterator[SampledFrame]:
    """The chosen frames of [start, end), oldest first; ``cost`` is filled in as frames are decoded.

    ``decode_budget_mpix_per_s``: the plan decodes at most this many megapixels per second of the
    span, keyframes and the floor (one sample every ``floor_s`` s) excepted; None: no budget.

    ``skip_deblocking_from``: pictures at least this tall are decoded without the codec's in-loop
    deblocking filter (about a fifth of an H.264 camera stream's decode): for a picture that is
    shrunk by 2 or more before it is looked at, where the filter's smoothing of block edges is
    averaged away (benchmarks/README.md, "Face presence").
    """
    with ExitStack() as stack:
        groups = _demux(stack, recordings_dir, segments, start_utc, end_utc, cost, skip_deblocking_from)
        _choose(groups, start_utc, end_utc, sample_fps)
        if decode_budget_mpix_per_s is not None:
            budget_pixels = decode_budget_mpix_per_s * 1e6 * (end_utc - start_utc)
            cost.samples_over_budget = fit_budget(groups, budget_pixels, start_utc, floor_s)
        cost.plan_frames = sum(plan_depth(group) for group in groups)
        cost.plan_mpix = sum(plan_depth(group) * group.pixels for group in groups) / 1e6
        samples = _samples(groups, cost)
        del groups  # a group lives only as long as a sample of it may still be read
        previous = next(samples, None)
        for sample in samples:
            previous.next_skip_saves = sample.skip_saves
            yield previous
            previous = sample
        if previous is not None:
            yield previous


def _choose(groups: list[_Group], start_utc: float, end_utc: float, sample_fps: float) -> None:
    windows = window_count(start_utc, end_utc, sample_fps)
    best: dict[int, tuple[int, _Group]] = {}
    for group in groups:
        for entry in group.entries:
            if not start_utc <= entry.wall_utc < end_utc:
                continue
            window = min(windows - 1, int((entry.wall_utc - start_utc) * sample_fps))
            if window not in best or entry.depth < best[window][0]:
                best[window] = (entry.depth, group)
    for depth, group in best.values():
        group.chosen.add(depth)


def plan_depth(group: _Group) -> int:
    """Frames of ``group`` decoded if each of its chosen samples is read."""
    return max(group.chosen) + 1 if group.chosen else 0


def fit_budget(groups: list[_Group], budget_pixels: float, start_utc: float, floor_s: float | None) -> int:
    """Leave chosen samples out, the deepest first, until the plan decodes at most ``budget_pixels``.

    Only a group's deepest chosen sample is ever left out (leaving out one below it saves nothing);
    among equal depths the later group's goes first. Never left out: a keyframe (depth 0), and in each
    floor window (``floor_s`` seconds from the span's start) the chosen sample with the fewest frames to
    decode (the earliest among equals), so a long group of pictures still gives one sample every
    ``floor_s`` s, over the budget if need be. Returns how many samples were left out.
    """
    kept: set[tuple[int, int]] = set()  # (group index, depth): the floor's samples
    if floor_s is not None:
        floor: dict[int, tuple[int, float, int]] = {}
        for index, group in enumerate(groups):
            for depth in group.chosen:
                wall = group.entries[depth].wall_utc
                window = int((wall - start_utc) // floor_s)
                if window not in floor or (depth, wall) < floor[window][:2]:
                    floor[window] = (depth, wall, index)
        kept = {(index, depth) for depth, _, index in floor.values()}
    cost = sum(plan_depth(group) * group.pixels for group in groups)
    candidates: list[tuple[int, int]] = []  # (-depth, -group index): the deepest, then the latest, first

    def offer(index: int) -> None:
        group = groups[index]
        if group.chosen and group.pixels:
            deepest = max(group.chosen)
            if deepest > 0 and (index, deepest) not in kept:
                heapq.heappush(candidates, (-deepest, -index))

    for index in range(len(groups)):
        offer(index)
    left_out = 0
    while cost > budget_pixels and candidates:
        depth, index = (-value for value in heapq.heappop(candidates))
        group = groups[index]
        group.chosen.discard(depth)
        cost -= (depth + 1 - plan_depth(group)) * group.pixels
        left_out += 1
        offer(index)
    return left_out


def _samples(groups: list[_Group], cost: SpanDecode) -> Iterator[SampledFrame]:
    groups.reverse()
    while groups:
        group = groups.pop()
        depths = sorted(group.chosen)
        for index, depth in enumerate(depths):
            # left unread, the group's deepest sample spares the frames after the one before it
            saves = depth - (depths[index - 1] if index else -1) if depth == depths[-1] else 0
            yield SampledFrame(group.entries[depth].wall_utc, group, depth, cost, saves)
        del group


def _demux(stack: ExitStack, recordings_dir, segments, start_utc, end_utc, cost, skip_from) -> list[_Group]:
    groups: list[_Group] = []
    for segment in segments:
        container = stack.enter_context(av.open(str(inside_recordings(recordings_dir, segment.path))))
        stream = container.streams.video[0]
        skip_deblocking = skip_from is not None and stream.codec_context.height >= skip_from
        pixels = stream.codec_context.width * stream.codec_context.height
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
                group = _Group(
                    stream.codec_context.name, stream.codec_context.extradata, skip_deblocking, pixels
                )
                groups.append(group)
            if group is None:
                continue  # no keyframe yet in this segment: undecodable
            group.entries.append(_Entry(packet, wall, len(group.entries)))
            used = used or wall >= start_utc
        if used:
            cost.segments_used.append(segment)
    return groups
