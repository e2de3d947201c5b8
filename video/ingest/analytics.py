"""Camera health and tamper analytics on decoded keyframes (grey numpy arrays).

Four alarm kinds, each with hysteresis (raised once its condition has held
for a few keyframes, cleared once it has been gone for a few):

- ``covered``: lens covered or picture black: dark and featureless, or featureless at any brightness.
- ``defocus``: the picture's sharpness fell far below the baseline learned from this camera.
- ``frozen``: keyframes stay identical (within a tolerance) for several keyframes and some time.
  A still room with a running clock overlay is not frozen: the clock's digits change.
- ``moved``: the structure of the scene (its edges) no longer matches the reference view.

Camera on-screen text stays sharp and in place when the lens is blurred or the
camera turned, so sharpness is taken from the scene's textured blocks by a
percentile rather than from the whole frame, and the structure comparison
weights every block alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from watchwall.video.state.events import TAMPER_ALARMS

KINDS = TAMPER_ALARMS


@dataclass(frozen=True)
class Thresholds:
    # Every frame is scaled to this width first, so thresholds hold for any camera resolution.
    analysis_width: int = 320
    # covered: grey-level spread (5th to 95th percentile, so on-screen text does not count) below
    # covered_spread with a dark median (below covered_median), or below uniform_spread at any
    # brightness (a hand or paper over the lens).
    covered_median: float = 40.0
    covered_spread: float = 24.0
    uniform_spread: float = 10.0
    # defocus: sharpness below defocus_ratio x the baseline (the median of the first
    # baseline_frames healthy keyframes, then followed slowly with weight baseline_follow).
    defocus_ratio: float = 0.35
    baseline_frames: int = 3
    baseline_follow: float = 0.05
    sharpness_grid: int = 6
    sharpness_percentile: float = 70.0
    # frozen: two keyframes are identical when fewer than frozen_max_changed_pixels pixels
    # (after a light blur against compression noise) differ by more than pixel_tolerance grey levels;
    # raised after frozen_min_frames identical keyframes spanning at least frozen_min_seconds.
    pixel_tolerance: int = 16
    frozen_max_changed_pixels: int = 4
    frozen_min_frames: int = 4
    frozen_min_seconds: float = 15.0
    # moved: block-wise correlation of blurred edge maps with the reference view below moved_similarity,
    # for moved_raise_after keyframes. After moved_relearn_s of a steady new view it becomes the reference.
    moved_similarity: float = 0.45
    moved_raise_after: int = 3
    moved_relearn_s: float = 600.0
    # hysteresis for all kinds: keyframes a condition must hold to raise, and be absent to clear.
    raise_after: int = 2
    clear_after: int = 2


@dataclass(frozen=True)
class AlarmChange:
    kind: str
    active: bool
    at: float  # the keyframe's time (seconds, the caller's clock)
    detail: dict = field(default_factory=dict)


def to_analysis_size(grey: np.ndarray, width: int) -> np.ndarray:
    if grey.ndim != 2:
        raise ValueError(f"expected a 2-D grey frame, got shape {grey.shape}")
    height = max(1, round(grey.shape[0] * width / grey.shape[1]))
    if grey.shape[1] == width:
        return grey
    return cv2.resize(grey, (width, height), interpolation=cv2.INTER_AREA)


def brightness(grey: np.ndarray) -> tuple[float, float]:
    """Median grey level and spread (5th to 95th percentile), blind to small on-screen text."""
    histogram = cv2.calcHist([grey], [0], None, [256], [0, 256]).ravel()
    cumulative = np.cumsum(histogram) / max(1.0, float(histogram.sum()))
    low, median, high = (int(np.searchsorted(cumulative, q)) for q in (0.05, 0.5, 0.95))
    return float(median), float(high - low)


def grid_blocks(image: np.ndarray, grid: int) -> np.ndarray:
    """The image cut into ``grid`` x ``grid`` equal blocks, one block a row (edge remainders dropped).

    One reshape instead of a Python loop over blocks: analytics run on every sampled
    keyframe of every camera, so their cost is the cost of monitoring.
    """
    height, width = image.shape
    block_height, block_width = height // grid, width // grid
    cropped = image[: block_height * grid, : block_width * grid]
    return cropped.reshape(grid, block_height, grid, block_width).swapaxes(1, 2).reshape(grid * grid, -1)


def sharpness(grey: np.ndarray, grid: int = 6, percentile: float = 70.0) -> float:
    """Variance of the Laplacian per block of a grid, taken at a percentile over the blocks."""
    laplacian = cv2.Laplacian(grey, cv2.CV_32F, ksize=3)
    return float(np.percentile(grid_blocks(laplacian, grid).var(axis=1), percentile))


def changed_pixels(previous: np.ndarray, current: np.ndarray, tolerance: int) -> int:
    """How many pixels differ by more than ``tolerance`` once compression noise is blurred away."""
    difference = cv2.absdiff(cv2.GaussianBlur(previous, (3, 3), 0), cv2.GaussianBlur(current, (3, 3), 0))
    return int(np.count_nonzero(difference > tolerance))


def edge_structure(grey: np.ndarray) -> np.ndarray:
    """The scene's edges, blurred so that small motion and noise change them little."""
    edges = cv2.Canny(cv2.GaussianBlur(grey, (5, 5), 0), 50, 150).astype(np.float32)
    return cv2.GaussianBlur(edges, (0, 0), sigmaX=max(2.0, grey.shape[1] / 80))


def structure_similarity(reference: np.ndarray, current: np.ndarray, grid: int = 6) -> float:
    """Median over grid blocks of the correlation (-1..1) of two :func:`edge_structure` maps.

    Blocks without edges in either map (a bare wall) are left out; a block with
    edges in one map only counts as 0. The median ignores the few blocks that
    on-screen text or a passer-by dominate.
    """
    if reference.shape != current.shape:
        return 0.0
    floor = 1e-3 * max(float(reference.max()), float(current.max()), 1.0)
    a = grid_blocks(reference, grid).astype(np.float32, copy=False)
    b = grid_blocks(current, grid).astype(np.float32, copy=False)
    a_energy, b_energy = a.std(axis=1), b.std(axis=1)
    a_flat, b_flat = a_energy < floor, b_energy < floor
    counted = ~(a_flat & b_flat)
    if not counted.any():
        return 1.0
    both = ~a_flat & ~b_flat
    covariance = ((a - a.mean(axis=1, keepdims=True)) * (b - b.mean(axis=1, keepdims=True))).mean(axis=1)
    scores = np.zeros(len(a))
    scores[both] = covariance[both] / (a_energy[both] * b_energy[both])
    return float(np.median(scores[counted]))


class Hysteresis:
    """Raise after ``raise_after`` consecutive hits, clear after ``clear_after`` consecutive misses."""

    def __init__(self, raise_after: int, clear_after: int) -> None:
        self.raise_after = raise_after
        self.clear_after = clear_after
        self.active = False
        self._run = 0

    def update(self, condition: bool) -> bool | None:
        """True when this update raises the alarm, False when it clears it, None otherwise."""
        if condition == self.active:
            self._run = 0
            return None
        self._run += 1
        if self._run >= (self.clear_after if self.active else self.raise_after):
            self.active = condition
            self._run = 0
            return condition
        return None

    def force_clear(self) -> None:
        self.active = False
        self._run = 0


class HealthDetector:
    """Watches one camera's keyframes; :meth:`observe` returns the alarms raised or cleared."""

    def __init__(self, thresholds: Thresholds | None = None) -> None:
        self.thresholds = t = thresholds or Thresholds()
        self._alarms = {
            "covered": Hysteresis(t.raise_after, t.clear_after),
            "defocus": Hysteresis(t.raise_after, t.clear_after),
            "frozen": Hysteresis(1, t.clear_after),  # its condition already requires persistence
            "moved": Hysteresis(t.moved_raise_after, t.clear_after),
        }
        self._learning: list[float] = []
        self.baseline_sharpness: float | None = None
        self._reference: np.ndarray | None = None
        self._previous: np.ndarray | None = None
        self._identical_since: float | None = None
        self._identical_frames = 0
        self._moved_since: float | None = None
        self.last: dict[str, float] = {}

    @property
    def active(self) -> set[str]:
        return {kind for kind, alarm in self._alarms.items() if alarm.active}

    def observe(self, grey: np.ndarray, at: float) -> list[AlarmChange]:
        t = self.thresholds
        frame = to_analysis_size(grey, t.analysis_width)
        median, spread = brightness(frame)
        covered = spread < t.uniform_spread or (spread < t.covered_spread and median < t.covered_median)
        self.last = {"median": median, "spread": spread}
        changes = self._update("covered", covered, at, dict(self.last))
        frozen = self._frozen_condition(frame, at, covered)
        changes += self._update("frozen", frozen, at, {"identical_frames": self._identical_frames})
        if covered:  # a covered lens says nothing about focus or aim; hold those alarms as they are
            return changes
        defocus_changes, blurred = self._check_defocus(frame, at)
        changes += defocus_changes
        if not blurred:  # a blurred picture has lost the edges that tell where the camera points
            changes += self._check_moved(frame, at)
        return changes

    def _update(self, kind: str, condition: bool, at: float, detail: dict) -> list[AlarmChange]:
        transition = self._alarms[kind].update(condition)
        if transition is None:
            return []
        return [AlarmChange(kind, transition, at, detail)]

    def _frozen_condition(self, frame: np.ndarray, at: float, covered: bool) -> bool:
        t = self.thresholds
        previous, self._previous = self._previous, frame
        identical = (
            not covered
            and previous is not None
            and previous.shape == frame.shape
            and changed_pixels(previous, frame, t.pixel_tolerance) < t.frozen_max_changed_pixels
        )
        if not identical:
            self._identical_since, self._identical_frames = at, 1
            return False
        self._identical_frames += 1
        held_s = at - (self._identical_since if self._identical_since is not None else at)
        self.last["identical_s"] = round(held_s, 1)
        return self._identical_frames >= t.frozen_min_frames and held_s >= t.frozen_min_seconds

    def _check_defocus(self, frame: np.ndarray, at: float) -> tuple[list[AlarmChange], bool]:
        """The alarm changes, and whether this frame is blurred compared with the baseline."""
        t = self.thresholds
        value = sharpness(frame, t.sharpness_grid, t.sharpness_percentile)
        self.last["sharpness"] = round(value, 1)
        if self.baseline_sharpness is None:
            self._learning.append(value)
            if len(self._learning) >= t.baseline_frames:
                self.baseline_sharpness = float(np.median(self._learning))
            return [], False
        blurred = value < t.defocus_ratio * self.baseline_sharpness
        detail = {"sharpness": round(value, 1), "baseline": round(self.baseline_sharpness, 1)}
        changes = self._update("defocus", blurred, at, detail)
        if not blurred and not self._alarms["defocus"].active:
            self.baseline_sharpness += t.baseline_follow * (value - self.baseline_sharpness)
        return changes, blurred

    def _check_moved(self, frame: np.ndarray, at: float) -> list[AlarmChange]:
        t = self.thresholds
        structure = edge_structure(frame)
        if self._reference is None:
            self._reference = structure
            return []
        similarity = structure_similarity(self._reference, structure)
        self.last["similarity"] = round(similarity, 3)
        changes = self._update(
            "moved", similarity < t.moved_similarity, at, {"similarity": round(similarity, 3)}
        )
        alarm = self._alarms["moved"]
        if not alarm.active:
            self._moved_since = None
        elif self._moved_since is None:
            self._moved_since = at
        elif at - self._moved_since >= t.moved_relearn_s:
            # The camera has been re-aimed for good: its new view becomes the reference.
            self._reference, self._moved_since = structure, None
            alarm.force_clear()
            changes.append(
                AlarmChange("moved", False, at, {"similarity": round(similarity, 3), "relearned": True})
            )
        return changes
