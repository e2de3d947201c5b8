"""Recorded seconds of every site camera over the loaded month, side by side in one process:
one SUM over the segment rows (what the report did before migration 0017) against the per-day
roll-ups, cold (recording_daily emptied first, so every closed day is computed and kept) and warm.

Run after benchmarks/reports/run.py has loaded its database (the same --pg-url)::

    .venv/bin/python benchmarks/reports/rollup.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/ww_reports_bench
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from watchwall.config.database import make_engine  # noqa: E402
from watchwall.config.site import load_site  # noqa: E402
from watchwall.metrics.localtime import SHANGHAI, local_day  # noqa: E402
from watchwall.reports.recording_daily import Span, recorded_by_camera, recording_daily, summed  # noqa: E402

SITE = ROOT / "config" / "sites" / "tianshui.yaml"
OUT = ROOT / "benchmarks" / "out"


def timed(function) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/ww_reports_bench")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    info = json.loads((OUT / "reports_load.json").read_text())
    today = local_day(datetime.fromisoformat(info["now"]))
    last = today.replace(day=1) - timedelta(days=1)
    first = last.replace(day=1)
    start = datetime(first.year, first.month, first.day, tzinfo=SHANGHAI).timestamp()
    end = datetime(today.year, today.month, 1, tzinfo=SHANGHAI).timestamp()
    span = Span(start, end, end)
    ids = [place.camera.id for place in load_site(SITE).cameras()]
    engine = make_engine(args.pg_url)
    rows = {"direct SUM over the segments": [], "roll-up, cold": [], "roll-up, warm": []}
    for _ in range(args.repeat):
        with Session(engine) as session:
            wall, cpu, direct = timed(lambda s=session: summed(s, ids, span))
            rows["direct SUM over the segments"].append((wall, cpu))
        with engine.begin() as connection:
            connection.execute(delete(recording_daily))
        for name in ("roll-up, cold", "roll-up, warm"):
            with Session(engine) as session:
                wall, cpu, rolled = timed(lambda s=session: recorded_by_camera(s, ids, span, SHANGHAI))
                rows[name].append((wall, cpu))
            for camera, (seconds, _, _) in direct.items():
                if abs(rolled[camera][0] - seconds) > 1e-6 * max(seconds, 1.0):
                    raise SystemExit(f"{camera}: roll-up {rolled[camera][0]} != direct {seconds}")
    engine.dispose()
    print(f"{first:%Y-%m}, {len(ids)} cameras, {info['segments']:,} segment rows loaded; figures equal")
    print(f"| recorded seconds of the month | wall (median of {args.repeat}) | max | CPU (this process) |")
    print("|---|---:|---:|---:|")
    for name, samples in rows.items():
        walls = [wall for wall, _ in samples]
        cpus = [cpu for _, cpu in samples]
        print(
            f"| {name} | {statistics.median(walls):.3f} s | {max(walls):.3f} s | {statistics.median(cpus):.3f} s |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
