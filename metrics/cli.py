"""``watchwall demo-data``, ``watchwall metrics`` and ``watchwall import checkins|cases|areas``."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.orm import Session

from watchwall.config.errors import UserError
from watchwall.config.settings import get_settings
from watchwall.metrics.localtime import as_utc


def register(subparsers) -> None:
    demo = subparsers.add_parser("demo-data", help="load about three years of deterministic demo case data")
    demo.add_argument("--seed", type=int, default=None, help="random seed (default: the shipped demo's)")
    demo.add_argument("--replace", action="store_true", help="delete existing case data first")
    demo.set_defaults(func=demo_data)

    metrics = subparsers.add_parser("metrics", help="print the headline figures of the case database")
    metrics.add_argument("--json", action="store_true", help="print JSON")
    metrics.add_argument(
        "--at", metavar="ISO", help="compute every figure as at this instant (ISO 8601; naive = site time)"
    )
    metrics.set_defaults(func=show_metrics)

    importer = subparsers.add_parser(
        "import", help="import location checks, platform cases or subjects' assigned areas (.csv, .jsonl)"
    )
    importer.add_argument("what", choices=["checkins", "cases", "areas"])
    importer.add_argument("file", type=Path)
    importer.add_argument(
        "--progress", action="store_true", help="show a progress bar even when not on a terminal"
    )
    importer.set_defaults(func=import_rows)


def _engine() -> tuple[str, Engine]:
    from watchwall.config.database import make_engine

    settings = get_settings()
    settings.ensure_data_dir()
    url = settings.effective_database_url
    return url, make_engine(url)


def _require_schema(engine: Engine, url: str) -> None:
    from watchwall.config.database import redact_database_url

    if "subjects" not in inspect(engine).get_table_names():
        raise UserError(f"{redact_database_url(url)} has no case database yet; run `watchwall db upgrade`")


def demo_data(args) -> int:
    from watchwall.config.database import upgrade
    from watchwall.metrics.demo_data import DEFAULT_SEED, load_demo_data

    url, engine = _engine()
    try:
        upgrade(url)
        seed = DEFAULT_SEED if args.seed is None else args.seed
        counts = load_demo_data(engine, seed=seed, replace=args.replace, zone=get_settings().zone)
    finally:
        engine.dispose()
    print(
        f"demo data (seed {seed}): "
        + ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in counts.items())
    )
    return 0


def show_metrics(args) -> int:
    from watchwall.metrics.headline import headline_figures

    settings = get_settings()
    at = parse_at(args.at, settings.zone) if args.at else None
    url, engine = _engine()
    try:
        _require_schema(engine, url)
        with Session(engine) as session:
            figures = headline_figures(session, zone=settings.zone, now=at, windows=settings.checkin_windows)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    else:
        _print_figures(figures)
    return 0


def parse_at(text: str, zone) -> datetime:
    """``--at``: an ISO 8601 instant; without an offset it is read in the site's zone."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"--at {text!r} is not an ISO 8601 time (e.g. 2026-12-04T09:30:00+08:00)") from None
    return as_utc(moment, zone)


def _print_figures(figures: dict, indent: str = "") -> None:
    for key, value in figures.items():
        if isinstance(value, dict):
            print(f"{indent}{key}:")
            _print_figures(value, indent + "  ")
        elif isinstance(value, float):
            print(f"{indent}{key}: {value:.1%}")
        else:
            print(f"{indent}{key}: {'-' if value is None else value}")


def _checkin_links(engine: Engine):
    """Rows naming a camera are checked as the REST intake checks them: the site file's cameras and
    the inventory's, in the check's county; their spans are queued for the face check."""
    from watchwall.cameras.inventory_watch import pull_list_now
    from watchwall.config.site import load_site
    from watchwall.dashboard.checkin_video_intake import VideoCheckinLinks

    settings = get_settings()
    site: list = []

    def current_site():
        if not site:  # read once, and only when the file has check-ins
            site.append(pull_list_now(load_site(settings.site), engine)[1])
        return site[0]

    return VideoCheckinLinks(current_site, settings.checkin_video)


def import_rows(args) -> int:
    from watchwall.metrics.geo.area_import import import_area_file
    from watchwall.metrics.importer import import_file

    url, engine = _engine()
    try:
        _require_schema(engine, url)
        show = args.progress or sys.stderr.isatty()
        if args.what == "areas":
            report = import_area_file(engine, args.file)
        else:
            links = _checkin_links(engine) if args.what == "checkins" else None
            report = import_file(
                engine,
                args.what,
                args.file,
                zone=get_settings().zone,
                show_progress=show,
                checkin_links=links,
            )
    finally:
        engine.dispose()
    print(f"{args.file}: {report}")
    return 0
