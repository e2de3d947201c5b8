"""Supervision reports on a big database: the daily report of one county and the monthly report
of the city, end to end (``watchwall report`` as a process: start-up, queries, plots, PDF,
signature, audit), beside ``watchwall metrics --json --at`` (the wall's headline figures, the
baseline) in the same run; and whether generating reports holds the ingest back.

    .venv/bin/python benchmarks/reports/run.py                  # 10 M location checks on PostgreSQL
    .venv/bin/python benchmarks/reports/run.py --reuse          # time again without reloading
    .venv/bin/python benchmarks/reports/run.py --rows 200000    # a quick run

The case data is loaded by benchmarks/metrics/run.py's loader (two years of checks, about
15,000 subjects for 10 M rows); beside it a month of 60 s recording segments for every camera
of the shipped site (with a five-minute camera-offline gap a day each), so the video sections
read a realistic index (~2.2 M segment rows). The ingest part runs ``watchwall ingest`` on
demo cameras for ``--ingest-seconds`` alone, then again while reports are generated back to back
the way the schedule runs them (a separate process at nice 10), and compares the packets and
frame rate each camera delivered. Writes benchmarks/out/reports.json. Not part of CI.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.metrics.run import analyse, fresh_postgres, load  # noqa: E402
from watchwall.config.database import make_engine, upgrade  # noqa: E402
from watchwall.config.site import load_site  # noqa: E402
from watchwall.metrics.bulk import bulk_insert  # noqa: E402
from watchwall.metrics.localtime import SHANGHAI, local_day  # noqa: E402
from watchwall.video.record.models import RecordingGap, RecordingSegment  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
SITE = ROOT / "config" / "sites" / "tianshui.yaml"
SEGMENT_S = 60.0
INGEST_CAMERAS = ("qinzhou-checkin-1", "maiji-checkin-1", "gangu-checkin-1", "qinan-checkin-1")


def load_segments(url: str, first: date, last: date) -> int:
    """60 s segments for every site camera over [first, last], less 03:00-03:05 each day (a gap row)."""
    cameras = [place.camera.id for place in load_site(SITE).cameras()]
    segments, gaps = [], []
    day = first
    while day <= last:
        start = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI).timestamp()
        gap = (start + 3 * 3600, start + 3 * 3600 + 300)
        for camera in cameras:
            gaps.append((camera, gap[0], gap[1], "camera_offline", None))
            moment = start
            while moment < start + 86400:
                if not gap[0] <= moment < gap[1]:
                    segments.append(
                        (
                            camera,
                            f"bench/{camera}/{int(moment)}.mp4",
                            moment,
                            moment + SEGMENT_S,
                            SEGMENT_S,
                            250_000,
                            "h264",
                            640,
                            360,
                            "0" * 64,
                            None,
                            "closed",
                        )
                    )
                moment += SEGMENT_S
        day += timedelta(days=1)
    engine = make_engine(url)
    with engine.begin() as connection:
        bulk_insert(
            connection,
            RecordingSegment.__table__,
            (
                "camera_id",
                "path",
                "start_utc",
                "end_utc",
                "duration_s",
                "bytes",
                "codec",
                "width",
                "height",
                "sha256",
                "prev_sha256",
                "status",
            ),
            segments,
        )
        bulk_insert(
            connection,
            RecordingGap.__table__,
            ("camera_id", "start_utc", "end_utc", "reason", "detail"),
            gaps,
        )
    analyse(engine)
    engine.dispose()
    return len(segments)


def watchwall(env: dict, *args: str, nice: int = 0) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "watchwall.roles.cli", *args]
    return subprocess.run(
        command,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=(lambda: os.nice(nice)) if nice else None,
    )


def timed_runs(env: dict, repeat: int, make_args) -> tuple[list[float], list[float]]:
    """Wall seconds and CPU seconds (user + system of the child) of each run."""
    walls, cpus = [], []
    for index in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        watchwall(env, *make_args(index))
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return walls, cpus


def reports_timing(env: dict, today: date, repeat: int) -> list[dict]:
    out = OUT / "reports_pdf"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*"):
        old.unlink()
    day = today - timedelta(days=1)
    month_first = today.replace(day=1) - timedelta(days=1)
    month = month_first.strftime("%Y-%m")
    month_end = month_first  # the month's last day
    cases = [
        (
            "daily report, one county (qinzhou)",
            ["--county", "qinzhou", "--day", day.isoformat()],
            f"{day.isoformat()}T23:59:59+08:00",
        ),
        ("monthly report, the city", ["--city", "--month", month], f"{month_end.isoformat()}T23:59:59+08:00"),
    ]
    results = []
    for name, scope, at in cases:
        report, report_cpu = timed_runs(
            env,
            repeat,
            lambda i, s=scope: ["report", *s, "--out", str(out / f"{''.join(s).replace('-', '')}-{i}.pdf")],
        )
        baseline, baseline_cpu = timed_runs(env, repeat, lambda i, a=at: ["metrics", "--json", "--at", a])
        results.append(
            {
                "report": name,
                "report_s": statistics.median(report),
                "report_max_s": max(report),
                "metrics_cli_s": statistics.median(baseline),
                "ratio": statistics.median(report) / statistics.median(baseline),
                "samples_s": report,
                "report_cpu_s": statistics.median(report_cpu),
                "metrics_cli_cpu_s": statistics.median(baseline_cpu),
                "cpu_ratio": statistics.median(report_cpu) / statistics.median(baseline_cpu),
                "load_average": os.getloadavg()[0],
            }
        )
    return results


def ingest_run(env: dict, seconds: float) -> dict:
    args = ["ingest", "--seconds", str(seconds), "--json", "--no-record"]
    for camera in INGEST_CAMERAS:
        args += ["--camera", camera]
    return json.loads(watchwall(env, *args).stdout)


def ingest_comparison(env: dict, today: date, seconds: float) -> dict:
    """The same ingest alone, then while reports are generated back to back at nice 10."""
    alone = ingest_run(env, seconds)
    out = OUT / "reports_pdf_load"
    out.mkdir(parents=True, exist_ok=True)
    script = (
        "import subprocess, sys, time, os\n"
        "end = time.monotonic() + float(sys.argv[1]); i = 0\n"
        "while time.monotonic() < end:\n"
        "    i += 1\n"
        f"    target = os.path.join({str(out)!r}, f'load-{{os.getpid()}}-{{i}}.pdf')\n"
        "    subprocess.run([sys.executable, '-m', 'watchwall.roles.cli', 'report', '--city', '--month',"
        f" {((today.replace(day=1) - timedelta(days=1)).strftime('%Y-%m'))!r}, '--out', target], check=True,"
        " capture_output=True)\n"
        "print(i)\n"
    )
    loader = subprocess.Popen(
        [sys.executable, "-c", script, str(seconds + 20)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: os.nice(10),
    )
    time.sleep(3)
    try:
        loaded = ingest_run(env, seconds)
    finally:
        reports_made = int((loader.communicate(timeout=seconds + 120)[0] or "0").strip() or 0)
    for pdf in out.glob("*"):
        pdf.unlink()

    def totals(run: dict) -> dict:
        return {
            "packets": sum(camera["packets"] for camera in run.values()),
            "fps_median": statistics.median(camera["fps"] or 0 for camera in run.values()),
            "reconnects": sum(camera["reconnects"] for camera in run.values()),
        }

    return {
        "seconds": seconds,
        "cameras": len(alone),
        "alone": totals(alone),
        "with_reports": totals(loaded),
        "reports_generated_meanwhile": reports_made,
        "packets_ratio": totals(loaded)["packets"] / max(totals(alone)["packets"], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/ww_reports_bench")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="skip loading; time an already loaded database")
    parser.add_argument("--ingest-seconds", type=float, default=40.0)
    parser.add_argument("--skip-ingest", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    info_file = OUT / "reports_load.json"
    if args.reuse:
        info = json.loads(info_file.read_text())
        upgrade(args.pg_url)  # the schema of the code being measured
    else:
        now = datetime.now(UTC).replace(microsecond=0)
        fresh_postgres(args.pg_url)
        print(f"loading {args.rows:,} checks ...", file=sys.stderr, flush=True)
        info = {**load(args.pg_url, args.rows, now), "now": now.isoformat()}
        today = local_day(now)
        month_first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        info["segments"] = load_segments(args.pg_url, month_first, today - timedelta(days=1))
        info_file.write_text(json.dumps(info))
    today = local_day(datetime.fromisoformat(info["now"]))
    data_dir = OUT / "reports_data"
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "WATCHWALL_DATABASE_URL": args.pg_url, "WATCHWALL_DATA_DIR": str(data_dir)}
    env.pop("WATCHWALL_SITE", None)
    random.seed(1)
    results = {"load": info, "reports": reports_timing(env, today, args.repeat)}
    if not args.skip_ingest:
        results["ingest"] = ingest_comparison(env, today, args.ingest_seconds)
    (OUT / "reports.json").write_text(json.dumps(results, indent=2))
    print(
        f"PostgreSQL: {info['checks']:,} checks, {info['subjects']:,} subjects, {info['segments']:,} segments"
    )
    print(
        f"| report | watchwall report wall (median of {args.repeat}) | max | CPU | "
        "watchwall metrics --json --at wall | CPU | ratio wall | ratio CPU | load |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in results["reports"]:
        print(
            f"| {row['report']} | {row['report_s']:.2f} s | {row['report_max_s']:.2f} s | "
            f"{row['report_cpu_s']:.2f} s | {row['metrics_cli_s']:.2f} s | {row['metrics_cli_cpu_s']:.2f} s | "
            f"{row['ratio']:.1f} x | {row['cpu_ratio']:.1f} x | {row['load_average']:.1f} |"
        )
    if "ingest" in results:
        ingest = results["ingest"]
        print(
            f"ingest of {ingest['cameras']} demo cameras for {ingest['seconds']:.0f} s: packets alone "
            f"{ingest['alone']['packets']}, while {ingest['reports_generated_meanwhile']} reports were made "
            f"{ingest['with_reports']['packets']} (ratio {ingest['packets_ratio']:.3f}); fps median "
            f"{ingest['alone']['fps_median']} / {ingest['with_reports']['fps_median']}; reconnects "
            f"{ingest['alone']['reconnects']} / {ingest['with_reports']['reconnects']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
