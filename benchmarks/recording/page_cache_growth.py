"""CPU a MB of appending to files while the page cache grows, with and without write-behind.

Each pass writes ``--gb`` GB in 256 KiB writes, round-robin over 50 files a GB (as 50 cameras'
segments), and keeps the files until the pass ends, so the page cache grows as it does under a
node that records without write-behind. Printed, a GB at a time: the process's CPU a MB (user +
system) and the wall time. First the ``write-behind`` pass (``video.record.write_behind``: the
writeback of each MiB started, the MiB before dropped from the cache), then the ``plain`` pass.
Where memory costs a host fault at first touch (a VM with a balloon), the plain pass's CPU a MB
jumps once the cache grows past the memory used before.

``--rate`` paces the writes (MB a second; a node recording 100 cameras at 2 Mbit/s writes 25):
unpaced, the writes outrun the disk, and a step whose writeback has not finished stays cached.
Needs twice ``--gb`` free on the file system of ``--dir``.

    .venv/bin/python benchmarks/recording/page_cache_growth.py --gb 6 --rate 200 --dir /var/tmp
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # noqa: E402

from watchwall.video.record.write_behind import WriteBehind  # noqa: E402

CHUNK = 256 * 1024
FILES_A_GB = 50
MB = 1024 * 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def one_pass(folder: Path, gigabytes: int, behind: bool, rate: float) -> list[dict]:
    chunk = os.urandom(CHUNK)
    rows = []
    for number in range(gigabytes):
        fds = [
            os.open(folder / f"{number}-{index}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            for index in range(FILES_A_GB)
        ]
        followers = [WriteBehind(fd) for fd in fds] if behind else None
        sizes = [0] * FILES_A_GB
        cpu, wall = cpu_seconds(), time.monotonic()
        for write in range(1024 * MB // CHUNK):
            if rate and write % 16 == 0:  # sleep until this write is due (every 4 MiB)
                time.sleep(max(0.0, wall + write * CHUNK / (rate * MB) - time.monotonic()))
            index = write % FILES_A_GB
            sizes[index] += os.write(fds[index], chunk)
            if followers is not None:
                followers[index].written(sizes[index])
        cpu, wall = cpu_seconds() - cpu, time.monotonic() - wall
        for fd in fds:
            os.close(fd)
        rows.append({"gb": number + 1, "cpu_ms_a_mb": round(1000 * cpu / 1024, 3), "wall_s": round(wall, 2)})
        print(json.dumps({"pass": "write-behind" if behind else "plain", **rows[-1]}), flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=int, default=8)
    parser.add_argument("--rate", type=float, default=0.0, help="MB a second (0: unpaced)")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    if shutil.disk_usage(args.dir).free < 2 * args.gb * 1024 * MB:
        print(f"page_cache_growth: {args.dir} has less than {2 * args.gb} GB free", file=sys.stderr)
        return 2
    results = {}
    for behind in (True, False):
        folder = Path(tempfile.mkdtemp(prefix="ww-pagecache-", dir=args.dir))
        try:
            results["write-behind" if behind else "plain"] = one_pass(folder, args.gb, behind, args.rate)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    print(
        json.dumps(
            {"summary": {name: [row["cpu_ms_a_mb"] for row in rows] for name, rows in results.items()}}
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
