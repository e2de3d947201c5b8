"""CPU of demo cameras with the live wall-clock overlay against the looped clips they replace.

Two ``watchwall ingest`` processes run side by side (same load, same length), each with N demo
cameras of the same patterns: one with ``clock: true`` (encoded live, demo_live.py), one with
``clock: false`` (a cached clip read in real time). Recording and keyframe decoding are off, so
the figure is the source's own cost. Prints % of one core per camera and the ratio.

    .venv/bin/python benchmarks/demo/clock.py --cameras 6 --seconds 60
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PATTERNS = ("room", "counter", "bars")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks" / "ingest"))  # as the other benchmarks: cpu.py beside run.py

from cpu import cpu_seconds  # noqa: E402


def site_yaml(cameras: int, clock: bool) -> str:
    lines = [
        "name: {zh: bench, en: bench}",
        "centres:",
        "  - code: qinzhou",
        "    name: {zh: 秦州区, en: Qinzhou}",
        "    level: county",
        "    rooms:",
        "      - code: checkin",
        "        name: {zh: 报到登记室, en: Check-in}",
        "        cameras:",
    ]
    for index in range(cameras):
        pattern = PATTERNS[index % len(PATTERNS)]
        lines += [
            f"          - id: bench-{index}",
            f"            name: {{zh: bench-{index}, en: bench-{index}}}",
            f"            demo: {{pattern: {pattern}, clock: {str(clock).lower()}}}",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        processes = {}
        for clock in (True, False):
            data = Path(folder) / f"clock-{clock}"
            data.mkdir()
            site = data / "site.yaml"
            site.write_text(site_yaml(args.cameras, clock), encoding="utf-8")
            if not clock:  # make the clips first, so that their one-off encoding is not counted
                subprocess.run(
                    [sys.executable, "-m", "watchwall.roles.cli", "ingest", "--site", str(site), "--seconds", "1",
                     "--no-record", "--no-thumbnails"],
                    env={**os.environ, "WATCHWALL_DATA_DIR": str(data)}, cwd=ROOT, check=True, capture_output=True,
                )  # fmt: skip
            processes[clock] = (site, data)
        running = {
            clock: subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "watchwall.roles.cli",
                    "ingest",
                    "--site",
                    str(site),
                    "--seconds",
                    str(args.seconds + 10),
                    "--no-record",
                    "--no-thumbnails",
                ],
                env={**os.environ, "WATCHWALL_DATA_DIR": str(data)},
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            for clock, (site, data) in processes.items()
        }
        time.sleep(8)  # both started and streaming
        before = {clock: cpu_seconds(p.pid) for clock, p in running.items()}
        time.sleep(args.seconds)
        after = {clock: cpu_seconds(p.pid) for clock, p in running.items()}
        for process in running.values():
            process.wait(timeout=60)
    per_camera = {
        clock: 100 * (after[clock] - before[clock]) / args.seconds / args.cameras for clock in running
    }
    print(
        f"{args.cameras} cameras 640x360@15, {args.seconds:g} s side by side, load {os.getloadavg()[0]:.1f}"
    )
    print(f"clock (live encode): {per_camera[True]:.2f} % of a core per camera")
    print(f"looped clip:         {per_camera[False]:.2f} % of a core per camera")
    print(f"ratio: {per_camera[True] / per_camera[False]:.1f}x")


if __name__ == "__main__":
    main()
