"""The tamper-evident audit log's core: its tables, appending a row, verifying the chain.

A row's hash is SHA-256 over the canonical JSON of its fields and the previous
row's hash, so editing or deleting a row behind the application's back breaks
the chain at that row. Each row also carries an HMAC of its hash under a key kept
outside the database (:mod:`watchwall.audit.anchor`): a chain recomputed after an edit
by someone without that key is named as such. Appends are serialized on the one ``audit_head`` row
(an UPDATE first: a row lock on PostgreSQL, the write lock on SQLite), so
concurrent writers never fork the chain.

It lives in config/, the infrastructure every package may import, so that the
media plane (retention run by ``watchwall ingest``) audits without importing
the dashboard; ``watchwall.audit.listing`` re-exports it beside the readers for pages.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, String, Text, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from watchwall.audit.anchor import anchor_key, entry_mac, mac_matches
from watchwall.config.database import Base
from watchwall.config.errors import UserError
from watchwall.config.timestamps import utc_iso


class AuditEntry(Base):
    """One audited action; ``entry_hash`` covers its fields and the previous row's hash."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(32), nullable=False, index=True)  # ISO 8601 UTC, "...Z"
    actor: Mapped[str] = mapped_column(String(128), nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    target: Mapped[str | None] = mapped_column(String(512))
    detail: Mapped[str | None] = mapped_column(Text)  # canonical JSON
    address: Mapped[str | None] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    entry_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    entry_mac: Mapped[str | None] = mapped_column(String(64))  # HMAC of entry_hash; None before 0007


class AuditHead(Base):
    """One row: the chain's last id and hash. Writers lock it, so concurrent appends never fork."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(Integer, nullable=False)
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False)


GENESIS_HASH = "0" * 64
HEAD_ID = 1
ACTION_PATTERN = re.compile(r"^[a-z][a-z0-9_.]{0,31}$")
# The actions WatchWall writes; others may be added, named the same way.
KNOWN_ACTIONS = (
    "login",
    "logout",
    "live_view",
    "playback",
    "export",
    "ptz",
    "snapshot",
    "config_change",
    "user_change",
    "hold",
    "retention_delete",
    "bookmark_add",
    "bookmark_edit",
    "bookmark_delete",
    "bookmark_link",
    "lock",
    "unlock",
)


def canonical_detail(detail) -> str | None:
    if detail is None:
        return None
    return json.dumps(detail, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def entry_hash(*, id: int, at: str, actor: str, action: str, target, detail, address, prev_hash: str) -> str:
    fields = {
        "id": id,
        "at": at,
        "actor": actor,
        "action": action,
        "target": target,
        "detail": detail,
        "address": address,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_detail(fields).encode()).hexdigest()


def append(
    engine: Engine,
    *,
    actor: str,
    action: str,
    target: str | None = None,
    detail=None,
    address: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry and return it; safe from many threads and processes at once."""
    if not ACTION_PATTERN.match(action):
        raise UserError(f"audit action {action!r} must be a short lower-case identifier")
    for _attempt in range(3):
        try:
            return _append_once(engine, actor, action, target, canonical_detail(detail), address, utc_iso(at))
        except IntegrityError:
            continue  # another writer created the missing head row first; take the lock again
    raise UserError("could not append to the audit log: the chain head keeps changing")


def _append_once(engine, actor, action, target, detail, address, at) -> AuditEntry:
    with engine.begin() as connection:
        # The write comes first: it takes the lock before anything is read.
        locked = connection.execute(
            update(AuditHead).where(AuditHead.id == HEAD_ID).values(last_id=AuditHead.last_id)
        ).rowcount
        if not locked:
            connection.execute(insert(AuditHead).values(id=HEAD_ID, last_id=0, last_hash=GENESIS_HASH))
        last_id, last_hash = connection.execute(
            select(AuditHead.last_id, AuditHead.last_hash).where(AuditHead.id == HEAD_ID)
        ).one()
        values = {
            "id": last_id + 1,
            "at": at,
            "actor": actor,
            "action": action,
            "target": target,
            "detail": detail,
            "address": address,
            "prev_hash": last_hash,
        }
        values["entry_hash"] = entry_hash(**values)
        values["entry_mac"] = entry_mac(anchor_key(), values["entry_hash"])
        connection.execute(insert(AuditEntry).values(**values))
        connection.execute(
            update(AuditHead)
            .where(AuditHead.id == HEAD_ID)
            .values(last_id=values["id"], last_hash=values["entry_hash"])
        )
    return AuditEntry(**values)


class AuditLog:
    """The ``audit`` callable that other modules take: ``audit(actor=..., action=..., ...)``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, **entry) -> AuditEntry:
        return append(self.engine, **entry)


@dataclass(frozen=True)
class ChainBreak:
    entry_id: int
    problem: str

    def __str__(self) -> str:
        return f"row {self.entry_id}: {self.problem}"


def verify_chain(engine: Engine, batch: int = 1000) -> list[ChainBreak]:
    """Every break in the chain, oldest first; empty when the log is intact."""
    breaks: list[ChainBreak] = []
    expected_id, previous_hash = 1, GENESIS_HASH
    key = anchor_key()
    anchored = False  # rows written before the anchor existed (migration 0007) carry no MAC
    with engine.connect() as connection:
        rows = connection.execution_options(yield_per=batch).execute(
            select(AuditEntry.__table__).order_by(AuditEntry.id)
        )
        for row in rows.mappings():
            if row["id"] != expected_id:
                missing = (
                    f"{expected_id}" if row["id"] == expected_id + 1 else f"{expected_id}-{row['id'] - 1}"
                )
                breaks.append(ChainBreak(row["id"], f"row(s) {missing} before it were deleted"))
            if row["prev_hash"] != previous_hash:
                breaks.append(ChainBreak(row["id"], "its link to the previous row does not match"))
            fields = {
                k: row[k] for k in ("id", "at", "actor", "action", "target", "detail", "address", "prev_hash")
            }
            if entry_hash(**fields) != row["entry_hash"]:
                breaks.append(ChainBreak(row["id"], "its content was edited (hash mismatch)"))
            elif row["entry_mac"] is not None or anchored:
                anchored = True
                if not mac_matches(key, row["entry_hash"], row["entry_mac"]):
                    breaks.append(
                        ChainBreak(
                            row["id"],
                            "recomputed chain: its hash is not anchored by this installation's key "
                            "(rewritten by someone without the key kept outside the database)",
                        )
                    )
            expected_id, previous_hash = row["id"] + 1, row["entry_hash"]
        head = connection.execute(
            select(AuditHead.last_id, AuditHead.last_hash).where(AuditHead.id == HEAD_ID)
        ).first()
    if head is not None and (head.last_id, head.last_hash) != (expected_id - 1, previous_hash):
        breaks.append(
            ChainBreak(
                head.last_id,
                f"the chain head names row {head.last_id}, the last row is {expected_id - 1}: rows at the end were deleted",
            )
        )
    return breaks
