"""A still picture gets the last answer without a new search; a changed one, or the setting 0, does not."""

from __future__ import annotations

import cv2
import numpy as np

from tests.video.analysis.face_media import drifted, empty_room, face_scene
from watchwall.video.analysis.face_detector import Face, HaarFaceDetector
from watchwall.video.analysis.face_presence import StillPicture


def grey(scene: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(scene, cv2.COLOR_RGB2GRAY)


def test_the_same_picture_with_sensor_noise_takes_the_last_answer():
    room = grey(empty_room(640, 360))
    still = StillPicture(1.5)
    assert still.answer(room) is None  # nothing analysed yet
    still.remember([])
    noise = np.random.default_rng(7).integers(-3, 4, room.shape)
    noisy = np.clip(room.astype(int) + noise, 0, 255).astype(np.uint8)
    assert still.answer(noisy) == [] and still.reused == 1


def test_a_changed_picture_is_searched_again_and_the_answer_is_the_detectors():
    detector = HaarFaceDetector(min_face_px=32, analysis_height=320)
    face = grey(face_scene(640, 360))
    still = StillPicture(1.5)
    assert still.answer(grey(empty_room(640, 360))) is None
    still.remember([])
    assert still.answer(face) is None  # someone stepped in: a new search
    found = detector.faces(face)
    assert found and isinstance(found[0], Face)
    still.remember(found)
    assert still.answer(face) == found
    assert still.answer(grey(drifted(face_scene(640, 360), 12))) is None  # moved by 6 px: searched again
    off = StillPicture(0)
    off.remember(found)
    assert off.answer(face) is None
