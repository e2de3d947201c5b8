"""The audit log as the dashboard reads it: the core (tables, append, verify) is ``watchwall.audit.log``.

Re-exported here so the pages, routes and CLI keep one import; this module adds the listing
that the inspector page and ``watchwall audit list`` show, and the scoping of the inspector
page: an inspector of some counties sees the rows about those counties' cameras only, and
the user names of failed logins are shown to administrators only.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from watchwall.audit.log import (  # noqa: F401  (re-exported)
    ACTION_PATTERN,
    GENESIS_HASH,
    HEAD_ID,
    KNOWN_ACTIONS,
    AuditEntry,
    AuditHead,
    AuditLog,
    ChainBreak,
    append,
    canonical_detail,
    entry_hash,
    verify_chain,
)


def list_entries(
    engine: Engine,
    *,
    limit: int = 50,
    action: str | None = None,
    actor: str | None = None,
    before_id: int | None = None,
) -> list[AuditEntry]:
    """The newest entries first, optionally of one action or actor (for the CLI and the inspector page)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEntry.action == action)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if before_id:
        query = query.where(AuditEntry.id < before_id)
    with Session(engine) as session:
        return list(session.scalars(query))


HIDDEN = "•••"
SCAN_BATCH = 500
MAX_SCANNED = 20_000  # an inspector's page never reads more than this many rows to fill itself


def about_cameras(entry: AuditEntry, cameras: set[str]) -> bool:
    """Whether ``entry`` is about ``cameras`` only: its target, or every camera its detail names."""
    if entry.target in cameras:
        return True
    try:
        named = json.loads(entry.detail).get("cameras") if entry.detail else None
    except (ValueError, AttributeError):
        return False
    return isinstance(named, list) and bool(named) and all(camera in cameras for camera in named)


def masked(entry: AuditEntry) -> AuditEntry:
    """A detached copy of a failed login without the user name that was tried."""
    fields = {column.key: getattr(entry, column.key) for column in AuditEntry.__table__.columns}
    return AuditEntry(**{**fields, "target": HIDDEN})


def scoped_entries(
    engine: Engine,
    *,
    cameras: set[str] | None,
    reveal_failed_logins: bool,
    limit: int = 50,
    action: str | None = None,
    actor: str | None = None,
) -> list[AuditEntry]:
    """The newest entries a reader may see: with ``cameras`` (None: every row) only rows about
    them; failed logins' user names only when ``reveal_failed_logins``."""
    found: list[AuditEntry] = []
    before_id = None
    for _batch in range(MAX_SCANNED // SCAN_BATCH):
        batch = list_entries(engine, limit=SCAN_BATCH, action=action, actor=actor, before_id=before_id)
        found += [entry for entry in batch if cameras is None or about_cameras(entry, cameras)]
        if len(found) >= limit or len(batch) < SCAN_BATCH or cameras is None:
            break
        before_id = batch[-1].id
    return [
        masked(entry) if entry.action == "login_failed" and not reveal_failed_logins else entry
        for entry in found[:limit]
    ]
