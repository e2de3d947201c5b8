"""``watchwall report``: a signed supervision report on demand; and the PDF half of ``watchwall verify``."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect

from watchwall.config.errors import UserError
from watchwall.config.settings import get_settings


def register(subparsers) -> None:
    report = subparsers.add_parser(
        "report", help="a signed supervision report (PDF) of a county or the city for a day or a month"
    )
    scope = report.add_mutually_exclusive_group(required=True)
    scope.add_argument("--county", help="county code (see `watchwall site check`)")
    scope.add_argument("--city", action="store_true", help="the whole city")
    period = report.add_mutually_exclusive_group(required=True)
    period.add_argument("--day", help="a local day, YYYY-MM-DD")
    period.add_argument("--month", help="a local month, YYYY-MM")
    report.add_argument(
        "--out", type=Path, help="the PDF to write (default: the reports folder that /reports lists)"
    )
    report.add_argument("--lang", default="zh-CN", choices=["zh-CN", "en"], help="language (default zh-CN)")
    report.add_argument("--user", help="who asks for it, for the audit log (default: the login name)")
    report.set_defaults(func=report_command)


def open_site(settings, engine):
    """The site file's cameras and the inventory's, as the ingest pulls them."""
    from watchwall.cameras.inventory_watch import pull_list_now
    from watchwall.config.site import load_site

    return pull_list_now(load_site(settings.site), engine)[1]


def report_command(args) -> int:
    from watchwall.config.database import make_engine, redact_database_url
    from watchwall.reports.generate import generate_report
    from watchwall.reports.period import make_request
    from watchwall.reports.store import stored_path

    settings = get_settings()
    data_dir = settings.ensure_data_dir()
    url = settings.effective_database_url
    engine = make_engine(url)
    try:
        if "subjects" not in inspect(engine).get_table_names():
            raise UserError(
                f"{redact_database_url(url)} has no case database yet; run `watchwall db upgrade`"
            )
        site = open_site(settings, engine)
        request = make_request(
            site=site,
            zone=settings.zone,
            county=args.county,
            day=args.day,
            month=args.month,
            language=args.lang,
        )
        out = (args.out.expanduser() if args.out else stored_path(data_dir, request)).absolute()
        if out.suffix.lower() != ".pdf":
            raise UserError(f"--out {out} must end in .pdf")
        if out.exists():
            raise UserError(f"{out} exists; choose another --out (or delete it first)")
        if not out.parent.is_dir() and args.out:
            raise UserError(f"folder {out.parent} does not exist")
        result = generate_report(
            engine,
            site,
            request,
            out,
            data_dir=data_dir,
            zone=settings.zone,
            actor=args.user or getpass.getuser(),
            address="cli",
            now=datetime.now(UTC),
        )
    finally:
        engine.dispose()
    note = "" if result.figures["has_data"] else " (no data for this period)"
    print(
        f"wrote {result.path} and {result.sidecar.name}: {request.report_id}, SHA-256 {result.sha256}{note}"
    )
    return 0


def verify_report_command(args) -> int:
    """``watchwall verify REPORT.pdf``: the signature beside it, by this installation's key or a trusted one."""
    from watchwall.reports.signing import verify_report
    from watchwall.video.record.signing import print_verdict, trusted_fingerprints

    trusted = trusted_fingerprints(get_settings().data_dir, args.trust_key)
    if not args.package.is_file():
        raise UserError(f"{args.package} is not a file")
    return print_verdict(args.package, verify_report(args.package, trusted))
