"""Health analytics on synthetic grey frames, and no false alarm on the demo clips."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from watchwall.config.site import DemoSource
from watchwall.video.ingest.analytics import (
    HealthDetector,
    Hysteresis,
    Thresholds,
    brightness,
    changed_pixels,
    edge_structure,
    sharpness,
    structure_similarity,
)
from watchwall.video.ingest.demo_source import ensure_demo_clip

WIDTH, HEIGHT = 640, 360


def textured_scene(seed: int = 7) -> np.ndarray:
    """A still 'room': random rectangles and lines on a mid-grey background."""
    rng = np.random.default_rng(seed)
    scene = np.full((HEIGHT, WIDTH), 120, np.uint8)
    for _ in range(40):
        x, y = int(rng.integers(0, WIDTH - 40)), int(rng.integers(0, HEIGHT - 40))
        w, h = int(rng.integers(15, 120)), int(rng.integers(15, 90))
        cv2.rectangle(scene, (x, y), (x + w, y + h), int(rng.integers(20, 235)), -1)
    for _ in range(25):
        points = rng.integers(0, [WIDTH, HEIGHT, WIDTH, HEIGHT])
        cv2.line(
            scene,
            (int(points[0]), int(points[1])),
            (int(points[2]), int(points[3])),
            int(rng.integers(0, 255)),
            2,
        )
    return scene


def with_osd(picture: np.ndarray, index: int) -> np.ndarray:
    """The camera's on-screen text: a name and a running clock, as a camera burns them in."""
    picture = picture.copy()
    cv2.putText(picture, "gangu-checkin-1", (10, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 255, 1, cv2.LINE_AA)
    clock = f"2026-11-26 10:{index // 60 % 60:02d}:{index % 60:02d}"
    cv2.putText(picture, clock, (10, HEIGHT - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 255, 1, cv2.LINE_AA)
    return picture


def normal(index: int, scene: np.ndarray | None = None) -> np.ndarray:
    """The scene with a person-sized blob walking across it, and the OSD."""
    picture = (textured_scene() if scene is None else scene).copy()
    x = 60 + (index * 37) % (WIDTH - 120)
    cv2.rectangle(picture, (x, 150), (x + 40, 300), 60, -1)
    cv2.circle(picture, (x + 20, 130), 20, 200, -1)
    return with_osd(picture, index)


def run(
    detector: HealthDetector, frames, start_index: int = 0, interval_s: float = 5.0
) -> list[tuple[int, str, bool]]:
    """Feed frames as keyframes interval_s apart; return (index, kind, active) of each change."""
    changes = []
    for offset, frame in enumerate(frames):
        index = start_index + offset
        for change in detector.observe(frame, at=1_700_000_000.0 + index * interval_s):
            changes.append((index, change.kind, change.active))
    return changes


def test_a_normal_moving_scene_raises_nothing():
    detector = HealthDetector()
    assert run(detector, [normal(i) for i in range(40)]) == []
    assert detector.active == set()


def test_a_still_room_with_a_running_clock_is_not_frozen():
    detector = HealthDetector()
    still = textured_scene()
    assert run(detector, [with_osd(still, i * 5) for i in range(30)]) == []


def test_covered_lens_with_osd_still_showing_is_raised_then_cleared():
    detector = HealthDetector()
    black = np.full((HEIGHT, WIDTH), 8, np.uint8)
    frames = (
        [normal(i) for i in range(5)]
        + [with_osd(black, i) for i in range(5, 10)]
        + [normal(i) for i in range(10, 15)]
    )
    assert run(detector, frames) == [(6, "covered", True), (11, "covered", False)]


def test_paper_over_the_lens_counts_as_covered_at_any_brightness():
    detector = HealthDetector()
    paper = np.full((HEIGHT, WIDTH), 215, np.uint8)
    changes = run(detector, [normal(i) for i in range(4)] + [with_osd(paper, i) for i in range(4, 8)])
    assert changes == [(5, "covered", True)]


def test_a_single_dark_keyframe_raises_nothing():
    detector = HealthDetector()
    black = np.zeros((HEIGHT, WIDTH), np.uint8)
    frames = [normal(i) for i in range(5)] + [black] + [normal(i) for i in range(6, 12)]
    assert run(detector, frames) == []


def test_defocus_is_measured_against_the_learned_baseline_and_clears_when_sharp_again():
    detector = HealthDetector()
    blurred_scene = cv2.GaussianBlur(textured_scene(), (0, 0), 5)
    frames = [normal(i) for i in range(6)]
    frames += [normal(i, scene=blurred_scene) for i in range(6, 11)]  # the OSD stays sharp, as on a camera
    frames += [normal(i) for i in range(11, 16)]
    assert run(detector, frames) == [(7, "defocus", True), (12, "defocus", False)]
    assert detector.baseline_sharpness is not None


def test_a_scene_that_is_simply_soft_is_not_a_defocus():
    detector = HealthDetector()
    soft = cv2.GaussianBlur(textured_scene(), (0, 0), 3)
    assert run(detector, [normal(i, scene=soft) for i in range(20)]) == []


def test_frozen_needs_enough_identical_keyframes_and_enough_time():
    thresholds = Thresholds(frozen_min_frames=4, frozen_min_seconds=15.0)
    stuck = normal(3)
    # One second apart: identical since keyframe 3, raised 15 s later, long after the fourth.
    quick = HealthDetector(thresholds)
    assert run(quick, [normal(i) for i in range(3)] + [stuck] * 10, interval_s=1.0) == []
    assert run(quick, [stuck] * 10, start_index=13, interval_s=1.0) == [(18, "frozen", True)]
    # Five seconds apart: raised on the fourth identical keyframe (15 s after the first).
    slow = HealthDetector(thresholds)
    frames = [normal(i) for i in range(3)] + [stuck] * 6 + [normal(i) for i in range(9, 14)]
    assert run(slow, frames) == [(6, "frozen", True), (10, "frozen", False)]


def test_moved_camera_is_raised_after_it_persists_and_cleared_when_aimed_back():
    detector = HealthDetector()
    turned = np.roll(textured_scene(), (40, 160), axis=(0, 1))
    frames = [normal(i) for i in range(5)]
    frames += [with_osd(turned, i) for i in range(5, 12)]  # the OSD does not move with the view
    frames += [normal(i) for i in range(12, 18)]
    assert run(detector, frames) == [(7, "moved", True), (13, "moved", False)]


def test_a_view_moved_for_good_becomes_the_new_reference():
    detector = HealthDetector(Thresholds(moved_relearn_s=60.0))
    turned = np.roll(textured_scene(), (40, 160), axis=(0, 1))
    frames = [normal(i) for i in range(5)] + [normal(i, scene=turned) for i in range(5, 30)]
    changes = run(detector, frames)
    assert changes == [(7, "moved", True), (19, "moved", False)]
    assert run(detector, [normal(i, scene=turned) for i in range(30, 40)], start_index=30) == []


def test_covered_suppresses_the_other_alarms():
    detector = HealthDetector()
    black = np.full((HEIGHT, WIDTH), 5, np.uint8)
    changes = run(detector, [normal(i) for i in range(5)] + [black] * 12)
    assert changes == [(6, "covered", True)]


def test_hysteresis_raises_and_clears_only_after_runs():
    alarm = Hysteresis(raise_after=2, clear_after=3)
    assert [alarm.update(c) for c in (True, False, True, True, False, False, True, False, False, False)] == [
        None,
        None,
        None,
        True,
        None,
        None,
        None,
        None,
        None,
        False,
    ]


def test_measures_behave_as_documented():
    scene = normal(0)
    median, spread = brightness(with_osd(np.zeros((HEIGHT, WIDTH), np.uint8), 0))
    assert median == 0 and spread == 0, "a little on-screen text does not make a black picture textured"
    assert sharpness(scene) > 5 * sharpness(cv2.GaussianBlur(scene, (0, 0), 4))
    assert changed_pixels(scene, scene.copy(), 16) == 0
    assert changed_pixels(scene, normal(1), 16) > 100
    assert structure_similarity(edge_structure(scene), edge_structure(scene)) == pytest.approx(1.0)
    assert structure_similarity(edge_structure(scene), edge_structure(normal(5))) > 0.8
    assert structure_similarity(edge_structure(scene), edge_structure(np.roll(scene, 160, axis=1))) < 0.3


@pytest.mark.parametrize("pattern", ["room", "bars", "counter"])
def test_no_false_alarm_on_the_demo_clips(tmp_path, pattern):
    path = ensure_demo_clip(
        f"demo-{pattern}", DemoSource(pattern=pattern), f"demo-{pattern} Check-in room", tmp_path
    )
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"
        keyframes = [frame.to_ndarray(format="gray") for frame in container.decode(stream)]
    assert len(keyframes) == 5
    detector = HealthDetector()
    # Six loops of the clip, one keyframe every 2 s as the reader would deliver them.
    assert run(detector, keyframes * 6, interval_s=2.0) == []
