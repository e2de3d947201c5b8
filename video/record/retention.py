"""What recordings to delete, and deleting them.

The decision is a pure function (``choose_deletions``): per-camera age limits,
then a disk floor (minimum free bytes, or a quota on what recordings use),
oldest first, never a segment that overlaps a hold (an export or an
inspector's hold) or an active evidence lock (``locks.py``), even below the floor: the report
then says how many locked bytes stand in the way, and the retention loop raises the disk-full
alarm. The executor (``apply_retention``) deletes the files, keeps
each deleted segment's row as a tombstone (its hashes keep the chain
verifiable) and writes one audit entry per deletion, whoever runs it
(``watchwall serve`` or ``watchwall ingest``): the audit log's core is in
config/, below the media plane.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from watchwall.audit.log import AuditLog
from watchwall.config.database import session_scope
from watchwall.config.errors import UserError
from watchwall.video.record.locks import active_locked_spans
from watchwall.video.record.models import SEGMENT_PRUNED, RecordingHold, RecordingSegment
from watchwall.video.record.playback import PLAYABLE
from watchwall.video.record.segments import checked_camera_id, inside_recordings

log = logging.getLogger(__name__)
DAY_S = 86_400.0
AGE, DISK_FLOOR, QUOTA = "age", "disk_floor", "quota"
RETENTION_ACTOR = "system:retention"


@dataclass(frozen=True)
class RetentionPolicy:
    default_days: float | None = 30.0  # None: no age limit
    camera_days: dict[str, float] = field(default_factory=dict)
    min_free_bytes: int | None = None
    quota_bytes: int | None = None

    def days_for(self, camera_id: str) -> float | None:
        return self.camera_days.get(camera_id, self.default_days)


@dataclass(frozen=True)
class Candidate:
    id: int
    camera_id: str
    path: str
    start_utc: float
    end_utc: float
    bytes: int


@dataclass(frozen=True)
class Span:
    camera_id: str
    start_utc: float
    end_utc: float


@dataclass(frozen=True)
class Deletion:
    segment: Candidate
    reason: str


def is_held(segment: Candidate, holds: Iterable[Span]) -> bool:
    return any(
        h.camera_id == segment.camera_id and h.start_utc < segment.end_utc and h.end_utc > segment.start_utc
        for h in holds
    )


def bytes_to_free(policy: RetentionPolicy, free_bytes: int, used_bytes: int) -> tuple[int, str | None]:
    """How much the disk floor asks to delete, and which rule asks for the most."""
    needs = []
    if policy.min_free_bytes is not None:
        needs.append((policy.min_free_bytes - free_bytes, DISK_FLOOR))
    if policy.quota_bytes is not None:
        needs.append((used_bytes - policy.quota_bytes, QUOTA))
    need, reason = max(needs, default=(0, None))
    return (need, reason) if need > 0 else (0, None)


def choose_deletions(
    candidates: Sequence[Candidate],
    holds: Sequence[Span],
    policy: RetentionPolicy,
    now_utc: float,
    free_bytes: int,
    used_bytes: int,
) -> list[Deletion]:
    """Age first, then oldest-first until the disk floor holds; held segments are never chosen."""
    deletions: list[Deletion] = []
    chosen: set[int] = set()
    for segment in sorted(candidates, key=lambda s: s.start_utc):
        days = policy.days_for(segment.camera_id)
        if days is not None and segment.end_utc <= now_utc - days * DAY_S and not is_held(segment, holds):
            deletions.append(Deletion(segment, AGE))
            chosen.add(segment.id)
    freed = sum(d.segment.bytes for d in deletions)
    need, reason = bytes_to_free(policy, free_bytes + freed, used_bytes - freed)
    for segment in sorted(candidates, key=lambda s: s.start_utc):
        if need <= 0:
            break
        if segment.id in chosen or is_held(segment, holds):
            continue
        deletions.append(Deletion(segment, reason))
        chosen.add(segment.id)
        need -= segment.bytes
    return deletions


@dataclass
class RetentionReport:
    deleted: list[Deletion] = field(default_factory=list)
    still_needed_bytes: int = 0  # the floor could not be met (everything left is held or recent)
    locked_bytes: int = 0  # bytes kept because an evidence lock covers them (the disk fills with them)
    lock_ids: tuple[int, ...] = ()  # the active locks that kept something


def apply_retention(
    engine: Engine,
    recordings_dir: Path,
    policy: RetentionPolicy,
    *,
    now_utc: float | None = None,
    audit: Callable[..., object] | None = None,
    candidate_limit: int = 5000,
    free_bytes: int | None = None,
    node: str | None = None,
) -> RetentionReport:
    """Delete what the policy says; each deletion is a tombstone row and an audit entry.

    ``audit`` receives the entries; by default (None) they go to the audit log of ``engine``'s
    database, so no caller can run retention unaudited by leaving it out. ``node``: an ingest
    node of a cluster considers only the segments on its own disk.
    """
    now_utc = time.time() if now_utc is None else now_utc
    audit = AuditLog(engine) if audit is None else audit
    recordings_dir = Path(recordings_dir)
    free = shutil.disk_usage(recordings_dir).free if free_bytes is None else free_bytes
    on_this_disk = RecordingSegment.node == node if node is not None else RecordingSegment.node.is_(None)
    with session_scope(engine) as session:
        used = session.scalar(
            select(func.coalesce(func.sum(RecordingSegment.bytes), 0)).where(
                RecordingSegment.status.in_(PLAYABLE), on_this_disk
            )
        )
        rows = session.execute(
            select(
                RecordingSegment.id,
                RecordingSegment.camera_id,
                RecordingSegment.path,
                RecordingSegment.start_utc,
                RecordingSegment.end_utc,
                RecordingSegment.bytes,
            )
            .where(RecordingSegment.status.in_(PLAYABLE), on_this_disk)
            .order_by(RecordingSegment.start_utc)
            .limit(candidate_limit)
        ).all()
        candidates = [Candidate(*row) for row in rows]
        holds = [Span(h.camera_id, h.start_utc, h.end_utc) for h in session.scalars(select(RecordingHold))]
        locked = active_locked_spans(session, now_utc)
    lock_spans = [_span(lock) for lock in locked]
    deletions = choose_deletions(candidates, holds + lock_spans, policy, now_utc, free, used)
    report = RetentionReport()
    for deletion in deletions:
        _delete(engine, recordings_dir, deletion, now_utc, audit)
        report.deleted.append(deletion)
    freed = sum(d.segment.bytes for d in deletions)
    report.still_needed_bytes = bytes_to_free(policy, free + freed, used - freed)[0]
    kept = [segment for segment in candidates if is_held(segment, lock_spans)]
    report.locked_bytes = sum(segment.bytes or 0 for segment in kept)
    report.lock_ids = tuple(
        sorted({lock.lock_id for lock in locked if any(is_held(s, [_span(lock)]) for s in kept)})
    )
    if report.still_needed_bytes:
        log.warning(
            "retention: %d bytes over the disk floor, and the rest is held or recent",
            report.still_needed_bytes,
        )
    return report


def _span(lock) -> Span:
    return Span(lock.camera_id, lock.start_utc, lock.end_utc)


def _delete(
    engine: Engine, recordings_dir: Path, deletion: Deletion, now_utc: float, audit: Callable[..., object]
) -> None:
    segment = deletion.segment
    path = inside_recordings(recordings_dir, segment.path)
    with session_scope(engine) as session:
        row = session.get(RecordingSegment, segment.id)
        row.status = SEGMENT_PRUNED
        row.pruned_utc = now_utc
        row.pruned_reason = deletion.reason
        sha256 = row.sha256
    path.unlink(missing_ok=True)
    log.info("retention: deleted %s (%s)", segment.path, deletion.reason)
    audit(
        actor=RETENTION_ACTOR,
        action="retention_delete",
        target=segment.camera_id,
        detail={
            "path": segment.path,
            "sha256": sha256,
            "start_utc": segment.start_utc,
            "end_utc": segment.end_utc,
            "bytes": segment.bytes,
            "reason": deletion.reason,
        },
    )


def add_hold(
    engine: Engine,
    camera_id: str,
    start_utc: float,
    end_utc: float,
    *,
    user: str,
    reason: str | None = None,
    kind: str = "inspector",
    audit: Callable[..., object] | None = None,
) -> int:
    """Keep [start, end) of a camera from retention; returns the hold's id."""
    checked_camera_id(camera_id)
    if end_utc <= start_utc:
        raise UserError("the end of a hold must come after its start")
    with session_scope(engine) as session:
        hold = RecordingHold(
            camera_id=camera_id,
            start_utc=start_utc,
            end_utc=end_utc,
            kind=kind,
            reason=reason,
            created_by=user,
            created_utc=time.time(),
        )
        session.add(hold)
        session.flush()
        hold_id = hold.id
    if audit is not None:
        audit(
            actor=user,
            action="hold",
            target=camera_id,
            detail={"hold_id": hold_id, "from_utc": start_utc, "to_utc": end_utc, "reason": reason},
        )
    return hold_id
