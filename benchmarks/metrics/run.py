"""Figure queries on a big case database: p50/p95 of each figure the dashboard calls, beside
the plain GROUP BY over the raw location checks that computes the same figure.

    .venv/bin/python benchmarks/metrics/run.py                    # 10 million checks, SQLite + PostgreSQL
    .venv/bin/python benchmarks/metrics/run.py --rows 200000      # a quick run

Generates subjects with two checks a day over two years until ``rows`` checks (10M rows ~ 15,000
subjects), bulk-loads them (executemany batches on SQLite, COPY on PostgreSQL), builds the
roll-ups, then times each figure ``--repeat`` times and each raw query ``--raw-repeat`` times.
Writes ``benchmarks/out/metrics_<backend>.json`` and prints a Markdown table. Not part of CI.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from watchwall.config.database import make_engine, upgrade  # noqa: E402
from watchwall.metrics import cases, compliance  # noqa: E402
from watchwall.metrics.bulk import bulk_insert  # noqa: E402
from watchwall.metrics.counties import COUNTIES  # noqa: E402
from watchwall.metrics.demo_data import _cases  # noqa: E402
from watchwall.metrics.demo_supervision import location_check_rows  # noqa: E402
from watchwall.metrics.headline import headline_figures  # noqa: E402
from watchwall.metrics.localtime import SHANGHAI, local_day  # noqa: E402
from watchwall.metrics.models import Case, LocationCheck, Subject  # noqa: E402
from watchwall.metrics.rollup import rebuild_rollups  # noqa: E402

DAYS = 730
OUT = ROOT / "benchmarks" / "out"


def bench_subjects(rng: random.Random, rows: int, first, today) -> list[tuple]:
    """Subjects whose check-days in [first, today] add up to about ``rows / 2``."""
    subjects, slots, number = [], 0, 0
    weights = [c.weight for c in COUNTIES]
    while slots < rows * 1.03:  # some slots have no check at all; overshoot, then cut at ``rows``
        number += 1
        start = first + timedelta(days=rng.randint(-300, DAYS - 1))
        end = start + timedelta(days=rng.randint(180, 900))
        days_in = (min(end, today) - max(start, first)).days + 1
        if days_in <= 0:
            continue
        slots += 2 * days_in
        county = rng.choices([c.code for c in COUNTIES], weights=weights)[0]
        subjects.append((number, f"b-{number:06d}", "张三明", county, "probation", start, end, "ordinary"))
    return subjects


def load(url: str, rows: int, now: datetime) -> dict:
    upgrade(url)
    engine = make_engine(url)
    today = local_day(now)
    first = today - timedelta(days=DAYS - 1)
    rng = random.Random(1)
    timings = {}
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA cache_size = -1048576")
        subjects = bench_subjects(rng, rows, first, today)
        bulk_insert(
            connection,
            Subject.__table__,
            (
                "id",
                "external_id",
                "name",
                "county",
                "category",
                "start_date",
                "end_date",
                "supervision_level",
            ),
            subjects,
        )
        started = time.perf_counter()
        written = bulk_insert(
            connection,
            LocationCheck.__table__,
            (
                "external_id",
                "subject_id",
                "county",
                "checked_at",
                "local_day",
                "slot",
                "method",
                "result",
                "latitude",
                "longitude",
            ),
            islice(location_check_rows(random.Random(2), subjects, first, now, SHANGHAI), rows),
        )
        timings["insert_checks_s"] = time.perf_counter() - started
        bulk_insert(
            connection,
            Case.__table__,
            (
                "external_id",
                "case_type",
                "source_agency",
                "county",
                "received_at",
                "received_month",
                "closed_at",
            ),
            _cases(rng, first, now, SHANGHAI),
        )
        started = time.perf_counter()
        rebuild_rollups(connection, first, today)
        timings["rollups_s"] = time.perf_counter() - started
    analyse(engine)
    engine.dispose()
    return {"subjects": len(subjects), "checks": written, **timings}


def analyse(engine) -> None:
    """Planner statistics; on PostgreSQL also the visibility map that index-only scans need
    (what autovacuum does on its own after a large load)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE" if connection.dialect.name == "postgresql" else "ANALYZE")


RAW_SATISFIED = """
SELECT {keys}count(*) FROM (
  SELECT county, local_day, subject_id, slot FROM location_checks
  WHERE local_day BETWEEN :first AND :last
  GROUP BY county, local_day, subject_id, slot
  HAVING max(CASE WHEN result = 'ok' THEN 1 ELSE 0 END) = 1
) s {group}
"""
RAW_BY_METHOD = """
SELECT method, count(*), sum(CASE WHEN result = 'ok' THEN 1 ELSE 0 END) FROM location_checks
WHERE local_day BETWEEN :first AND :last GROUP BY method
"""


def raw(sql: str, keys: str = ""):
    statement = text(sql.format(keys=f"{keys}, " if keys else "", group=f"GROUP BY {keys}" if keys else ""))
    return lambda session, first, last: session.execute(statement, {"first": first, "last": last}).all()


def figures(now: datetime):
    today = local_day(now)
    first30, last30 = compliance.last_30_days(today)
    year = today - timedelta(days=364)
    return [
        (
            "today's compliance",
            lambda s: compliance.today_compliance(s, now),
            raw(RAW_SATISFIED),
            (today, today),
        ),
        (
            "last 30 days",
            lambda s: compliance.compliance_between(s, first30, last30),
            raw(RAW_SATISFIED),
            (first30, last30),
        ),
        (
            "by county, 30 days",
            lambda s: compliance.compliance_by_county(s, first30, last30),
            raw(RAW_SATISFIED, "county"),
            (first30, last30),
        ),
        (
            "by day, 30 days",
            lambda s: compliance.compliance_by_day(s, first30, last30),
            raw(RAW_SATISFIED, "local_day"),
            (first30, last30),
        ),
        (
            "by day, 365 days",
            lambda s: compliance.compliance_by_day(s, year, today),
            raw(RAW_SATISFIED, "local_day"),
            (year, today),
        ),
        (
            "by method, 30 days",
            lambda s: compliance.checks_by_method(s, first30, last30),
            raw(RAW_BY_METHOD),
            (first30, last30),
        ),
        ("missed today (masked)", lambda s: compliance.missed_today(s, now), None, None),
        ("subjects under supervision", lambda s: compliance.subjects_under_supervision(s, today), None, None),
        ("cases by month", lambda s: cases.cases_by_month(s), None, None),
        ("headline_figures (all)", lambda s: headline_figures(s, centres=8, now=now), None, None),
    ]


def timed(call, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def measure(url: str, now: datetime, repeat: int, raw_repeat: int) -> list[dict]:
    engine = make_engine(url)
    results = []
    with Session(engine) as session:
        for name, figure, raw_query, bounds in figures(now):
            figure(session)  # warm the cache once
            samples = timed(lambda figure=figure: figure(session), repeat)
            row = {"figure": name, "p50_ms": statistics.median(samples), "p95_ms": p95(samples)}
            if raw_query is not None:
                raw_samples = timed(lambda q=raw_query, b=bounds: q(session, *b), raw_repeat)
                row["raw_p50_ms"] = statistics.median(raw_samples)
                row["raw_over_figure"] = row["raw_p50_ms"] / row["p50_ms"]
            results.append(row)
    engine.dispose()
    return results


def markdown(backend: str, info: dict, results: list[dict]) -> str:
    lines = [
        f"**{backend}**: {info['checks']:,} checks, {info['subjects']:,} subjects; "
        f"load {info['insert_checks_s']:.0f} s, roll-ups {info['rollups_s']:.0f} s",
        "",
        "| figure | p50 ms | p95 ms | raw GROUP BY p50 ms | raw / figure |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in results:
        raw_p50 = f"{row['raw_p50_ms']:.0f}" if "raw_p50_ms" in row else "-"
        ratio = f"{row['raw_over_figure']:.0f}x" if "raw_over_figure" in row else "-"
        lines.append(f"| {row['figure']} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | {raw_p50} | {ratio} |")
    return "\n".join(lines)


def fresh_postgres(url: str) -> None:
    server, name = url.rsplit("/", 1)
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--raw-repeat", type=int, default=3)
    parser.add_argument("--sqlite-path", type=Path, default=OUT / "metrics_bench.db")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/ww_metrics_bench")
    parser.add_argument("--reuse", action="store_true", help="skip loading; time an already loaded database")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).replace(microsecond=0)
    for backend in args.backends.split(","):
        if backend == "sqlite":
            url = f"sqlite:///{args.sqlite_path}"
            if not args.reuse:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{args.sqlite_path}{suffix}").unlink(missing_ok=True)
        else:
            url = args.pg_url
            if not args.reuse:
                fresh_postgres(url)
        info_file = OUT / f"metrics_{backend}_load.json"
        if args.reuse:
            info = json.loads(info_file.read_text())
            now = datetime.fromisoformat(info["now"])
        else:
            print(f"{backend}: loading {args.rows:,} checks ...", file=sys.stderr, flush=True)
            info = {**load(url, args.rows, now), "now": now.isoformat()}
            info_file.write_text(json.dumps(info))
        results = measure(url, now, args.repeat, args.raw_repeat)
        (OUT / f"metrics_{backend}.json").write_text(json.dumps({"load": info, "figures": results}, indent=2))
        print(markdown(backend, info, results), flush=True)
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
