"""The four ways of taking in the same N RTSP streams, each started as its own process(es).

Each variant runs for ``seconds`` by itself (or until stopped) and afterwards tells how much
it received, so that a variant that silently failed cannot pass as a cheap one.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VENV_BIN = Path(sys.executable).parent


@dataclass
class Running:
    """One variant's processes, and where they leave their output."""

    name: str
    processes: list[subprocess.Popen]
    work: Path

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]


def _python_script(name: str, script: str, urls: list[str], seconds: float, work: Path) -> Running:
    command = [
        sys.executable,
        str(HERE / script),
        "--seconds",
        f"{seconds:g}",
        "--counts",
        str(work / "counts.json"),
    ]
    command += urls
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=open(work / "stderr.txt", "w"), text=True
    )
    return Running(name, [process], work)


def start_demux_only(urls: list[str], seconds: float, work: Path) -> Running:
    return _python_script("demux", "demux_only.py", urls, seconds, work)


def start_opencv(urls: list[str], seconds: float, work: Path) -> Running:
    return _python_script("opencv", "opencv_decode.py", urls, seconds, work)


def site_yaml(urls: list[str]) -> str:
    cameras = "".join(
        f"          - id: bench-{index}\n            name: Bench camera {index}\n            rtsp: {url}\n"
        for index, url in enumerate(urls)
    )
    return (
        "name: Ingest benchmark\ntimezone: Asia/Shanghai\ncentres:\n"
        "  - code: bench\n    name: Benchmark centre\n    level: county\n    rooms:\n"
        "      - code: monitoring\n        name: Monitoring room\n        cameras:\n" + cameras
    )


def start_watchwall(
    urls: list[str],
    seconds: float,
    work: Path,
    environment: dict[str, str],
    thumbnails: bool = True,
    thumbnail_interval_s: float | None = None,
) -> Running:
    """``thumbnail_interval_s`` None keeps the setting's default."""
    site = work / "site.yaml"
    site.write_text(site_yaml(urls))
    command = [
        str(VENV_BIN / "watchwall"), "ingest", "--site", str(site), "--seconds", f"{seconds:g}", "--no-record", "--json",
    ]  # fmt: skip
    if not thumbnails:
        command.append("--no-thumbnails")
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=open(work / "stderr.txt", "w"),
        text=True,
        env=environment
        | {"WATCHWALL_DATA_DIR": str(work / "data")}
        | ({"WATCHWALL_THUMBNAIL_INTERVAL_S": f"{thumbnail_interval_s:g}"} if thumbnail_interval_s else {}),
        cwd=work,
    )
    return Running(work.name, [process], work)


def ffmpeg_command(url: str, output_pattern: Path) -> list[str]:
    """The common NVR recorder; only the log level is added to the brief's command line."""
    return [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
        "-rtsp_transport", "tcp", "-i", url, "-c", "copy", "-f", "segment", "-segment_time", "60",
        str(output_pattern),
    ]  # fmt: skip


def start_ffmpeg(urls: list[str], work: Path) -> Running:
    processes = []
    stderr = open(work / "stderr.txt", "w")
    for index, url in enumerate(urls):
        command = ffmpeg_command(url, work / f"cam{index}_%03d.mp4")
        processes.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr))
    return Running("ffmpeg", processes, work)


def stop(running: Running, timeout: float = 20.0) -> list[str]:
    """Let self-timed processes finish, interrupt ffmpeg (it closes its segment); their stdout texts."""
    outputs = []
    for process in running.processes:
        if running.name == "ffmpeg" and process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            stdout, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, _ = process.communicate(timeout=5)
        outputs.append(stdout or "")
    return outputs


def counted(running: Running) -> int | None:
    """Packets or frames taken in so far, all streams together, for the variants that count them."""
    try:
        return sum(json.loads((running.work / "counts.json").read_text()).values())
    except (OSError, ValueError):
        return None


def received(running: Running, outputs: list[str], urls: list[str], seconds: float) -> str:
    """What the variant received per stream, as a rate over its whole run; '-' plus why if nothing."""
    try:
        if running.name in ("demux", "opencv"):
            counts = json.loads(outputs[0])
            unit = "packets/s" if running.name == "demux" else "frames/s"
            return _rate(min(counts.values()), max(counts.values()), seconds, unit)
        if running.name.startswith("watchwall"):
            cameras = json.loads(outputs[0])
            packets = [camera["packets"] for camera in cameras.values()]
            states = sorted({camera["state"] for camera in cameras.values()})
            return _rate(min(packets), max(packets), seconds, "packets/s") + f", {'/'.join(states)}"
        sizes = [
            sum(path.stat().st_size for path in running.work.glob(f"cam{i}_*.mp4")) for i in range(len(urls))
        ]
        low, high = (8 * size / seconds / 1e6 for size in (min(sizes), max(sizes)))
        return f"{low:.2f}-{high:.2f} Mbit/s written"
    except (ValueError, KeyError, IndexError) as exc:
        return f"- (no result: {exc})"


def _rate(low: int, high: int, seconds: float, unit: str) -> str:
    return f"{low / seconds:.1f}-{high / seconds:.1f} {unit}"
