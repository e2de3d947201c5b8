"""Face presence: what PyAV decoder options save on the face check's decode, side by side.

The face check decodes 599 of the 750 frames of a 30 s span at 25 fps with a keyframe every 2 s
(benchmarks/README.md, "Face presence"); this measures the process CPU (user + system, all threads)
of decoding every frame of 30 s of the busy room at 1920x1080 under decoder options, in interleaved
rounds, on two encodings of the same picture:
  - ``ultrafast``: the face_check clips (x264 ultrafast: CAVLC, no deblocking filter in the stream);
  - ``camera``: x264 ``veryfast``, main profile (CABAC, deblocking on), no B-frames, as an IP
    camera's main stream is encoded (``face_check.py --camera``'s clip).
For each option it also reports how far its luma planes are from the default decode's (mean and
max absolute difference of 8-bit grey levels), since an option that changes the pictures must
not change what the detector sees.

``--by-frame-type`` instead times each packet's decode in the 1080p camera clips of
``face_check.py --camera`` (face and busy room, 15 fps / 1 s and 25 fps / 2 s keyframes): a keyframe
against a P-frame, with and without the deblocking filter.

Usage: .venv/bin/python benchmarks/face_decode.py [--rounds 3] [--by-frame-type]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.face_check import CLIPS, busy_room  # noqa: E402
from tests.video.analysis.face_media import write_h264  # noqa: E402

WIDTH, HEIGHT, FPS, GOP_S, KBPS, SECONDS = 1920, 1080, 25, 2.0, 4000, 30
OPTIONS = {  # name: (codec context options, attributes)
    "default (thread_count 1)": ({}, {"thread_count": 1}),
    "skip_loop_filter all": ({"skip_loop_filter": "all"}, {"thread_count": 1}),
    "flags2 fast": ({"flags2": "+fast"}, {"thread_count": 1}),
    # AV_CODEC_FLAG_GRAY: honoured by the h264 decoder only in an FFmpeg configured with --enable-gray
    "flags gray": ({"flags": "+gray"}, {"thread_count": 1}),
    "skip_loop_filter all + flags gray": ({"skip_loop_filter": "all", "flags": "+gray"}, {"thread_count": 1}),
    # read by the MPEG-1/2/4 decoders; h264 has no such shortcut
    "skip_idct all": ({"skip_idct": "all"}, {"thread_count": 1}),
    "skip_frame NONREF": ({}, {"thread_count": 1, "skip_frame": "NONREF"}),
    "2 frame threads": ({}, {"thread_count": 2, "thread_type": "FRAME"}),
    "2 slice threads": ({}, {"thread_count": 2, "thread_type": "SLICE"}),
}


def clips() -> dict[str, Path]:
    CLIPS.mkdir(parents=True, exist_ok=True)
    ultrafast = CLIPS / f"busy_room-{HEIGHT}p{FPS}-{KBPS}k.h264"  # face_check.py's own clip
    if not ultrafast.exists():
        write_h264(ultrafast.with_suffix(".part"), busy_room(WIDTH, HEIGHT), 40, fps=FPS, gop_s=GOP_S,
                   kbps=KBPS).replace(ultrafast)  # fmt: skip
    camera = CLIPS / f"busy_room-{HEIGHT}p{FPS}-{KBPS}k-camera.h264"  # face_check.py --camera's clip
    if not camera.exists():
        write_h264(camera.with_suffix(".part"), busy_room(WIDTH, HEIGHT), 40, fps=FPS, gop_s=GOP_S,
                   kbps=KBPS, camera=True).replace(camera)  # fmt: skip
    return {"ultrafast": ultrafast, "camera": camera}


def decode(path: Path, options: dict, attributes: dict, keep_luma: bool) -> tuple[float, int, list, list]:
    start = time.process_time()
    frames, lumas, chroma_spread = 0, [], []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        context = stream.codec_context
        context.options = dict(options)
        for name, value in attributes.items():
            setattr(context, name, value)
        for packet in container.demux(stream):
            for frame in context.decode(packet):
                frames += 1
                if keep_luma and frames % 25 == 0:
                    plane = frame.planes[0]
                    rows = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
                    lumas.append(rows[:, :WIDTH].copy())
                    # a decoder that skips chroma (flags gray) leaves the U plane flat
                    chroma_spread.append(float(np.frombuffer(frame.planes[1], np.uint8).std()))
            if frames >= SECONDS * FPS:
                break
    return time.process_time() - start, frames, lumas, chroma_spread


def by_frame_type(rounds: int) -> list[dict]:
    from benchmarks.face_check import KBPS as RATES

    names = [f"{scene}-{HEIGHT}p{fps}" for scene in ("face", "busy_room") for fps in (15, 25)]
    rows = []
    for name in names:
        clip = CLIPS / f"{name}-{RATES[HEIGHT]}k-camera.h264"
        if not clip.exists():
            raise SystemExit(f"{clip} missing: run face_check.py --only span --camera first")
        for options in ({}, {"skip_loop_filter": "all"}):
            times: dict[bool, list[float]] = {True: [], False: []}
            sizes: dict[bool, list[int]] = {True: [], False: []}
            for _ in range(rounds):
                with av.open(str(clip)) as container:
                    stream = container.streams.video[0]
                    stream.codec_context.thread_count = 1
                    stream.codec_context.options = dict(options)
                    for packet in container.demux(stream):
                        if not packet.size:
                            continue
                        start = time.process_time()
                        stream.codec_context.decode(packet)
                        times[packet.is_keyframe].append(time.process_time() - start)
                        sizes[packet.is_keyframe].append(packet.size)
            rows.append({
                "clip": name, "options": options or "default",
                "keyframe_ms": round(1000 * statistics.mean(times[True]), 2),
                "keyframe_kB": round(statistics.mean(sizes[True]) / 1000),
                "p_frame_ms": round(1000 * statistics.mean(times[False]), 2),
                "p_frame_kB": round(statistics.mean(sizes[False]) / 1000, 1),
            })  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--by-frame-type", action="store_true", help="keyframe against P-frame decode cost")
    args = parser.parse_args()
    if args.by_frame_type:
        rows = by_frame_type(args.rounds)
        out = ROOT / "benchmarks" / "out" / f"face_decode_by_type-{time.strftime('%Y%m%dT%H%M%S')}.json"
        out.write_text(json.dumps({"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "rows": rows}))
        print(f"written {out}")
        return 0
    paths = clips()
    times = {(clip, name): [] for clip in paths for name in OPTIONS}
    frames, lumas, chroma = {}, {}, {}
    for round_ in range(args.rounds):
        for clip, path in paths.items():
            for name, (options, attributes) in OPTIONS.items():
                seconds, count, luma, spread = decode(path, options, attributes, keep_luma=round_ == 0)
                times[clip, name].append(seconds)
                frames[clip, name] = count
                if luma:
                    lumas[clip, name], chroma[clip, name] = luma, spread
    rows = []
    for clip in paths:
        base = statistics.median(times[clip, "default (thread_count 1)"])
        reference = lumas[clip, "default (thread_count 1)"]
        for name in OPTIONS:
            seconds = statistics.median(times[clip, name])
            diffs = [np.abs(a.astype(np.int16) - b.astype(np.int16)) for a, b in
                     zip(reference, lumas[clip, name], strict=False)]  # fmt: skip
            rows.append({
                "clip": clip,
                "option": name,
                "frames": frames[clip, name],
                "cpu_s": round(seconds, 3),
                "ms_per_frame": round(1000 * seconds / max(1, frames[clip, name]), 2),
                "vs_default": round(seconds / base, 2),
                "luma_mean_abs_diff": round(float(np.mean([d.mean() for d in diffs])), 3),
                "luma_max_abs_diff": int(max(d.max() for d in diffs)),
                "chroma_u_std": round(float(np.mean(chroma[clip, name])), 2),
            })  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
    out = ROOT / "benchmarks" / "out" / f"face_decode-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps({"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                               "av": av.__version__, "rows": rows}, indent=1))  # fmt: skip
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
