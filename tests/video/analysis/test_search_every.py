"""``search_every: 2``: in a stretch without a face every other sample is searched whole; a face seen
in two samples in a row is found and each frame with it counted, as with every sample searched."""

from __future__ import annotations

from fractions import Fraction

import av
import pytest
from skimage import data

from tests.video.analysis.face_media import _letterboxed, drifted, face_scene, index_as_segment
from watchwall.config.database import make_engine, upgrade
from watchwall.config.face_check_settings import FaceCheckSettings
from watchwall.video.analysis.face_detector import HaarFaceDetector
from watchwall.video.analysis.face_presence import RecordingLookup, check_span

T0 = 1_790_000_000.0
FPS = 15


class CountingDetector(HaarFaceDetector):
    """The real detector; counts its searches."""

    searches = 0

    def faces(self, grey, near=None):
        self.searches += 1
        return super().faces(grey, near=near)


def busy(width: int, height: int):
    """scikit-image's coffee photograph: textured, no face (the benchmark's busy room)."""
    return _letterboxed(data.coffee(), width, height, face_share=1.0)


@pytest.fixture(scope="module")
def lookup(tmp_path_factory):
    """One camera: 3 s of a busy room, 2 s of the astronaut's face, 3 s of the busy room again."""
    folder = tmp_path_factory.mktemp("search-every")
    url = f"sqlite:///{folder / 'check.db'}"
    upgrade(url)
    engine = make_engine(url)
    recordings = folder / "recordings"
    recordings.mkdir()
    room, face = busy(640, 360), face_scene(640, 360)
    clip = folder / "clip.h264"
    with av.open(str(clip), "w", format="h264") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        stream.options = {
            "preset": "ultrafast",
            "tune": "zerolatency",
            "x264-params": f"keyint={FPS}:min-keyint={FPS}:scenecut=0:bframes=0:repeat-headers=1",
        }
        for index in range(8 * FPS):
            scene = face if 3 * FPS <= index < 5 * FPS else room
            frame = av.VideoFrame.from_ndarray(drifted(scene, index), format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    index_as_segment(engine, recordings, "cam", clip, T0)
    yield RecordingLookup(engine, recordings)
    engine.dispose()


def test_every_other_sample_finds_and_counts_the_same_faces(lookup):
    results = {}
    for every in (1, 2):
        settings = FaceCheckSettings(search_every=every, still_difference=0)
        detector = CountingDetector.from_settings(settings)
        result = check_span(lookup, "cam", T0, T0 + 8, settings, detector=detector)
        results[every] = (result, detector.searches)
    (all_searched, searches_all), (halved, searches_halved) = results[1], results[2]
    assert all_searched.frames_sampled == halved.frames_sampled == 16
    assert all_searched.face_present and halved.face_present
    assert all_searched.frames_with_face >= 3  # the face's 2 s: 4 samples
    assert halved.frames_with_face == all_searched.frames_with_face
    assert searches_all == 16 and searches_halved < 13  # the busy room's samples: every other one
    assert halved.snapshot_jpeg is not None and T0 + 3 <= halved.snapshot_utc < T0 + 5
    # a room's sample left unsearched, half-way through its 1 s group of pictures, is never decoded
    assert halved.frames_decoded <= all_searched.frames_decoded - 5 * 8  # 5 such samples: 8 frames each


def test_a_busy_room_without_anyone_gives_no_face_either_way(lookup):
    for every in (1, 2):
        settings = FaceCheckSettings(search_every=every)
        result = check_span(lookup, "cam", T0, T0 + 3, settings)
        assert not result.face_present and result.frames_with_face == 0 and result.frames_sampled == 6
        assert result.snapshot_jpeg is not None
