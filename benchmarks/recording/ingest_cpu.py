"""CPU per camera: `watchwall ingest` (recording on, thumbnails and health on) vs one Debian
`ffmpeg -rtsp_transport tcp -i URL -c copy -f segment -segment_time 60` per camera.

Both run at the same time, over the same window, on the same N RTSP streams: the
GStreamer test server plays one pre-encoded 720p25 H.264 file (about 2 Mbit/s) in a
loop on N shared mounts, so the server only parses and packetises (its CPU is
reported too). CPU is read from /proc/<pid>/stat (utime + stime) at the start and
the end of the window, after a warm-up that leaves out start-up and stream probing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "support"))

from tests.support.rtsp_process import RtspServerProcess  # noqa: E402
from watchwall.config.settings import Settings  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (its threads included)."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def raw_h264_clip(ts_clip: Path, out: Path) -> Path:
    """The MPEG-TS clip's H.264 as an Annex-B elementary stream, which the server's file mount loops."""
    raw = out / (ts_clip.stem + ".h264")
    if not raw.exists():
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-i", str(ts_clip), "-c", "copy", "-f", "h264", str(raw)],
            check=True,
        )
    return raw


def site_yaml(path: Path, urls: list[str]) -> Path:
    cameras = "".join(
        f"          - {{id: bench{index}, name: bench{index}, rtsp: '{url}'}}\n"
        for index, url in enumerate(urls)
    )
    path.write_text(
        "centres:\n  - code: gangu\n    name: 甘谷县\n    level: county\n    rooms:\n      - code: checkin\n"
        f"        name: 报到登记室\n        cameras:\n{cameras}",
        encoding="utf-8",
    )
    return path


def measure(
    raw_clip: Path,
    cameras: int,
    window_s: float,
    warmup_s: float,
    scratch: Path,
    ingest_flags: tuple[str, ...] = (),
) -> dict:
    mounts = {f"/cam{index}": f"file:{raw_clip}" for index in range(cameras)}
    server = RtspServerProcess(mounts).start()
    processes: list[subprocess.Popen] = []
    try:
        urls = [server.url(path) for path in mounts]
        data_dir = scratch / "watchwall"
        env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHWALL_")}
        env.update(WATCHWALL_DATA_DIR=str(data_dir), WATCHWALL_RECORDING_SEGMENT_S="60")
        site = site_yaml(scratch / "site.yaml", urls)
        run_s = warmup_s + window_s + 5
        watchwall = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "watchwall.roles.cli",
                "ingest",
                "--site",
                str(site),
                "--seconds",
                str(run_s),
                "--json",
                *ingest_flags,
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        processes.append(watchwall)
        ffmpeg_dir = scratch / "ffmpeg"
        ffmpeg_dir.mkdir()
        ffmpegs = []
        for index, url in enumerate(urls):
            command = [
                "ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", "tcp", "-i", url, "-c", "copy",
                "-f", "segment", "-segment_time", "60", "-reset_timestamps", "1",
                str(ffmpeg_dir / f"cam{index}_%03d.mp4"),
            ]  # fmt: skip
            ffmpegs.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        processes.extend(ffmpegs)
        time.sleep(warmup_s)
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args[:3]} exited early: {process.stderr.read()[-2000:]}")
        server_pid = server.process.pid
        before = {
            "watchwall": cpu_seconds(watchwall.pid),
            "ffmpeg": sum(cpu_seconds(p.pid) for p in ffmpegs),
            "server": cpu_seconds(server_pid),
        }
        started = time.monotonic()
        time.sleep(window_s)
        after = {
            "watchwall": cpu_seconds(watchwall.pid),
            "ffmpeg": sum(cpu_seconds(p.pid) for p in ffmpegs),
            "server": cpu_seconds(server_pid),
        }
        window = time.monotonic() - started
        for process in ffmpegs:
            process.terminate()  # ffmpeg closes its current segment on SIGTERM
        for process in ffmpegs:
            process.wait(30)
        out, err = watchwall.communicate(timeout=run_s + 60)
        if watchwall.returncode != 0:
            raise RuntimeError(f"watchwall ingest failed: {err[-2000:]}")
        report = json.loads(out)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(10)
        server.kill()
    used = {name: after[name] - before[name] for name in before}
    per_camera = {name: 100 * used[name] / window / cameras for name in ("watchwall", "ffmpeg")}
    recorded = {camera: row["recording"] for camera, row in report.items()}
    return {
        "cameras": cameras,
        "ingest_flags": " ".join(ingest_flags),
        "window_s": round(window, 1),
        "watchwall_core_pct_per_camera": round(per_camera["watchwall"], 2),
        "ffmpeg_core_pct_per_camera": round(per_camera["ffmpeg"], 2),
        "watchwall_vs_ffmpeg": round(per_camera["watchwall"] / per_camera["ffmpeg"], 2),
        "server_core_pct": round(100 * used["server"] / window, 1),
        "watchwall_states": sorted({row["state"] for row in report.values()}),
        "watchwall_packets": sum(row["packets"] for row in report.values()),
        "watchwall_keyframes_decoded_for_thumbnails": (
            f"every thumbnail_interval_s (default {Settings.model_fields['thumbnail_interval_s'].default:g} s)"
        ),
        "watchwall_recorded_bytes": sum(r["bytes"] for r in recorded.values() if r),
        "watchwall_recorder_dropped": sum(r["dropped"] for r in recorded.values() if r),
        "ffmpeg_recorded_bytes": sum(p.stat().st_size for p in ffmpeg_dir.glob("*.mp4")),
    }


def run_ingest_benchmark(
    ts_clip: Path,
    out: Path,
    cameras: int,
    window_s: float,
    warmup_s: float,
    ingest_flags: tuple[str, ...] = (),
) -> dict:
    if not shutil.which("ffmpeg"):
        raise RuntimeError("Debian ffmpeg is needed for the side-by-side ingest")
    raw = raw_h264_clip(ts_clip, out)
    scratch = out / f"ingest-bench-{os.getpid()}"
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        return measure(raw, cameras, window_s, warmup_s, scratch, ingest_flags)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
