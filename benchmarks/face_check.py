"""Face presence: the CPU of one face check of a 30 s recorded span, beside baselines on the same span,
and the Haar cascades compared on pictures shipped by scikit-image.

For each picture size (640x360, 1920x1080) and scene (the astronaut photograph drifting: a face in
every frame; an empty room: flat, cheap to scan; a busy room: scikit-image's coffee photograph, textured,
no face, drifting - the worst case - and still, as a camera's picture of an empty room is) a 40 s H.264 clip is encoded (libx264, like a camera: 15 fps, a keyframe every second, and
25 fps with a keyframe every 2 s), indexed as one recorded segment, and the span [5 s, 35 s) is
  - checked: ``check_span`` with the default settings (process time: user + system, all threads);
  - demuxed only, no decode (the cheapest read of the span: the baseline);
  - decoded whole, every frame (what a check that decoded everything would cost at least).
Rounds are interleaved; medians are printed. The cascades' comparison counts hits on the face
(48 drift positions, at three face sizes) and false faces on face-free pictures of scikit-image.

Usage: .venv/bin/python benchmarks/face_check.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np
from skimage import data

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.video.analysis.face_media import (  # noqa: E402
    _letterboxed,
    drifted,
    empty_room,
    face_scene,
    index_as_segment,
    write_h264,
)
from watchwall.config.database import make_engine, upgrade  # noqa: E402
from watchwall.config.face_check_settings import FaceCheckSettings  # noqa: E402
from watchwall.video.analysis.face_detector import CASCADES, HaarFaceDetector  # noqa: E402
from watchwall.video.analysis.face_presence import RecordingLookup, check_span  # noqa: E402
from watchwall.video.record.playback import segments_between  # noqa: E402
from watchwall.video.record.segments import inside_recordings  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
SIZES = ((640, 360), (1920, 1080))
KBPS = {360: 1000, 1080: 4000}  # a camera's usual main-stream rates
CLIPS = OUT / "face_clips"  # encoded once, reused by later runs
CADENCES = ((15, 1.0), (25, 2.0))  # (fps, keyframe interval s)
SPAN = (5.0, 35.0)
T0 = 1_790_000_000.0
NO_FACE_PICTURES = ("coffee", "chelsea", "rocket", "coins", "hubble_deep_field", "immunohistochemistry",
                    "brick", "grass", "gravel", "horse", "clock", "colorwheel", "moon", "page")  # fmt: skip


def busy_room(width: int, height: int) -> np.ndarray:
    return _letterboxed(data.coffee(), width, height, face_share=1.0)


SCENES = {"face": face_scene, "empty_room": empty_room, "busy_room": busy_room, "busy_room_still": busy_room}


def cpu(fn):
    start = time.process_time()
    value = fn()
    return time.process_time() - start, value


def demux_only(lookup, camera, start, end) -> int:
    packets = 0
    for segment in segments_between(lookup.engine, camera, start, end):
        with av.open(str(inside_recordings(lookup.recordings_dir, segment.path))) as container:
            stream = container.streams.video[0]
            first = None
            for packet in container.demux(stream):
                if packet.dts is None:
                    continue
                first = packet.dts if first is None else first
                wall = segment.start_utc + float((packet.dts - first) * stream.time_base)
                if wall >= end:
                    break
                packets += wall >= start
    return packets


def decode_all(lookup, camera, start, end) -> int:
    """Every frame of the span, decoded from the keyframe at or before ``start``; returns the span's frames."""
    frames = 0
    for segment in segments_between(lookup.engine, camera, start, end):
        with av.open(str(inside_recordings(lookup.recordings_dir, segment.path))) as container:
            stream = container.streams.video[0]
            stream.codec_context.thread_count = 1
            first = None
            lead: list = []  # the group of pictures before ``start``: needed to decode from it
            for packet in container.demux(stream):
                if packet.dts is None:
                    continue
                first = packet.dts if first is None else first
                wall = segment.start_utc + float((packet.dts - first) * stream.time_base)
                if wall >= end:
                    break
                if wall < start:
                    lead = [packet] if packet.is_keyframe else lead + [packet]
                    continue
                for earlier in lead:
                    earlier.decode()
                lead = []
                frames += len(packet.decode())
    return frames


def span_costs(rounds: int, scenes: list[str] | None = None) -> list[dict]:
    folder = Path(tempfile.mkdtemp(prefix="face-bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade(url)
    engine = make_engine(url)
    lookup = RecordingLookup(engine, folder / "recordings")
    lookup.recordings_dir.mkdir()
    cameras = []
    for width, height in SIZES:
        for fps, gop_s in CADENCES:
            for scene_name, scene in SCENES.items():
                if scenes and scene_name not in scenes:
                    continue
                camera = f"{scene_name}-{height}p{fps}"
                clip = CLIPS / f"{camera}-{KBPS[height]}k.h264"
                if not clip.exists():
                    CLIPS.mkdir(parents=True, exist_ok=True)
                    partial = write_h264(
                        clip.with_suffix(".part"),
                        scene(width, height),
                        40,
                        fps=fps,
                        gop_s=gop_s,
                        kbps=KBPS[height],
                        still=scene_name.endswith("_still"),
                    )
                    partial.replace(clip)
                index_as_segment(engine, lookup.recordings_dir, camera, clip, T0)
                cameras.append((camera, width, height, fps, gop_s, scene_name))
    settings = FaceCheckSettings()
    EVERY_SAMPLE = settings.model_copy(update={"search_every": 1})  # noqa: N806
    start, end = T0 + SPAN[0], T0 + SPAN[1]
    results = []
    for camera, width, height, fps, gop_s, scene_name in cameras:
        checks, every_sample, demuxes, decodes = [], [], [], []
        for _ in range(rounds):
            detector = HaarFaceDetector.from_settings(settings)
            seconds, result = cpu(lambda: check_span(lookup, camera, start, end, settings, detector=detector))  # noqa: B023
            checks.append(seconds)
            # the check as it was before search_every (every sample searched): side by side
            seconds, all_result = cpu(
                lambda: check_span(lookup, camera, start, end, EVERY_SAMPLE, detector=detector)  # noqa: B023
            )
            every_sample.append(seconds)
            demuxes.append(cpu(lambda: demux_only(lookup, camera, start, end))[0])  # noqa: B023
            seconds, frames_all = cpu(lambda: decode_all(lookup, camera, start, end))  # noqa: B023
            decodes.append(seconds)
        check_s, every_s, demux_s, decode_s = (
            statistics.median(x) for x in (checks, every_sample, demuxes, decodes)
        )
        results.append(
            {
                "camera": camera,
                "size": f"{width}x{height}",
                "fps": fps,
                "keyframe_s": gop_s,
                "scene": scene_name,
                "face_present": result.face_present,
                "frames_with_face": result.frames_with_face,
                "frames_sampled": result.frames_sampled,
                "frames_decoded": result.frames_decoded,
                "frames_in_span": frames_all,
                "kbps": KBPS[height],
                "check_cpu_s": round(check_s, 3),
                "every_sample_cpu_s": round(every_s, 3),
                "every_sample_frames_with_face": all_result.frames_with_face,
                "check_vs_every_sample": round(check_s / every_s, 2) if every_s else None,
                "ms_per_decoded_frame": round(1000 * check_s / max(1, result.frames_decoded), 2),
                "ms_per_sampled_frame": round(1000 * check_s / max(1, result.frames_sampled), 2),
                "demux_only_cpu_s": round(demux_s, 4),
                "decode_all_cpu_s": round(decode_s, 3),
                "check_vs_demux": round(check_s / demux_s, 1) if demux_s else None,
                "check_vs_decode_all": round(check_s / decode_s, 2) if decode_s else None,
                "goal_met": check_s <= 1.5,
            }
        )
        print(json.dumps(results[-1], ensure_ascii=False), flush=True)
    engine.dispose()
    return results


def cascade_comparison() -> list[dict]:
    """Hits on the astronaut's face and false faces on face-free pictures, per cascade, in 640x360 frames."""
    width, height = 640, 360
    faces = []
    for share in (0.9, 0.6, 0.45):  # face about 60, 40 and 30 px tall in the 320-px analysed picture
        scene = _letterboxed(data.astronaut(), width, height, face_share=share)
        faces += [cv2.cvtColor(drifted(scene, i), cv2.COLOR_RGB2GRAY) for i in range(48)]
    empty = []
    for name in NO_FACE_PICTURES:
        picture = getattr(data, name)()
        if picture.dtype != np.uint8:  # horse is a bool mask
            picture = (
                (picture > 0).astype(np.uint8) * 255 if picture.dtype == bool else picture.astype(np.uint8)
            )
        if picture.ndim == 2:
            picture = np.stack([picture] * 3, axis=-1)
        picture = np.ascontiguousarray(picture[..., :3])
        fit = min(1.0, (width / height) / (picture.shape[1] / picture.shape[0]))  # wide pictures fit by width
        scene = _letterboxed(picture, width, height, face_share=fit * 0.98)
        empty += [cv2.cvtColor(drifted(scene, i), cv2.COLOR_RGB2GRAY) for i in range(0, 48, 6)]
    empty += [cv2.cvtColor(drifted(empty_room(width, height), i), cv2.COLOR_RGB2GRAY) for i in range(8)]
    rows = []
    for cascade in CASCADES:
        for scale_factor in (1.1, 1.2, 1.25):
            detector = HaarFaceDetector(
                min_face_px=24, analysis_height=320, scale_factor=scale_factor, cascade=cascade
            )
            face_s, hits = cpu(lambda: sum(bool(detector.faces(g)) for g in faces))  # noqa: B023
            empty_s, false = cpu(lambda: sum(bool(detector.faces(g)) for g in empty))  # noqa: B023
            rows.append(
                {
                    "cascade": cascade,
                    "scale_factor": scale_factor,
                    "face_frames_hit": f"{hits}/{len(faces)}",
                    "no_face_frames_with_a_false_face": f"{false}/{len(empty)}",
                    "ms_per_face_frame_full_search": round(1000 * face_s / len(faces), 1),
                    "ms_per_no_face_frame": round(1000 * empty_s / len(empty), 1),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=["span", "cascades"])
    parser.add_argument("--scenes", nargs="+", choices=sorted(SCENES), help="only these scenes' spans")
    args = parser.parse_args()
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "opencv": cv2.__version__,
        "av": av.__version__,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    if args.only != "cascades":
        report["span"] = span_costs(args.rounds, args.scenes)
        (OUT / "face_check-span-latest.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    if args.only != "span":
        report["cascades"] = cascade_comparison()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"face_check-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=1, ensure_ascii=False))
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
