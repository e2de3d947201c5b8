"""The ingest benchmark's table and README text."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from pathlib import Path

VARIANTS = {
    "demux": "PyAV demux only (the floor)",
    "watchwall": "WatchWall `watchwall ingest --no-record` (own RTSP client + fan-out + keyframe thumbnails + health)",
    "watchwall_5s": "(WatchWall with a thumbnail every 5 s instead)",
    "watchwall_nothumb": "(WatchWall with `--no-thumbnails` too: RTSP client + fan-out + health, to split the cost)",
    "ffmpeg": "Debian `ffmpeg -rtsp_transport tcp -i URL -c copy -f segment`, one per camera",
    "opencv": "OpenCV `cv2.VideoCapture(url)` decoding every frame",
}
GOALS = {"watchwall_over_demux_max": 2.0, "opencv_over_watchwall_min": 10.0}


def thumbnail_interval_s() -> float:
    from watchwall.config.settings import Settings

    return Settings.model_fields["thumbnail_interval_s"].default


def _first_line(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"


def cpu_model_and_flags() -> tuple[str, set[str]]:
    """The first processor's model name and feature flags, from /proc/cpuinfo."""
    model, flags = "unknown", set()
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model == "unknown":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    return model, flags


def machine() -> dict[str, str]:
    import av
    import cv2

    model, _ = cpu_model_and_flags()
    return {
        "cpu": f"{model}, {os.cpu_count()} cores",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "pyav": av.__version__,
        "opencv": cv2.__version__,
        "ffmpeg": _first_line(["ffmpeg", "-version"]).partition(" Copyright")[0],
        "gstreamer": _first_line(["gst-inspect-1.0", "--version"]),
        "thumbnail_interval_s": str(thumbnail_interval_s()),
    }


def markdown(summary: dict, rounds: list[dict], facts: dict) -> str:
    medians = summary["median_cpu_s_per_stream_per_minute"]
    lines = [
        "| variant | CPU s per stream per minute | % of one core per stream | ratio vs demux-only "
        "| rounds (CPU s/stream/min) | received per stream (last round) |",
        "|---|---|---|---|---|---|",
    ]
    for name, label in ((name, label) for name, label in VARIANTS.items() if name in medians):
        per_round = ", ".join(f"{r['cpu_s_per_stream_per_minute'][name]:.3f}" for r in rounds)
        lines.append(
            f"| {label} | {medians[name]:.3f} | {medians[name] / 60 * 100:.2f} % "
            f"| {summary['ratio_vs_demux'][name]:.2f} x | {per_round} | {rounds[-1]['received'][name]} |"
        )
    server = medians["server"]
    per_round = ", ".join(f"{r['cpu_s_per_stream_per_minute']['server']:.3f}" for r in rounds)
    lines.append(
        f"| (the GStreamer RTSP server, serving {len(VARIANTS)} clients per stream) | {server:.3f} "
        f"| {server / 60 * 100:.2f} % | - | {per_round} | - |"
    )
    busy = statistics.median(r["machine_busy_fraction"] for r in rounds)
    own_load = sum(medians.values()) * facts["streams"] / 60 / (os.cpu_count() or 1)
    decoded = statistics.median(r["taken_in_per_stream_per_s_in_window"].get("opencv", 0.0) for r in rounds)
    demuxed = statistics.median(r["taken_in_per_stream_per_s_in_window"].get("demux", 0.0) for r in rounds)
    ww, cv = summary["watchwall_over_demux"], summary["opencv_over_watchwall"]
    lines += [
        "",
        f"N = {facts['streams']} streams, {len(rounds)} rounds of {facts['window_s']:g} s measured "
        f"(after {facts['warmup_s']:g} s of warm-up each), medians. Own load: this benchmark's processes "
        f"used {own_load * 100:.0f} % of the machine's {os.cpu_count()} cores; the whole machine was "
        f"{busy * 100:.0f} % busy during the windows (median; the rest is other work on the machine).",
        "",
        f"- WatchWall / demux-only = **{ww:.2f} x** (goal <= {GOALS['watchwall_over_demux_max']:g} x): "
        f"{'met' if ww <= GOALS['watchwall_over_demux_max'] else 'NOT met'}",
        f"- OpenCV full decode / WatchWall = **{cv:.1f} x** (goal >= {GOALS['opencv_over_watchwall_min']:g} x): "
        f"{'met' if cv >= GOALS['opencv_over_watchwall_min'] else 'NOT met'}",
        f"- WatchWall / ffmpeg recorder = {medians['watchwall'] / medians['ffmpeg']:.2f} x",
    ]
    if "watchwall_nothumb" in medians:
        per_packet = medians["watchwall_nothumb"] - medians["demux"]
        thumbnails = medians["watchwall"] - medians["watchwall_nothumb"]
        lines.append(
            f"- WatchWall without thumbnails (its RTSP client, fan-out, health) minus demux-only: "
            f"{per_packet:+.3f} CPU s per stream per minute; keyframe thumbnails and analytics: {thumbnails:.3f}."
        )
    lines += [
        f"- In the windows (medians), demux-only took in {demuxed:.1f} packets/s per stream and OpenCV "
        f"decoded {decoded:.1f} frames/s per stream.",
    ]
    if decoded and demuxed and decoded < 0.97 * demuxed:
        scaled = medians["opencv"] * demuxed / decoded
        lines.append(
            f"  OpenCV fell behind the stream, so its figure above is low: scaled to every frame it is "
            f"{scaled:.2f} CPU s per stream per minute ({scaled / medians['watchwall']:.1f} x WatchWall). "
            "The goal check uses the unscaled figure."
        )
    lines += keyframe_lines(facts)
    return "\n".join(lines)


def keyframe_lines(facts: dict) -> list[str]:
    ms = facts.get("keyframe_ms")
    if not ms:
        return []
    interval = float(facts["machine"]["thumbnail_interval_s"])
    return [
        "",
        "Where a thumbnail's CPU goes (`benchmarks/ingest/keyframe_cost.py`: the keyframe worker's own steps on "
        "the clip's keyframes, one thread, medians): "
        f"decode {ms['decode']:.1f} ms, thumbnail (scale + JPEG + write) {ms['thumbnail']:.1f} ms, "
        f"health analytics {ms['analytics']:.1f} ms; {ms['total']:.1f} ms a keyframe, so "
        f"{ms['total'] * 60 / interval / 1000:.3f} CPU s per stream per minute at one thumbnail per {interval:g} s.",
    ]


def write_readme(path: Path, table: str, facts: dict) -> None:
    m = facts["machine"]
    text = f"""## video/: ingest CPU per stream (issue #3, "Speed")

`benchmarks/ingest/run.py` measures, side by side in one run, the CPU that four ways of taking
in the same N RTSP streams cost. The streams are a 20 s clip of 720p25 H.264 at about 2 Mbit/s
(a keyframe every 2 s, no B-frames), encoded once with PyAV's libx264 and cached in
`benchmarks/out/`, looped in real time by the GStreamer RTSP test server
(`tests/support/gst_rtsp_server.py`, mount kind `file:PATH`): the server parses and packetizes
the file but encodes nothing, so it is not the bottleneck; its own CPU is in the table.

The variants, each its own process(es), all over RTSP/TCP:

1. **demux**: PyAV opens each URL and demuxes its packets, nothing else (`benchmarks/ingest/demux_only.py`);
2. **watchwall**: `watchwall ingest --site <generated site file with the N rtsp cameras> --seconds T
   --no-record --json`: WatchWall's own RTSP client (one loop thread for all cameras), fan-out,
   health, and keyframe thumbnails + OpenCV health
   analytics at the default thumbnail interval (`thumbnail_interval_s` = {m["thumbnail_interval_s"]} s);
3. **ffmpeg**: one `ffmpeg -rtsp_transport tcp -i URL -c copy -f segment -segment_time 60 out%03d.mp4`
   per camera (the common NVR recorder; the baseline the recording work must beat);
4. **opencv**: `cv2.VideoCapture(url)` (FFmpeg backend, TCP) reading, so decoding, every frame
   (`benchmarks/ingest/opencv_decode.py`).

Two more WatchWall processes run beside them to show where its cost goes: the same ingest with a
thumbnail every 5 s (`WATCHWALL_THUMBNAIL_INTERVAL_S=5`), and with `--no-thumbnails`.

**Concurrently, not one after another.** All variants run at the same time on the same streams:
the same pictures, the same server and the same window for every variant, and three rounds of
60 s fit in the ~10 minute budget (about 4.5 minutes in all; one after another would take six
times as long, or cut each window to 10 s). CPU seconds, unlike wall time, do not grow while a
process waits for a core, and the benchmark's own processes use under half of the 2 cores
(the "own load" figure below), so no variant is starved by another; a contended machine still
costs every variant alike a little (caches), which running them in the same window keeps fair.
CPU time (user + system, all threads) of every process of a variant is read from
`/proc/<pid>/stat` at the start and the end of each window, which starts after a warm-up, so
imports, start-up and stream probing are not counted. The "received" column
is the check that every variant really took the streams in (25 packets or frames a second).

```
{facts["command"]}
```

Measured {facts["date_utc"]} on {m["cpu"]} (kernel {m["kernel"]}), Python {m["python"]},
PyAV {m["pyav"]}, OpenCV {m["opencv"]}, {m["ffmpeg"].partition(" Copyright")[0]}, {m["gstreamer"]}:

{table}

Raw figures of every round: `benchmarks/out/ingest.json`. Not run in CI.
"""
    path.write_text(text)
