"""Face presence: the CPU of one face check of a 30 s recorded span, beside baselines on the same span,
and the Haar cascades compared on pictures shipped by scikit-image.

For each picture size (640x360, 1920x1080) and scene (the astronaut photograph drifting: a face in
every frame; an empty room: flat, cheap to scan; a busy room: scikit-image's coffee photograph, textured,
no face, drifting - the worst case - and still, as a camera's picture of an empty room is) a 40 s H.264 clip is encoded (libx264, like a camera: 15 fps, a keyframe every second, and
25 fps with a keyframe every 2 s; x264 ultrafast, or with ``--camera`` veryfast main profile, as a
camera's main stream: about three times the decode cost), indexed as one recorded segment, and the span [5 s, 35 s) is
  - checked: ``check_span`` with the default settings (process time: user + system, all threads);
  - demuxed only, no decode (the cheapest read of the span: the baseline);
  - decoded whole, every frame (what a check that decoded everything would cost at least);
  - its samples decoded, no detection: every sample of the check's plan read (as the check does with a
    face in every sample), the decoder set as the check sets it: the floor under any check at this
    sample rate that looks at every sample, whatever its detector costs.
With ``--also-sample-fps`` the check is run at those rates too, in the same rounds (side by side).
With ``--side-by-side no_budget`` the check is also run without the decode budget
(``decode_budget_mpix_per_s: None``, the check as it was before the budget), in the same rounds
(``no_floor``: the budget without its floor);
``--checks-only`` leaves out the baselines (every sample searched, demux, decode all, decode samples).
``--cadences 25/8`` encodes clips with other frame rates / keyframe intervals (a long group of
pictures), ``--span-s 20`` checks a shorter span (a roll-call's), from the same 5 s into the clip.
Rounds are interleaved; medians are printed. The cascades' comparison counts hits on the face
(48 drift positions, at three face sizes) and false faces on face-free pictures of scikit-image.

Usage: .venv/bin/python benchmarks/face_check.py [--rounds 3] [--camera]
"""

from __future__ import annotations

import argparse
import json
import os
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
from watchwall.video.analysis.face_presence import (  # noqa: E402
    SKIP_DEBLOCKING_FROM,
    RecordingLookup,
    check_span,
)
from watchwall.video.analysis.span_frames import SpanDecode, sampled_frames  # noqa: E402
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


# checks run beside the default one, in the same rounds (--side-by-side): the settings they change
VARIANTS = {
    "no_budget": {"decode_budget_mpix_per_s": None},  # the check as it was before the decode budget
    "no_floor": {"decode_floor_s": None},  # the budget without its floor of one sample every 3 s
}
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


def decode_samples(lookup, camera, start, end, settings: FaceCheckSettings) -> int:
    """Every sample of the check's plan decoded, nothing searched; returns the frames decoded."""
    cost = SpanDecode()
    segments = segments_between(lookup.engine, camera, start, end)
    skip_from = SKIP_DEBLOCKING_FROM * settings.analysis_height
    for sample in sampled_frames(
        lookup.recordings_dir, segments, start, end, settings.sample_fps, cost, skip_from,
        settings.decode_budget_mpix_per_s, settings.decode_floor_s,
    ):  # fmt: skip
        sample.frame  # noqa: B018 - the read is the decode
    return cost.frames_decoded


def span_costs(
    rounds: int,
    scenes: list[str] | None = None,
    camera_encoding: bool = False,
    sample_fps: float | None = None,
    also_sample_fps: list[float] | None = None,
    sizes: list[str] | None = None,
    side_by_side: list[str] | None = None,
    checks_only: bool = False,
    cadences: list[tuple[int, float]] | None = None,
    span: tuple[float, float] = SPAN,
) -> list[dict]:
    folder = Path(tempfile.mkdtemp(prefix="face-bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade(url)
    engine = make_engine(url)
    lookup = RecordingLookup(engine, folder / "recordings")
    lookup.recordings_dir.mkdir()
    cameras = []
    for width, height in SIZES:
        if sizes and f"{width}x{height}" not in sizes:
            continue
        for fps, gop_s in cadences or CADENCES:
            for scene_name, scene in SCENES.items():
                if scenes and scene_name not in scenes:
                    continue
                camera = f"{scene_name}-{height}p{fps}" + (
                    "" if (fps, gop_s) in CADENCES else f"-gop{gop_s:g}s"
                )
                clip = CLIPS / f"{camera}-{KBPS[height]}k{'-camera' if camera_encoding else ''}.h264"
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
                        camera=camera_encoding,
                    )
                    partial.replace(clip)
                index_as_segment(engine, lookup.recordings_dir, camera, clip, T0)
                cameras.append((camera, width, height, fps, gop_s, scene_name))
    settings = FaceCheckSettings(**({"sample_fps": sample_fps} if sample_fps else {}))
    EVERY_SAMPLE = settings.model_copy(update={"search_every": 1})  # noqa: N806
    start, end = T0 + span[0], T0 + span[1]
    results = []
    other_rates = {rate: settings.model_copy(update={"sample_fps": rate}) for rate in also_sample_fps or []}
    variants = {name: settings.model_copy(update=VARIANTS[name]) for name in side_by_side or []}
    for camera, width, height, fps, gop_s, scene_name in cameras:
        checks, every_sample, demuxes, decodes, sample_decodes = [], [], [], [], []
        at_rate: dict[float, list] = {rate: [] for rate in other_rates}
        variant_runs: dict[str, list] = {name: [] for name in variants}
        for _ in range(rounds):
            detector = HaarFaceDetector.from_settings(settings)
            seconds, result = cpu(lambda: check_span(lookup, camera, start, end, settings, detector=detector))  # noqa: B023
            checks.append(seconds)
            for name, variant in variants.items():  # e.g. the check as it was before the budget
                variant_runs[name].append(
                    cpu(lambda v=variant: check_span(lookup, camera, start, end, v, detector=detector))  # noqa: B023
                )
            if checks_only:
                continue
            # the check as it was before search_every (every sample searched): side by side
            seconds, all_result = cpu(
                lambda: check_span(lookup, camera, start, end, EVERY_SAMPLE, detector=detector)  # noqa: B023
            )
            every_sample.append(seconds)
            demuxes.append(cpu(lambda: demux_only(lookup, camera, start, end))[0])  # noqa: B023
            seconds, frames_all = cpu(lambda: decode_all(lookup, camera, start, end))  # noqa: B023
            decodes.append(seconds)
            seconds, frames_for_samples = cpu(lambda: decode_samples(lookup, camera, start, end, settings))  # noqa: B023
            sample_decodes.append(seconds)
            for rate, rate_settings in other_rates.items():
                at_rate[rate].append(
                    cpu(lambda s=rate_settings: check_span(lookup, camera, start, end, s, detector=detector))  # noqa: B023
                )
        if checks_only:
            every_sample = demuxes = decodes = sample_decodes = [0.0]
            all_result, frames_all, frames_for_samples = result, None, None
        check_s, every_s, demux_s, decode_s, sample_decode_s = (
            statistics.median(x) for x in (checks, every_sample, demuxes, decodes, sample_decodes)
        )
        results.append(
            {
                "camera": camera,
                "size": f"{width}x{height}",
                "fps": fps,
                "keyframe_s": gop_s,
                "span_s": span[1] - span[0],
                "scene": scene_name,
                "face_present": result.face_present,
                "frames_with_face": result.frames_with_face,
                "frames_sampled": result.frames_sampled,
                "frames_decoded": result.frames_decoded,
                "samples_over_budget": result.samples_over_budget,
                "decode_budget_mpix_per_s": settings.decode_budget_mpix_per_s,
                "frames_in_span": frames_all,
                "kbps": KBPS[height],
                "encoding": "camera (veryfast, main)" if camera_encoding else "ultrafast",
                "check_cpu_s": round(check_s, 3),
                "every_sample_cpu_s": round(every_s, 3),
                "every_sample_frames_with_face": all_result.frames_with_face,
                "check_vs_every_sample": round(check_s / every_s, 2) if every_s else None,
                "ms_per_decoded_frame": round(1000 * check_s / max(1, result.frames_decoded), 2),
                "ms_per_sampled_frame": round(1000 * check_s / max(1, result.frames_sampled), 2),
                "demux_only_cpu_s": round(demux_s, 4),
                "decode_all_cpu_s": round(decode_s, 3),
                "decode_samples_cpu_s": round(sample_decode_s, 3),
                "decode_samples_frames": frames_for_samples,
                "at_sample_fps": {
                    str(rate): {
                        "check_cpu_s": round(statistics.median(seconds for seconds, _ in runs), 3),
                        "frames_decoded": runs[-1][1].frames_decoded,
                        "frames_with_face": runs[-1][1].frames_with_face,
                        "frames_sampled": runs[-1][1].frames_sampled,
                        "face_present": runs[-1][1].face_present,
                    }
                    for rate, runs in at_rate.items()
                },
                **{name: variant_summary(runs) for name, runs in variant_runs.items()},
                "check_vs_demux": round(check_s / demux_s, 1) if demux_s else None,
                "check_vs_decode_all": round(check_s / decode_s, 2) if decode_s else None,
                "goal_met": check_s <= 1.5,
            }
        )
        print(json.dumps(results[-1], ensure_ascii=False), flush=True)
    engine.dispose()
    return results


def variant_summary(runs: list) -> dict:
    """Median CPU of a variant's checks, and what its last check found."""
    seconds = statistics.median(cpu_s for cpu_s, _ in runs)
    last = runs[-1][1]
    return {
        "check_cpu_s": round(seconds, 3),
        "frames_decoded": last.frames_decoded,
        "frames_with_face": last.frames_with_face,
        "frames_sampled": last.frames_sampled,
        "samples_over_budget": last.samples_over_budget,
        "face_present": last.face_present,
        "ms_per_decoded_frame": round(1000 * seconds / max(1, last.frames_decoded), 2),
        "goal_met": seconds <= 1.5,
    }


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
    parser.add_argument(
        "--camera",
        action="store_true",
        help="clips encoded as a camera's main stream (x264 veryfast, main profile: CABAC, deblocking)",
    )
    parser.add_argument(
        "--sample-fps", type=float, help="face_check.sample_fps (default: the setting's default)"
    )
    parser.add_argument(
        "--also-sample-fps",
        type=float,
        nargs="+",
        help="also check at these sample rates, in the same rounds (side by side)",
    )
    parser.add_argument(
        "--side-by-side",
        nargs="+",
        choices=sorted(VARIANTS),
        help="also run these checks, in the same rounds: no_budget (decode_budget_mpix_per_s: None, the"
        " check as it was before the budget), no_floor (decode_floor_s: None)",
    )
    parser.add_argument(
        "--cadences",
        nargs="+",
        metavar="FPS/KEYFRAME_S",
        help="frame rates and keyframe intervals of the clips (default: 15/1 25/2), e.g. 25/8",
    )
    parser.add_argument(
        "--span-s", type=float, help="the span's length in seconds, from 5 s into the clip (default 30)"
    )
    parser.add_argument(
        "--checks-only",
        action="store_true",
        help="no baselines (every sample searched, demux only, decode all, decode samples): the checks alone",
    )
    parser.add_argument(
        "--sizes", nargs="+", choices=[f"{w}x{h}" for w, h in SIZES], help="only these picture sizes"
    )
    args = parser.parse_args()
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "opencv": cv2.__version__,
        "av": av.__version__,
        "sample_fps": args.sample_fps or FaceCheckSettings().sample_fps,
        "decode_budget_mpix_per_s": FaceCheckSettings().decode_budget_mpix_per_s,
        "decode_floor_s": FaceCheckSettings().decode_floor_s,
        "loadavg_before": [round(x, 2) for x in os.getloadavg()],
    }
    OUT.mkdir(parents=True, exist_ok=True)
    if args.only != "cascades":
        report["span"] = span_costs(
            args.rounds,
            args.scenes,
            args.camera,
            args.sample_fps,
            args.also_sample_fps,
            args.sizes,
            args.side_by_side,
            args.checks_only,
            [(int(fps), float(gop)) for fps, gop in (c.split("/") for c in args.cadences or [])] or None,
            (SPAN[0], SPAN[0] + args.span_s) if args.span_s else SPAN,
        )
        report["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
        report["ended"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
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
