"""``watchwall incidents list [--state S] [--county C] [--json]``: incidents for scripts and tests."""

from __future__ import annotations

import json

from sqlalchemy import inspect

from watchwall.config.database import make_engine, redact_database_url
from watchwall.config.errors import UserError
from watchwall.config.settings import get_settings
from watchwall.incidents.states import STATES
from watchwall.incidents.store import list_incidents


def register(subparsers) -> None:
    incidents = subparsers.add_parser("incidents", help="incidents opened by alarms and missed checks")
    commands = incidents.add_subparsers(dest="incidents_command", metavar="COMMAND", required=True)
    listing = commands.add_parser("list", help="list incidents, newest first")
    listing.add_argument("--state", help=f"only this state ({', '.join(STATES)})")
    listing.add_argument("--county", help="only this county (centre code)")
    listing.add_argument("--limit", type=int, default=500, help="at most this many (default 500)")
    listing.add_argument("--json", action="store_true", help="print a JSON list")
    listing.set_defaults(func=list_command)


def list_command(args) -> int:
    if args.state and args.state not in STATES:
        raise UserError(f"--state {args.state!r} is not one of {', '.join(STATES)}")
    if args.limit < 1:
        raise UserError("--limit must be at least 1")
    settings = get_settings()
    engine = make_engine(settings.effective_database_url)
    try:
        if "incidents" not in inspect(engine).get_table_names():
            url = redact_database_url(settings.effective_database_url)
            raise UserError(f"{url} has no incidents table yet; run `watchwall db upgrade`")
        rows = list_incidents(engine, state=args.state, county=args.county, limit=args.limit)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        what = row["camera_id"] or row["subject"] or "-"
        flags = " overdue" if row["overdue"] else ""
        flags += " recovered" if row["recovered"] else ""
        print(
            f"#{row['id']:<6} {row['opened_at']}  {row['state']:<12} {row['kind']:<15} "
            f"{row['county']:<10} {what}  x{row['count']}{flags}"
        )
    if not rows:
        print("no incidents")
    return 0
