"""The audit log as the dashboard reads it: the core (tables, append, verify) is ``watchwall.audit.log``.

Re-exported here so the pages, routes and CLI keep one import; this module adds the listing
that the inspector page and ``watchwall audit list`` show.
"""

from __future__ import annotations

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
