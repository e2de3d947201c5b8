"""The decode budget of the face check's sample plan: the deepest samples are left out first, never a
keyframe nor the floor's one sample every few seconds, and 640x360 plans are untouched by the default."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from tests.video.analysis.face_media import empty_room, index_as_segment, write_h264
from watchwall.config.database import make_engine, upgrade
from watchwall.config.face_check_settings import FaceCheckSettings
from watchwall.config.settings import SettingsError, get_settings, reset_settings_cache
from watchwall.video.analysis.face_presence import RecordingLookup, check_span
from watchwall.video.analysis.span_frames import SpanDecode, sampled_frames, window_count
from watchwall.video.record.playback import segments_between

T0 = 1_790_000_000.0
SPAN = (T0 + 1, T0 + 11)  # 10 s, starting half-way through a 2 s group of pictures
# camera: (width, height, fps, keyframe interval s, clip seconds)
CLIPS = {
    "hd25": (1920, 1080, 25, 2.0, 12),
    "sd15": (640, 360, 15, 1.0, 12),
    "sd25": (640, 360, 25, 2.0, 12),
    "sd25-long": (640, 360, 25, 8.0, 14),
}


@pytest.fixture(scope="module")
def lookup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("decode-budget")
    url = f"sqlite:///{folder / 'check.db'}"
    upgrade(url)
    engine = make_engine(url)
    recordings = folder / "recordings"
    recordings.mkdir()
    for camera, (width, height, fps, gop_s, seconds) in CLIPS.items():
        clip = write_h264(
            folder / f"{camera}.h264", empty_room(width, height), seconds, fps=fps, gop_s=gop_s, still=True
        )
        index_as_segment(engine, recordings, camera, clip, T0)
    yield RecordingLookup(engine, recordings)
    engine.dispose()


def plan(lookup, camera, budget=None, floor_s=None, span=SPAN, sample_fps=2.0, read=True):
    """(wall, depth) of each sample of the plan, and its cost; every sample's frame read if ``read``."""
    cost = SpanDecode()
    segments = segments_between(lookup.engine, camera, *span)
    samples = []
    for sample in sampled_frames(
        lookup.recordings_dir, segments, *span, sample_fps, cost,
        decode_budget_mpix_per_s=budget, floor_s=floor_s,
    ):  # fmt: skip
        if read:
            assert sample.frame is not None
        samples.append((round(sample.wall_utc - T0, 3), sample.depth))
    return samples, cost


def cheapest_per_window(fps: int, gop_s: float, span=SPAN, sample_fps=2.0):
    """Each sampling window's frame with the fewest frames to decode, worked out from the clip's cadence."""
    gop = round(fps * gop_s)
    best: dict[int, tuple[int, float]] = {}
    for index in range(round((span[1] - T0) * fps) + 1):
        wall = T0 + index / fps
        if span[0] <= wall < span[1]:
            window = int((wall - span[0]) * sample_fps + 1e-9)
            if window not in best or index % gop < best[window][0]:
                best[window] = (index % gop, round(wall - T0, 3))
    return sorted((wall, depth) for depth, wall in best.values())


def test_without_a_budget_every_window_has_its_cheapest_frame(lookup):
    samples, cost = plan(lookup, "hd25")
    assert samples == cheapest_per_window(25, 2.0)
    assert len(samples) == window_count(*SPAN, 2.0) == 20
    assert cost.samples_over_budget == 0
    assert cost.frames_decoded == cost.plan_frames == 39 + 4 * 39 + 14  # each group up to its deepest


def test_the_budget_leaves_out_the_deepest_samples_first_and_never_a_keyframe(lookup):
    full, _ = plan(lookup, "hd25", read=False)
    budget = 13.0
    samples, cost = plan(lookup, "hd25", budget=budget)
    left_out = sorted(set(full) - set(samples))
    assert cost.samples_over_budget == len(left_out) > 0 and set(samples) <= set(full)
    assert {s for s in full if s[1] == 0} <= set(samples)  # every keyframe kept
    assert min(depth for _, depth in left_out) >= max(depth for _, depth in samples)
    # what the plan said is what was decoded, reading every sample, and within the budget
    pixels = 1920 * 1080
    assert cost.frames_decoded == cost.plan_frames
    assert cost.frames_decoded * pixels <= budget * 1e6 * (SPAN[1] - SPAN[0])
    assert cost.plan_mpix == pytest.approx(cost.plan_frames * pixels / 1e6)
    # at 13 MP/s a 2 s group of 1080p keeps its keyframe and its sample half a second in (depth 13)
    assert {depth for _, depth in samples} == {0, 13}


def test_among_equal_depths_the_later_groups_sample_goes_first(lookup):
    # groups of the span: 0 s (only its depths 25 and 38 are in it), 2-8 s (0, 13, 25, 38), 10 s (0, 13).
    # Without the 38s and the 25s the plan decodes 4 x 14 + 14 = 70 frames; a budget of 60 frames
    # leaves out one depth-13 sample more: the last group's
    budget = 60 * 1920 * 1080 / 1e6 / (SPAN[1] - SPAN[0])
    samples, cost = plan(lookup, "hd25", budget=budget)
    assert cost.frames_decoded == cost.plan_frames == 4 * 14 + 1
    assert samples == [(2.0, 0), (2.52, 13), (4.0, 0), (4.52, 13), (6.0, 0), (6.52, 13),
                       (8.0, 0), (8.52, 13), (10.0, 0)]  # fmt: skip
    assert plan(lookup, "hd25", budget=budget, read=False)[0] == samples  # the same every time


@pytest.mark.parametrize("camera", ["sd15", "sd25", "sd25-long"])
def test_the_default_budget_leaves_640x360_plans_as_they_were(lookup, camera):
    settings = FaceCheckSettings()
    for sample_fps in (settings.sample_fps, 10.0):  # the default rate, and the highest allowed
        budgeted, cost = plan(
            lookup, camera, settings.decode_budget_mpix_per_s, settings.decode_floor_s, sample_fps=sample_fps,
            read=False,
        )  # fmt: skip
        assert budgeted == plan(lookup, camera, sample_fps=sample_fps, read=False)[0]
        assert cost.samples_over_budget == 0


def test_a_long_group_of_pictures_keeps_one_sample_every_floor_window(lookup):
    # a keyframe every 8 s: the span [1 s, 13 s) holds one keyframe (8 s); its other samples are up to
    # 187 frames deep. With a budget that allows next to nothing:
    span = (T0 + 1, T0 + 13)
    without_floor, _ = plan(lookup, "sd25-long", budget=0.01, span=span)
    assert without_floor == [(8.0, 0)]  # one sample in 12 s: never 2 frames with a face
    samples, cost = plan(lookup, "sd25-long", budget=0.01, floor_s=3.0, span=span)
    for window in range(4):  # [1, 4), [4, 7), [7, 10), [10, 13): the cheapest of each is kept
        assert any(1 + 3 * window <= wall < 4 + 3 * window for wall, _ in samples)
    assert (1.0, 25) in samples and (4.0, 100) in samples and (8.0, 0) in samples and (10.0, 50) in samples
    # nothing deeper than a group's floor sample is decoded; the samples before it come free
    assert max(depth for wall, depth in samples if wall < 8) == 100
    assert max(depth for wall, depth in samples if wall >= 8) == 50
    assert cost.frames_decoded == cost.plan_frames == 101 + 51


def test_check_span_decodes_within_the_default_budget_and_says_what_it_left_out(lookup):
    settings = FaceCheckSettings(search_every=1)  # every sample read: the plan's whole cost
    result = check_span(lookup, "hd25", *SPAN, settings)
    assert result.frames_decoded * 1920 * 1080 <= settings.decode_budget_mpix_per_s * 1e6 * (
        SPAN[1] - SPAN[0]
    )
    assert result.samples_over_budget == 20 - result.frames_sampled > 0
    assert result.as_dict()["samples_over_budget"] == result.samples_over_budget
    unbudgeted = check_span(
        lookup, "hd25", *SPAN, settings.model_copy(update={"decode_budget_mpix_per_s": None})
    )
    assert unbudgeted.frames_sampled == 20 and unbudgeted.samples_over_budget == 0
    assert unbudgeted.frames_decoded == 209


@pytest.mark.parametrize(
    "values", [{"decode_budget_mpix_per_s": 0}, {"decode_budget_mpix_per_s": -3}, {"decode_floor_s": 0}]
)
def test_bad_budget_settings_are_refused_with_the_field_named(values, monkeypatch, tmp_path):
    with pytest.raises(ValidationError) as caught:
        FaceCheckSettings(**values)
    assert next(iter(values)) in str(caught.value)
    monkeypatch.delenv("WATCHWALL_CONFIG", raising=False)
    monkeypatch.setenv("WATCHWALL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WATCHWALL_FACE_CHECK", json.dumps(values))
    reset_settings_cache()
    try:
        with pytest.raises(
            SettingsError, match=f"field face_check.{next(iter(values))}: Input should be greater"
        ):
            get_settings()
    finally:
        reset_settings_cache()


def test_no_budget_and_no_floor_are_settings():
    settings = FaceCheckSettings(decode_budget_mpix_per_s=None, decode_floor_s=None)
    assert settings.decode_budget_mpix_per_s is None and settings.decode_floor_s is None
    with pytest.raises(ValidationError, match="decode_budget_mpix_per_s"):
        FaceCheckSettings(decode_budget_mpix_per_s="plenty")
