"""Dash figure callbacks at the 10-million-check scale: p50/p95 per callback, server time and round trip.

    .venv/bin/python benchmarks/dashboard/callbacks.py                  # build if missing, then measure
    .venv/bin/python benchmarks/dashboard/callbacks.py --build-only     # only load the big databases
    .venv/bin/python benchmarks/dashboard/callbacks.py --rows 200000    # a quick run

The big databases are the foundation benchmark's (benchmarks/metrics/run.py: subjects with two
checks a day over two years, roll-ups built, ANALYZE), loaded once into
``benchmarks/out/callbacks_bench.db`` and the PostgreSQL database ``ww_callbacks_bench`` and
kept there for the next run (``--rebuild`` loads them again).

For each backend a real ``watchwall serve --no-ingest --no-record`` runs on the big database;
a city_command user (/wall and /centres/qinzhou) and a county supervisor (/centres/qinzhou) log
in through the form. Debian Chromium loads each page once (first backend's demo server) and every
POST it makes to /_dash-update-component is kept, body and query string; those exact requests
are then replayed by each user's own session, ``--repeat`` times each after two warm-up calls.
Round trip is timed here; server time is the app's own Prometheus histogram
(``watchwall_callback_seconds``, dashboard/app.py): its ``_sum`` read before and after each call
(its ``_count`` must rise by exactly one). Baseline in the same run: the same requests on a fresh
demo database of the same backend, served by a second serve running beside the first; the two
servers' calls alternate, so that both meet the same load of the (shared) machine. Writes
``benchmarks/out/callbacks.json`` and prints Markdown. Not part of CI.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import requests
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from watchwall.config.database import make_engine  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
DEFAULT_PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
DEMO_PG_NAME = "ww_callbacks_demo"
COUNTY = "qinzhou"
# (user, role, county, pages whose callbacks are measured)
USERS = (
    ("bench-command", "city_command", None, ("/wall", f"/centres/{COUNTY}")),
    ("bench-county", "county_supervisor", COUNTY, (f"/centres/{COUNTY}",)),
)
# The callbacks that read the case database and draw figures (by the ids of their outputs); the
# pages' other callbacks (page routing, ...) are timed too and marked apart.
FIGURE_OUTPUTS = ("wall-kpis.", "wall-charts.", "chart-", "centre-kpis.")
LOADED = {"/wall": "#chart-compliance-county .main-svg", f"/centres/{COUNTY}": "#kpi-county-compliance"}


@functools.cache
def sibling_benchmark(name: str):
    """``benchmarks/<name>/run.py`` as a module (both folders name their script ``run.py``)."""
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", ROOT / "benchmarks" / name / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def checks_in(url: str) -> int:
    """Location checks in the database at ``url``; 0 when it has no schema yet."""
    try:
        engine = make_engine(url)
    except Exception:
        return 0
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM location_checks")).scalar_one()
    except Exception:
        return 0
    finally:
        engine.dispose()


def build(backend: str, url: str, rows: int, rebuild: bool) -> dict:
    """Load the foundation benchmark's database unless it is already there with ``rows`` checks."""
    foundation = sibling_benchmark("metrics")

    database_name = Path(url).stem if backend == "sqlite" else url.rsplit("/", 1)[1]
    info_file = OUT / f"{database_name}_{backend}_load.json"  # what was loaded, and when
    if not rebuild and info_file.exists() and checks_in(url) == rows:
        info = json.loads(info_file.read_text())
        if info.get("rows") == rows:
            return info
    if backend == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        foundation.fresh_postgres(url)
    print(f"{backend}: loading {rows:,} checks ...", file=sys.stderr, flush=True)
    now = datetime.now(UTC).replace(microsecond=0)
    started = time.perf_counter()
    info = {**foundation.load(url, rows, now), "now": now.isoformat(), "rows": rows}
    info["load_total_s"] = time.perf_counter() - started
    info_file.write_text(json.dumps(info))
    return info


def backend_urls(args) -> dict[str, str]:
    urls = {}
    for backend in args.backends.split(","):
        if backend == "sqlite":
            urls[backend] = f"sqlite:///{args.sqlite_path}"
        elif backend == "postgresql":
            urls[backend] = args.pg_url
        else:
            raise SystemExit(f"unknown backend {backend!r}")
    return urls


def add_users(serve) -> None:
    """The benchmark's two accounts in the served database (kept from an earlier run if there)."""
    for name, role, county, _pages in USERS:
        args = ["user", "add", name, "--role", role, "--password-env", "BENCH_PW"]
        args += ["--county", county] if county else []
        try:
            serve.cli(*args)
        except subprocess.CalledProcessError as failed:
            if b"exists" not in failed.stderr + failed.stdout:
                raise


def capture_payloads(serve) -> dict[tuple[str, str], list[dict]]:
    """What Chromium posts to /_dash-update-component while each user's pages load: the bodies
    and their query strings."""
    from playwright.sync_api import sync_playwright

    captured: dict[tuple[str, str], list[dict]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        )
        try:
            for name, _role, _county, pages in USERS:
                context = browser.new_context(viewport={"width": 1920, "height": 1080})
                page = context.new_page()
                page.goto(f"{serve.url}/login")
                page.fill("input[name=username]", name)
                page.fill("input[name=password]", serve.env["BENCH_PW"])
                page.click("button[type=submit]")
                page.wait_for_load_state("load")
                for path in pages:
                    bodies: list[dict] = []

                    def listener(request, bodies=bodies) -> None:
                        address = urlsplit(request.url)
                        if address.path == "/_dash-update-component":  # Dash 4 adds ?endId=...
                            bodies.append({"query": address.query, "body": json.loads(request.post_data)})

                    page.on("request", listener)
                    page.goto(f"{serve.url}{path}")
                    page.wait_for_selector(LOADED[path], timeout=120_000)
                    page.wait_for_timeout(1500)  # the callbacks that the first ones chain
                    page.remove_listener("request", listener)
                    captured[(name, path)] = bodies
                context.close()
        finally:
            browser.close()
    return captured


def callback_name(body: dict) -> str:
    """What the app's timing histogram calls the callback: its outputs, as the request names them."""
    return str(body.get("output", "unknown"))[:120]


def short_name(body: dict) -> str:
    output = str(body.get("output", "?")).strip(".")
    first = output.split("...")[0]
    return first if len(first) < 60 else first[:57] + "..."


def server_seconds(serve, session: requests.Session) -> dict[str, tuple[float, float]]:
    """{callback: (sum of seconds, count)} from the app's /metrics histogram."""
    exposition = session.get(f"{serve.url}/metrics", timeout=10).text
    totals: dict[str, list[float]] = {}
    pattern = re.compile(
        r'^watchwall_callback_seconds_(sum|count)\{callback="((?:[^"\\]|\\.)*)"\} (\S+)$', re.M
    )
    for kind, label, value in pattern.findall(exposition):
        label = label.replace('\\"', '"').replace("\\\\", "\\")
        totals.setdefault(label, [0.0, 0.0])[0 if kind == "sum" else 1] = float(value)
    return {label: (pair[0], pair[1]) for label, pair in totals.items()}


def timed_call(
    serve, session: requests.Session, path: str, call: dict
) -> tuple[float, float, requests.Response]:
    """(server ms, round trip ms, response) of one replayed callback request."""
    body, query = call["body"], call["query"]
    name = callback_name(body)
    headers = {"Content-Type": "application/json", "Origin": serve.url, "Referer": f"{serve.url}{path}"}
    before = server_seconds(serve, session).get(name, (0.0, 0.0))
    started = time.perf_counter()
    response = session.post(
        f"{serve.url}/_dash-update-component" + (f"?{query}" if query else ""),
        data=json.dumps(body),
        headers=headers,
        timeout=60,
    )
    elapsed = time.perf_counter() - started
    if response.status_code not in (200, 204):
        raise RuntimeError(f"{path} {name}: HTTP {response.status_code} {response.text[:200]}")
    after = server_seconds(serve, session).get(name, (0.0, 0.0))
    if after[1] - before[1] != 1:
        raise RuntimeError(f"{name}: the histogram counted {after[1] - before[1]} calls, not 1")
    return (after[0] - before[0]) * 1000, elapsed * 1000, response


def summary(samples: list[tuple[float, float]]) -> dict:
    server = [s for s, _ in samples]
    round_trips = [r for _, r in samples]
    return {
        "server_p50_ms": statistics.median(server),
        "server_p95_ms": percentile(server, 0.95),
        "round_trip_p50_ms": statistics.median(round_trips),
        "round_trip_p95_ms": percentile(round_trips, 0.95),
    }


def time_callbacks(serves: dict, payloads: dict, repeat: int, warmup: int = 2) -> dict[str, list[dict]]:
    """Each captured callback posted ``repeat`` times (after ``warmup``) by its own user to every
    server in ``serves`` ({label: Serve}), the servers' calls alternating so that all of them
    meet the same load of the machine."""
    results: dict[str, list[dict]] = {label: [] for label in serves}
    for (user, path), calls in payloads.items():
        sessions = {label: serve.session(user) for label, serve in serves.items()}
        seen = set()
        for call in calls:
            name = callback_name(call["body"])
            if name in seen:
                continue
            seen.add(name)
            samples: dict[str, list[tuple[float, float]]] = {label: [] for label in serves}
            responses = {}
            for index in range(warmup + repeat):
                for label, serve in serves.items():
                    server_ms, round_trip_ms, responses[label] = timed_call(
                        serve, sessions[label], path, call
                    )
                    if index >= warmup:
                        samples[label].append((server_ms, round_trip_ms))
            for label in serves:
                results[label].append(
                    {
                        "user": user,
                        "page": path,
                        "callback": short_name(call["body"]),
                        "figure": any(output in name for output in FIGURE_OUTPUTS),
                        "status": responses[label].status_code,
                        "bytes": len(responses[label].content),
                        **summary(samples[label]),
                    }
                )
    return results


def serve_on(data_dir: Path, database_url: str | None, demo: bool):
    """A ``watchwall serve --no-ingest --no-record`` (not started yet) on ``database_url`` (None:
    the default SQLite file in ``data_dir``); ``demo``: a fresh database with the demo data."""
    data_dir.mkdir(parents=True, exist_ok=True)
    serve = sibling_benchmark("dashboard").Serve(
        data_dir, {"WATCHWALL_DATABASE_URL": database_url} if database_url else {}
    )
    if demo and database_url is not None:
        sibling_benchmark("metrics").fresh_postgres(database_url)
    serve.cli("db", "upgrade")
    if demo:
        serve.cli("demo-data")
    add_users(serve)
    return serve


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def markdown(backend: str, info: dict, demo: list[dict], big: list[dict], repeat: int) -> str:
    lines = [
        f"**{backend}**: {info['checks']:,} location checks, {info['subjects']:,} subjects; baseline: the "
        f"demo database; {repeat} calls of each callback, p50 / p95 in ms",
        "",
        "| user | page | callback (first output) | figures | server, demo | server, big "
        "| round trip, demo | round trip, big | big / demo (server p95) |",
        "|---|---|---|---|---:|---:|---:|---:|---:|",
    ]
    baseline = {(r["user"], r["page"], r["callback"]): r for r in demo}

    def pair(row, kind):
        return f"{row[kind + '_p50_ms']:.1f} / {row[kind + '_p95_ms']:.1f}" if row else "-"

    for row in big:
        base = baseline.get((row["user"], row["page"], row["callback"]))
        ratio = f"{row['server_p95_ms'] / base['server_p95_ms']:.1f}x" if base else "-"
        lines.append(
            f"| {row['user']} | {row['page']} | `{row['callback']}` | {'yes' if row['figure'] else ''} "
            f"| {pair(base, 'server')} | {pair(row, 'server')} "
            f"| {pair(base, 'round_trip')} | {pair(row, 'round_trip')} | {ratio} |"
        )
    return "\n".join(lines)


def measure_backend(backend: str, url: str, folder: Path, repeat: int, payloads: dict | None):
    """The demo and the big database each behind their own serve, both running, calls alternating."""
    demo_url = None if backend == "sqlite" else f"{DEFAULT_PG_SERVER}/{DEMO_PG_NAME}"
    serves = {
        label: serve_on(folder / f"{backend}-{label}", database_url, demo=label == "demo")
        for label, database_url in (("demo", demo_url), ("big", url))
    }
    try:
        for serve in serves.values():
            serve.start()
        if payloads is None:
            payloads = capture_payloads(serves["demo"])
        return time_callbacks(serves, payloads, repeat), payloads
    finally:
        for serve in serves.values():
            if getattr(serve, "process", None) is not None:
                serve.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--sqlite-path", type=Path, default=OUT / "callbacks_bench.db")
    parser.add_argument("--pg-url", default=f"{DEFAULT_PG_SERVER}/ww_callbacks_bench")
    parser.add_argument("--rebuild", action="store_true", help="load the big databases again")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    urls = backend_urls(args)
    loads = {backend: build(backend, url, args.rows, args.rebuild) for backend, url in urls.items()}
    if args.build_only:
        print(json.dumps(loads, indent=2))
        return 0
    payloads = None
    report = {}
    with tempfile.TemporaryDirectory() as folder:
        for backend, url in urls.items():
            runs, payloads = measure_backend(backend, url, Path(folder), args.repeat, payloads)
            report[backend] = {"load": loads[backend], **runs}
            print(markdown(backend, loads[backend], runs["demo"], runs["big"], args.repeat), flush=True)
            print(flush=True)
    (OUT / "callbacks.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
