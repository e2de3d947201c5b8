"""Face presence: what one sample costs the detector, by step, on camera-encoded clips.

For the busy room (no face: every search is a whole-picture one) and the face (searched around the
last face, then as a whole only where that finds nothing), at 640x360 and 1920x1080, 25 fps with a
keyframe every 2 s (``face_check.py --camera``'s clips), 60 frames spread over 30 s are decoded once
(with and without the deblocking filter, as the check does for large pictures) and then timed, per
frame, in interleaved rounds: the shrink to the analysed height, the histogram equalisation, the
whole-picture search and the search around the last face. Process CPU (user + system, all threads).

Usage: .venv/bin/python benchmarks/face_search.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.face_check import CLIPS, KBPS  # noqa: E402
from watchwall.config.face_check_settings import FaceCheckSettings  # noqa: E402
from watchwall.video.analysis.face_detector import HaarFaceDetector, shrink  # noqa: E402

FPS, SAMPLES, STEP = 25, 60, 12  # every 12th frame of 30 s: 60 samples


def luma_samples(path: Path, skip_deblocking: bool) -> list[np.ndarray]:
    grey = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        if skip_deblocking:
            stream.codec_context.options = {"skip_loop_filter": "all"}
        for index, frame in enumerate(container.decode(stream)):
            if index % STEP == 0:
                plane = frame.planes[0]
                rows = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
                grey.append(rows[:, : frame.width].copy())
            if len(grey) >= SAMPLES:
                break
    return grey


def per_frame_ms(fn, frames) -> float:
    start = time.process_time()
    for frame in frames:
        fn(frame)
    return 1000 * (time.process_time() - start) / len(frames)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    settings = FaceCheckSettings()
    detector = HaarFaceDetector.from_settings(settings)
    cases = []
    for height in (360, 1080):
        for scene in ("busy_room", "face"):
            clip = CLIPS / f"{scene}-{height}p{FPS}-{KBPS[height]}k-camera.h264"
            if not clip.exists():
                raise SystemExit(f"{clip} missing: run face_check.py --only span --camera first")
            for skip in (False, True) if height == 1080 else (False,):
                cases.append((scene, height, skip, luma_samples(clip, skip)))
    times: dict[tuple, list[float]] = {}
    found = {}
    for _ in range(args.rounds):
        for scene, height, skip, frames in cases:
            scale = min(1.0, settings.analysis_height / height)
            size = (round(frames[0].shape[1] * scale), round(frames[0].shape[0] * scale))
            small = [shrink(f, *size) if scale < 1 else f for f in frames]
            equalised = [cv2.equalizeHist(s) for s in small]
            whole = [detector.faces(f) for f in frames]
            found[scene, height, skip] = sum(bool(faces) for faces in whole)
            steps = {
                "shrink": (lambda f, size=size: shrink(f, *size)) if scale < 1 else (lambda f: f),
                "equalise": cv2.equalizeHist,
                "whole search": lambda f: detector._detect(
                    f, (0, 0), detector.min_face_px, None, detector.scale_factor
                ),  # fmt: skip
            }
            for step, fn in steps.items():
                source = frames if step == "shrink" else small if step == "equalise" else equalised
                times.setdefault((scene, height, skip, step), []).append(per_frame_ms(fn, source))
            if scene == "face":
                pairs = [(f, w[0]) for f, w in zip(frames[1:], whole[:-1], strict=True) if w]
                start = time.process_time()
                for frame, near in pairs:
                    detector.faces(frame, near=near)
                times.setdefault((scene, height, skip, "check of a sample, near the last face"), []).append(
                    1000 * (time.process_time() - start) / max(1, len(pairs))
                )
            times.setdefault((scene, height, skip, "check of a sample, whole picture"), []).append(
                per_frame_ms(detector.faces, frames)
            )
    rows = []
    for (scene, height, skip, step), values in times.items():
        rows.append({
            "scene": scene, "height": height, "deblocking": not skip, "step": step,
            "ms_per_frame": round(statistics.median(values), 2),
            "whole_search_frames_with_face": f"{found[scene, height, skip]}/{SAMPLES}",
        })  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
    out = ROOT / "benchmarks" / "out" / f"face_search-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps({"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                               "opencv": cv2.__version__, "rows": rows}, indent=1))  # fmt: skip
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
