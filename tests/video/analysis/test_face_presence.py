"""check_span on real recordings: a camera showing a face photograph, one showing an empty room."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from tests.video.analysis.face_cameras import FACE_CAMERA, ROOM_CAMERA
from watchwall.config.errors import UserError
from watchwall.config.face_check_settings import FaceCheckSettings
from watchwall.video.analysis.face_presence import NO_RECORDING, check_span, expected_samples, span_settled
from watchwall.video.record.playback import segments_between

pytestmark = [pytest.mark.rtsp, pytest.mark.slow]


def recorded_span(cameras, seconds: float = 6.0) -> tuple[float, float]:
    start = time.time() + 0.5
    end = start + seconds
    cameras.wait_recorded(end, timeout=seconds + 30)
    return start, end


def test_a_face_is_found_in_the_face_cameras_recording_and_none_in_the_empty_room(recorded_cameras):
    start, end = recorded_span(recorded_cameras)
    settings = FaceCheckSettings()
    face = check_span(recorded_cameras.lookup, FACE_CAMERA, start, end, settings)
    room = check_span(recorded_cameras.lookup, ROOM_CAMERA, start, end, settings)
    print(face.as_dict(), room.as_dict())
    wanted = expected_samples(start, end, settings)
    assert face.face_present and face.reason is None
    assert face.frames_sampled >= wanted - 1 and face.frames_with_face >= face.frames_sampled - 1
    assert not room.face_present and room.frames_with_face == 0 and room.reason is None
    assert room.frames_sampled >= wanted - 1
    # only the sampled frames and what they depend on were decoded: fewer than the span's 15 fps
    assert face.frames_decoded < (end - start) * 15
    # the hashes are the chain's hashes of the segments of the span, in order
    chain = [s.sha256 for s in segments_between(recorded_cameras.engine, FACE_CAMERA, start, end)]
    assert face.segment_hashes and set(face.segment_hashes) <= set(chain)
    assert face.segment_hashes == [h for h in chain if h in face.segment_hashes]
    # the snapshot is a real JPEG of the recorded picture, with the face in it
    picture = cv2.imdecode(np.frombuffer(face.snapshot_jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert picture.shape == (360, 640)
    assert start <= face.snapshot_utc < end
    assert room.snapshot_jpeg is not None  # the room as it was: nobody there


def test_min_frames_with_face_is_a_threshold(recorded_cameras):
    start, end = recorded_span(recorded_cameras, 6.0)
    strict = FaceCheckSettings(sample_fps=1.0, min_frames_with_face=50)
    result = check_span(recorded_cameras.lookup, FACE_CAMERA, start, end, strict)
    assert result.frames_with_face >= 2 and not result.face_present
    too_big = FaceCheckSettings(min_face_px=400)  # taller than the 320-px analysed picture
    assert check_span(recorded_cameras.lookup, FACE_CAMERA, start, end, too_big).frames_with_face == 0


def test_a_span_without_recording_is_no_recording_not_an_error(recorded_cameras):
    before = recorded_cameras.started_utc - 3600
    result = check_span(recorded_cameras.lookup, FACE_CAMERA, before, before + 30)
    assert not result.face_present and result.reason == NO_RECORDING
    assert result.frames_sampled == 0 and result.snapshot_jpeg is None and result.segment_hashes == []
    assert span_settled(recorded_cameras.lookup, FACE_CAMERA, before + 30)
    assert not span_settled(recorded_cameras.lookup, FACE_CAMERA, time.time() + 3600)
    with pytest.raises(UserError):
        check_span(recorded_cameras.lookup, FACE_CAMERA, before, before)
