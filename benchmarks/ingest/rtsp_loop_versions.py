"""CPU per camera of the native RTSP client's loop (RTP over TCP) for two versions of the code,
side by side on the same live streams.

    .venv/bin/python benchmarks/ingest/rtsp_loop_versions.py --cameras 20 --seconds 40 \\
        --before ../before/.venv/bin/python --after .venv/bin/python

The GStreamer RTSP test server loops the ingest benchmarks' 720p25 clip (about 2 Mbit/s) on N
mounts; each interpreter (its venv's installed WatchWall is the version) runs
``benchmarks.ingest.transport_cost --child tcp``: one ``RtspLoop`` pulling every mount, counting
access units. Both children run at once, so the machine's load is the same for both; CPU
(utime + stime from /proc) is read over the window after a warm-up.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # noqa: E402

from benchmarks.ingest.clip import ensure_clip  # noqa: E402
from benchmarks.ingest.transport_cost import cpu_ticks  # noqa: E402
from tests.support.rtsp_process import RtspServerProcess  # noqa: E402

WARM_UP_S = 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--before", required=True, help="python of the venv with the code before")
    parser.add_argument("--after", required=True, help="python of the venv with the code after")
    args = parser.parse_args()
    clip = ensure_clip(ROOT / "benchmarks" / "out")
    mounts = [f"/cam{index}" for index in range(args.cameras)]
    server = RtspServerProcess({mount: f"file:{clip}" for mount in mounts}).start(timeout=120)
    children: dict[str, subprocess.Popen] = {}
    try:
        urls = [server.url(mount) for mount in mounts]
        for name in ("before", "after"):
            children[name] = subprocess.Popen(
                [getattr(args, name), "-m", "benchmarks.ingest.transport_cost", "--child", "tcp",
                 "--seconds", f"{args.seconds + 3 * WARM_UP_S:g}", *urls],
                stdout=subprocess.PIPE, text=True, cwd=ROOT,
            )  # fmt: skip
            line = children[name].stdout.readline().strip()
            assert line == "ready", f"the {name} child did not open its sessions: {line!r}"
        time.sleep(WARM_UP_S)
        load = [open("/proc/loadavg").read().split()[0]]
        start = {name: cpu_ticks(child.pid) for name, child in children.items()}
        time.sleep(args.seconds)
        used = {name: cpu_ticks(child.pid) - start[name] for name, child in children.items()}
        load.append(open("/proc/loadavg").read().split()[0])
        received = {name: json.loads(child.communicate(timeout=60)[0]) for name, child in children.items()}
    finally:
        for child in children.values():
            child.kill()
        server.kill()
    hz = os.sysconf("SC_CLK_TCK")
    for name in ("before", "after"):
        percent = 100 * used[name] / hz / args.seconds / args.cameras
        units = sum(received[name]["units"].values())
        print(f"{name}: {percent:.3f} % of one core per camera; {units} access units, "
              f"{received[name]['lost']} packets lost")  # fmt: skip
    print(
        f"after / before: {used['after'] / max(1, used['before']):.3f} x (load average {' -> '.join(load)})"
    )


if __name__ == "__main__":
    main()
