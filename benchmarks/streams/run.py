"""Two streams per camera: CPU and memory of pulling a main and a sub stream, side by side in one run.

Per camera, at the same time, over the same window, from one GStreamer RTSP server:

- ``watchwall ingest`` with ``rtsp`` + ``sub_rtsp`` (main recorded, sub read; thumbnails
  and analytics from the sub stream at the default interval), N cameras;
- ``watchwall ingest`` with the main stream only (recorded, thumbnails from it), N cameras;
- the baseline: per camera one Debian ``ffmpeg -c copy -f segment`` recorder of the main
  stream and one ``ffmpeg -c copy -f null`` reader of the sub stream;
- ``watchwall ingest`` with main + sub for 1 camera: the memory per camera is
  (RSS with N cameras - RSS with 1 camera) / (N - 1), both streams together.

The server plays pre-encoded files in a loop (it parses and packetises, encodes nothing):
main H.265 1920x1080 25 fps ~2 Mbit/s (x265), sub H.264 640x360 25 fps ~0.5 Mbit/s (x264),
both made once with PyAV's bundled encoders. CPU from /proc/<pid>/stat (utime + stime) over
the window after a warm-up; RSS from /proc/<pid>/status at the end of the window.

    .venv/bin/python -m benchmarks.streams.run                  # 3 cameras, 60 s window
    .venv/bin/python -m benchmarks.streams.run --cameras 2 --window 30 --warmup 10
    .venv/bin/python -m benchmarks.streams.run --cameras 10 --before main   # and main's code beside it
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from tests.support.rtsp_process import RtspServerProcess

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "benchmarks" / "out"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MAIN = ("libx265", 1920, 1080, "2M", ".h265")
SUB = ("libx264", 640, 360, "500k", ".h264")
FPS, SECONDS, GOP = 25, 10, 50


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def make_clip(spec: tuple, folder: Path) -> Path:
    """A looping scene as a raw Annex-B file (parameter sets before every keyframe)."""
    codec, width, height, bitrate, suffix = spec
    path = folder / f"{codec}-{width}x{height}-{FPS}fps-{SECONDS}s{suffix}"
    if path.exists():
        return path
    encoder = av.CodecContext.create(codec, "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base, encoder.framerate = Fraction(1, FPS), Fraction(FPS, 1)
    encoder.bit_rate = int(bitrate.rstrip("kM")) * (1_000_000 if bitrate.endswith("M") else 1000)
    if codec == "libx265":
        encoder.options = {
            "preset": "ultrafast",
            "x265-params": f"keyint={GOP}:min-keyint={GOP}:bframes=0:repeat-headers=1:log-level=error",
        }
    else:
        encoder.options = {"preset": "veryfast", "tune": "zerolatency", "g": str(GOP), "bf": "0"}
    rng = np.random.default_rng(7)
    noise = rng.integers(0, 40, (height, width, 3), dtype=np.uint8)
    with path.open("wb") as out:
        for index in range(FPS * SECONDS):
            picture = noise.copy()
            x = (index * width // (FPS * SECONDS)) % width
            picture[height // 3 : height // 2, x : x + width // 8] = (220, 180, 40)  # a moving block
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
            frame.pts = index
            for packet in encoder.encode(frame):
                out.write(bytes(packet))
        for packet in encoder.encode(None):
            out.write(bytes(packet))
    return path


def site_yaml(path: Path, cameras: list[tuple[str, str | None]]) -> Path:
    lines = ""
    for index, (main, sub) in enumerate(cameras):
        lines += f"          - {{id: bench{index}, name: bench{index}, rtsp: '{main}'"
        lines += f", sub_rtsp: '{sub}'}}\n" if sub else "}\n"
    path.write_text(
        "centres:\n  - code: gangu\n    name: 甘谷县\n    level: county\n    rooms:\n      - code: checkin\n"
        f"        name: 报到登记室\n        cameras:\n{lines}",
        encoding="utf-8",
    )
    return path


def code_of(ref: str, scratch: Path) -> Path:
    """The watchwall package of git ``ref``, for PYTHONPATH: its tree unpacked and each top-level
    folder linked under ``watchwall/`` as pyproject's package-dir maps it (ahead of the editable install)."""
    tree, package = scratch / "before-src", scratch / "before-pkg" / "watchwall"
    tree.mkdir(parents=True)
    package.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    section = ""
    for line in (tree / "pyproject.toml").read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            section = line.strip()
        elif section == "[tool.setuptools.package-dir]" and line.startswith('"watchwall.'):
            name, folder = (part.strip().strip('"') for part in line.split("=", 1))
            (package / name.split(".", 1)[1]).symlink_to(tree / folder)
    return package.parent


def ingest(
    name: str, site: Path, scratch: Path, seconds: float, code: Path | None = None
) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHWALL_")}
    env.update(WATCHWALL_DATA_DIR=str(scratch / name), WATCHWALL_RECORDING_SEGMENT_S="60")
    if code is not None:
        env["PYTHONPATH"] = str(code)
    return subprocess.Popen(
        [sys.executable, "-m", "watchwall.roles.cli", "ingest", "--site", str(site), "--seconds", str(seconds),
         "--json"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def run(cameras: int, window_s: float, warmup_s: float, before_ref: str | None = None) -> dict:
    OUT.mkdir(parents=True, exist_ok=True)
    clips = OUT / "streams-clips"
    clips.mkdir(exist_ok=True)
    main_clip, sub_clip = make_clip(MAIN, clips), make_clip(SUB, clips)
    mounts = {}
    for index in range(cameras):
        mounts[f"/main{index}"] = f"file:{main_clip}"
        mounts[f"/sub{index}"] = f"file:{sub_clip}"
    server = RtspServerProcess(mounts).start()
    scratch = OUT / f"streams-bench-{os.getpid()}"
    scratch.mkdir(parents=True, exist_ok=True)
    processes: dict[str, subprocess.Popen] = {}
    ffmpegs: list[subprocess.Popen] = []
    try:
        pairs = [(server.url(f"/main{i}"), server.url(f"/sub{i}")) for i in range(cameras)]
        run_s = warmup_s + window_s + 200  # ended by SIGTERM after the window
        processes["main_sub"] = ingest("main_sub", site_yaml(scratch / "two.yaml", pairs), scratch, run_s)
        processes["main_only"] = ingest(
            "main_only", site_yaml(scratch / "one.yaml", [(m, None) for m, _ in pairs]), scratch, run_s
        )
        processes["main_sub_1"] = ingest(
            "main_sub_1", site_yaml(scratch / "single.yaml", pairs[:1]), scratch, run_s
        )
        if before_ref is not None:  # the same two ingests, run from the code of git ref ``before_ref``
            code = code_of(before_ref, scratch)
            processes["before_main_sub"] = ingest(
                "before_main_sub", scratch / "two.yaml", scratch, run_s, code
            )
            processes["before_main_sub_1"] = ingest(
                "before_main_sub_1", scratch / "single.yaml", scratch, run_s, code
            )
        (scratch / "ffmpeg").mkdir()
        for index, (main, sub) in enumerate(pairs):
            ffmpegs.append(subprocess.Popen(
                ["ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", "tcp", "-i", main, "-c", "copy",
                 "-f", "segment", "-segment_time", "60", "-reset_timestamps", "1",
                 str(scratch / "ffmpeg" / f"cam{index}_%03d.mp4")],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            ))  # fmt: skip
            ffmpegs.append(subprocess.Popen(
                ["ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", "tcp", "-i", sub, "-c", "copy",
                 "-f", "null", "-"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            ))  # fmt: skip
        # Start-up (imports, migrations, stream probing) is no part of the figures: the window
        # opens once every ingest records every camera, plus the warm-up.
        expected = {name: 1 if name.endswith("_1") else cameras for name in processes}
        deadline = time.monotonic() + 180
        while not all(
            sum(1 for path in (scratch / name / "recordings").rglob("*") if path.is_file()) >= count
            for name, count in expected.items()
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("the ingests did not start recording within 180 s")
            time.sleep(0.5)
        time.sleep(warmup_s)
        for process in [*processes.values(), *ffmpegs]:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args[:4]} exited early: {process.stderr.read()[-2000:]}")
        load_before = os.getloadavg()[0]
        before = {name: cpu_seconds(p.pid) for name, p in processes.items()}
        before["ffmpeg"] = sum(cpu_seconds(p.pid) for p in ffmpegs)
        before["server"] = cpu_seconds(server.process.pid)
        started = time.monotonic()
        time.sleep(window_s)
        after = {name: cpu_seconds(p.pid) for name, p in processes.items()}
        after["ffmpeg"] = sum(cpu_seconds(p.pid) for p in ffmpegs)
        after["server"] = cpu_seconds(server.process.pid)
        rss = {name: rss_mib(p.pid) for name, p in processes.items()}
        rss["ffmpeg"] = sum(rss_mib(p.pid) for p in ffmpegs)
        window = time.monotonic() - started
        load_after = os.getloadavg()[0]
        for process in [*ffmpegs, *processes.values()]:
            process.terminate()  # ffmpeg closes its segment; watchwall ingest reports, as at the end of its time
        reports = {}
        for name, process in processes.items():
            out, err = process.communicate(timeout=run_s + 60)
            if process.returncode != 0:
                raise RuntimeError(f"watchwall ingest ({name}) failed: {err[-2000:]}")
            reports[name] = json.loads(out)
    finally:
        for process in [*processes.values(), *ffmpegs]:
            if process.poll() is None:
                process.kill()
                process.wait(10)
        server.kill()
        shutil.rmtree(scratch, ignore_errors=True)
    pct = {name: 100 * (after[name] - before[name]) / window for name in before}
    per_camera = {
        "main_sub": pct["main_sub"] / cameras,
        "main_only": pct["main_only"] / cameras,
        "ffmpeg_recorder_plus_sub_reader": pct["ffmpeg"] / cameras,
    }
    two = reports["main_sub"]
    return {
        "cameras": cameras,
        "window_s": round(window, 1),
        "load_average": [round(load_before, 1), round(load_after, 1)],
        "main": f"{MAIN[0]} {MAIN[1]}x{MAIN[2]} {FPS} fps {MAIN[3]}bit/s",
        "sub": f"{SUB[0]} {SUB[1]}x{SUB[2]} {FPS} fps {SUB[3]}bit/s",
        "core_pct_per_camera": {name: round(value, 2) for name, value in per_camera.items()},
        "main_sub_vs_main_only": round(per_camera["main_sub"] / per_camera["main_only"], 2),
        "main_sub_vs_two_ffmpeg": round(
            per_camera["main_sub"] / per_camera["ffmpeg_recorder_plus_sub_reader"], 2
        ),
        "server_core_pct": round(pct["server"], 1),
        "rss_mib": {name: round(value, 1) for name, value in rss.items()},
        "rss_mib_per_camera_both_streams": round(
            (rss["main_sub"] - rss["main_sub_1"]) / max(1, cameras - 1), 2
        ),
        "rss_mib_per_camera_two_ffmpeg": round(rss["ffmpeg"] / cameras, 1),
        **(
            {
                "before": before_ref,
                "before_rss_mib_per_camera_both_streams": round(
                    (rss["before_main_sub"] - rss["before_main_sub_1"]) / max(1, cameras - 1), 2
                ),
                "before_core_pct_per_camera": round(pct["before_main_sub"] / cameras, 2),
            }
            if before_ref is not None
            else {}
        ),
        "states": {
            name: sorted(
                {f"{s}:{row['streams'][s]['state']}" for row in report.values() for s in row["streams"]}
            )
            for name, report in reports.items()
        },
        "packets_main_sub": {
            stream: sum(row["streams"][stream]["packets"] for row in two.values())
            for stream in ("main", "sub")
        },
        "recorded_bytes_main_sub": sum((row["recording"] or {}).get("bytes", 0) for row in two.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cameras", type=int, default=3)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=15.0)
    parser.add_argument(
        "--before",
        metavar="GIT_REF",
        help="also run the main + sub ingests from this commit's code, side by side",
    )
    args = parser.parse_args()
    if args.cameras < 2:
        parser.error("--cameras must be at least 2 (memory per camera is a difference)")
    result = run(args.cameras, args.window, args.warmup, args.before)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "streams.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
