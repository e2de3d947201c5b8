"""``watchwall audit verify`` and ``watchwall audit list``."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError, ProgrammingError

from watchwall.audit.log import AuditEntry
from watchwall.config.errors import UserError
from watchwall.config.plain_text import printable
from watchwall.config.settings import get_settings


def register(subparsers) -> None:
    audit = subparsers.add_parser("audit", help="the tamper-evident audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = audit_sub.add_parser(
        "verify", help="check the audit log's hash chain; name the first broken row"
    )
    verify.set_defaults(func=verify_command)
    listing = audit_sub.add_parser("list", help="the newest audit entries")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--action", help="only this action (login, playback, export, ...)")
    listing.add_argument("--actor", help="only this user")
    listing.add_argument("--json", action="store_true", help="one JSON object a line")
    listing.set_defaults(func=list_command)


def _engine():
    from watchwall.config.database import make_engine

    return make_engine(get_settings().effective_database_url)


def verify_command(args) -> int:
    from watchwall.audit.log import verify_chain

    engine = _engine()
    try:
        breaks = verify_chain(engine)
        with engine.connect() as connection:
            count = connection.execute(select(func.count()).select_from(AuditEntry)).scalar()
            unanchored = connection.execute(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.entry_mac.is_(None))
            ).scalar()
    except (OperationalError, ProgrammingError) as exc:
        raise UserError(f"no audit log in this database (run `watchwall db upgrade`): {exc.orig}") from exc
    finally:
        engine.dispose()
    if breaks:
        recomputed = any(b.problem.startswith("recomputed chain") for b in breaks)
        if recomputed:
            print(
                "audit log RECOMPUTED: rows were rewritten with recomputed hashes (the anchor does not match)"
            )
        print(f"audit log BROKEN at row {breaks[0].entry_id}: {breaks[0].problem}")
        for other in breaks[1:]:
            print(f"  also {other}")
        return 1
    legacy = f"; {unanchored} written before anchoring" if unanchored else ""
    print(f"audit log intact: {count} entries, anchored with this installation's key{legacy}")
    return 0


def list_command(args) -> int:
    from watchwall.audit.listing import list_entries

    if not 0 < args.limit <= 10_000:
        raise UserError("--limit must be between 1 and 10000")
    engine = _engine()
    try:
        entries = list_entries(engine, limit=args.limit, action=args.action, actor=args.actor)
    except (OperationalError, ProgrammingError) as exc:
        raise UserError(f"no audit log in this database (run `watchwall db upgrade`): {exc.orig}") from exc
    finally:
        engine.dispose()
    for entry in entries:
        fields = {
            "id": entry.id,
            "at": entry.at,
            "actor": entry.actor,
            "action": entry.action,
            "target": entry.target,
            "address": entry.address,
            "detail": json.loads(entry.detail) if entry.detail else None,
        }
        if args.json:
            print(printable(json.dumps(fields, ensure_ascii=False)))  # JSON escapes C0; printable the rest
        else:
            detail = f" {entry.detail}" if entry.detail else ""
            print(
                printable(
                    f"{entry.id:>6} {entry.at} {entry.actor} {entry.action} {entry.target or '-'} {entry.address or '-'}{detail}"
                )
            )
    return 0
