"""Test pictures for the face check: a real face photograph shipped by scikit-image, and an empty room.

``data.astronaut()`` (a NASA portrait, public domain, in scikit-image's wheel) is
letterboxed into the frame (never stretched: a Haar cascade needs the face's own
aspect) and drifts a few pixels per frame, as a person in front of a camera does.
The empty room is a plain synthetic scene: walls, floor, a door and a table, drifting
the same way. Both are encoded with PyAV's libx264 into a raw H.264 (Annex-B)
file that the GStreamer RTSP test server plays in a loop (its ``file:`` mount).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from skimage import data

DRIFT_PX = 6  # how far the picture wanders from its place, each way


def _letterboxed(picture: np.ndarray, width: int, height: int, face_share: float) -> np.ndarray:
    """``picture`` scaled (aspect kept) to ``face_share`` of the frame's height, on a grey wall."""
    side = round(height * face_share)
    scaled = cv2.resize(
        picture, (side * picture.shape[1] // picture.shape[0], side), interpolation=cv2.INTER_AREA
    )
    canvas = np.full((height, width, 3), (118, 112, 104), np.uint8)
    top, left = (height - scaled.shape[0]) // 2, (width - scaled.shape[1]) // 2
    canvas[top : top + scaled.shape[0], left : left + scaled.shape[1]] = scaled
    return canvas


def face_scene(width: int, height: int) -> np.ndarray:
    return _letterboxed(data.astronaut(), width, height, face_share=0.9)


def empty_room(width: int, height: int) -> np.ndarray:
    room = np.zeros((height, width, 3), np.uint8)
    floor_y = round(height * 0.68)
    room[:floor_y] = (196, 188, 170)  # wall
    room[floor_y:] = (120, 96, 72)  # floor
    door = (round(width * 0.08), round(height * 0.18), round(width * 0.2), floor_y)
    cv2.rectangle(room, door[:2], door[2:], (90, 70, 52), -1)
    cv2.circle(
        room, (door[2] - round(width * 0.02), round(height * 0.45)), max(2, width // 200), (200, 180, 60), -1
    )
    table = (round(width * 0.45), round(height * 0.55), round(width * 0.85), round(height * 0.62))
    cv2.rectangle(room, table[:2], table[2:], (70, 52, 40), -1)
    for x in (table[0] + width // 50, table[2] - width // 50):
        cv2.line(room, (x, table[3]), (x, round(height * 0.8)), (60, 45, 35), max(2, width // 160))
    cv2.rectangle(
        room,
        (round(width * 0.55), round(height * 0.12)),
        (round(width * 0.8), round(height * 0.35)),
        (230, 230, 225),
        -1,
    )
    return room


def drifted(scene: np.ndarray, index: int) -> np.ndarray:
    """``scene`` moved by a small circular drift (frame ``index``), edges repeated."""
    angle = index * 2 * np.pi / 48
    shift = np.float32([[1, 0, DRIFT_PX * np.cos(angle)], [0, 1, DRIFT_PX * np.sin(angle)]])
    return cv2.warpAffine(scene, shift, (scene.shape[1], scene.shape[0]), borderMode=cv2.BORDER_REPLICATE)


def write_h264(
    path: Path,
    scene: np.ndarray,
    seconds: float,
    fps: int = 15,
    gop_s: float = 1.0,
    kbps: int | None = None,
    still: bool = False,
    camera: bool = False,
) -> Path:
    """A raw H.264 (Annex-B) file of ``scene`` drifting (``still``: not), ``fps`` frames a second, a keyframe
    every ``gop_s``; ``kbps``: a camera's constant bit rate (default: x264's own choice). ``camera``:
    encoded as an IP camera's main stream is (main profile: CABAC, the deblocking filter on), which
    costs about three times as much to decode as x264's ultrafast (neither)."""
    height, width = scene.shape[:2]
    gop = max(1, round(fps * gop_s))
    rate = f":bitrate={kbps}:vbv-maxrate={kbps}:vbv-bufsize={kbps}" if kbps else ""
    with av.open(str(path), "w", format="h264") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {
            **(
                {"preset": "veryfast", "profile": "main"}
                if camera
                else {"preset": "ultrafast", "tune": "zerolatency"}
            ),
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0:repeat-headers=1{rate}",
        }
        for index in range(round(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(scene if still else drifted(scene, index), format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def index_as_segment(engine, recordings_dir: Path, camera_id: str, h264: Path, start_utc: float) -> str:
    """Remux (no re-encode) a raw H.264 file into one MP4 segment under ``recordings_dir`` and index it.

    For benchmarks of the check alone: the tests record real RTSP cameras instead.
    Returns the segment's sha256.
    """
    from watchwall.config.database import session_scope
    from watchwall.video.record.models import SEGMENT_CLOSED, RecordingSegment, close_segment_row
    from watchwall.video.record.segments import file_sha256, segment_relative_path

    relative = segment_relative_path(camera_id, start_utc)
    target = recordings_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(h264), format="h264") as source, av.open(str(target), "w", format="mp4") as out:
        stream = source.streams.video[0]
        fps = stream.guessed_rate or stream.average_rate or 15
        copy = out.add_stream_from_template(stream)
        copy.time_base = Fraction(1, 90000)
        width, height, frames = stream.codec_context.width, stream.codec_context.height, 0
        for packet in source.demux(stream):
            if not packet.size:
                continue
            packet.pts = packet.dts = round(frames * 90000 / fps)
            packet.duration = round(90000 / fps)
            packet.time_base = Fraction(1, 90000)
            packet.stream = copy
            out.mux(packet)
            frames += 1
    digest = file_sha256(target)
    with session_scope(engine) as session:
        row = RecordingSegment(
            camera_id=camera_id,
            path=str(relative),
            start_utc=start_utc,
            codec="h264",
            width=width,
            height=height,
        )
        session.add(row)
        close_segment_row(
            session,
            row,
            end_utc=start_utc + frames / float(fps),
            size=target.stat().st_size,
            sha256=digest,
            status=SEGMENT_CLOSED,
        )
    return digest
