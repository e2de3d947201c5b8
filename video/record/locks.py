"""Evidence locks: spans of one or more cameras that retention never deletes, until unlocked or expired.

An inspector locks a span with a reason and an expiry (or none); only an admin unlocks, with a
reason (the role check is the dashboard's, ``dashboard/access.py``; the reason is checked here).
Retention (``retention.py``) takes the active locks as holds, even below the disk floor; when the
floor cannot be met because of locked video it raises the disk-full alarm and deletes nothing
locked. An unlocked lock keeps its row (who, when, why) for the record. Every lock and unlock is
audited. Bad input raises :class:`LockError` and writes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from watchwall.audit.log import AuditLog
from watchwall.config.database import Base, session_scope
from watchwall.config.errors import UserError
from watchwall.video.record.playback import segments_between
from watchwall.video.record.segments import checked_camera_id

MAX_REASON_CHARS = 500
MAX_CAMERAS = 64


class LockError(UserError):
    """A lock or unlock that cannot be done as asked; the message says why."""


class EvidenceLockRow(Base):
    __tablename__ = "evidence_locks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    start_utc: Mapped[float] = mapped_column(Float(precision=53), nullable=False)
    end_utc: Mapped[float] = mapped_column(Float(precision=53), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    expires_utc: Mapped[float | None] = mapped_column(Float(precision=53))  # None: until unlocked
    created_by: Mapped[str] = mapped_column(String(128), nullable=False)
    created_utc: Mapped[float] = mapped_column(Float(precision=53), nullable=False)
    released_utc: Mapped[float | None] = mapped_column(Float(precision=53))
    released_by: Mapped[str | None] = mapped_column(String(128))
    release_reason: Mapped[str | None] = mapped_column(Text)


class EvidenceLockCamera(Base):
    __tablename__ = "evidence_lock_cameras"

    lock_id: Mapped[int] = mapped_column(ForeignKey("evidence_locks.id"), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    centre: Mapped[str] = mapped_column(String(63), nullable=False)

    __table_args__ = (Index("ix_evidence_lock_cameras_camera", "camera_id"),)


@dataclass(frozen=True)
class EvidenceLock:
    id: int
    cameras: tuple[str, ...]
    centres: tuple[str, ...]
    start_utc: float
    end_utc: float
    reason: str
    expires_utc: float | None
    created_by: str
    created_utc: float
    released_utc: float | None = None
    released_by: str | None = None
    release_reason: str | None = None

    def active(self, now_utc: float) -> bool:
        return self.released_utc is None and (self.expires_utc is None or self.expires_utc > now_utc)


@dataclass(frozen=True)
class LockedSpan:
    """One camera's part of an active lock: what retention keeps."""

    lock_id: int
    camera_id: str
    start_utc: float
    end_utc: float


def _reason(value, what: str) -> str:
    text = str(value or "").strip()
    if not text:
        raise LockError(f"{what} needs a reason")
    if len(text) > MAX_REASON_CHARS:
        raise LockError(f"the reason may be at most {MAX_REASON_CHARS} characters")
    return text


def add_lock(
    engine: Engine,
    cameras: Sequence[tuple[str, str]],
    start_utc: float,
    end_utc: float,
    *,
    reason: str,
    user: str,
    expires_utc: float | None = None,
    audit: Callable[..., object] | None = None,
    address: str | None = None,
    now_utc: float | None = None,
) -> EvidenceLock:
    """Lock [start, end) of each camera in ``cameras`` ((camera id, centre) pairs); returns the lock."""
    now_utc = time.time() if now_utc is None else now_utc
    reason = _reason(reason, "a lock")
    if not cameras:
        raise LockError("a lock needs at least one camera")
    if len(cameras) > MAX_CAMERAS:
        raise LockError(f"a lock covers at most {MAX_CAMERAS} cameras")
    ids = [checked_camera_id(camera_id) for camera_id, _centre in cameras]
    if len(set(ids)) != len(ids):
        raise LockError("a camera is named twice")
    if end_utc <= start_utc:
        raise LockError("the end of a locked span must come after its start")
    if expires_utc is not None and expires_utc <= now_utc:
        raise LockError("the expiry of a lock must be in the future")
    unrecorded = [
        camera_id for camera_id in ids if not segments_between(engine, camera_id, start_utc, end_utc)
    ]
    if unrecorded:
        raise LockError(f"no recording of {', '.join(unrecorded)} in that span: nothing to lock")
    with session_scope(engine) as session:
        row = EvidenceLockRow(
            start_utc=float(start_utc),
            end_utc=float(end_utc),
            reason=reason,
            expires_utc=expires_utc,
            created_by=user,
            created_utc=now_utc,
        )
        session.add(row)
        session.flush()
        for camera_id, centre in cameras:
            session.add(EvidenceLockCamera(lock_id=row.id, camera_id=camera_id, centre=centre))
        lock_id = row.id
    lock = get_lock(engine, lock_id)
    (audit or AuditLog(engine))(
        actor=user,
        action="lock",
        target=",".join(lock.cameras),
        detail={
            "lock_id": lock.id,
            "cameras": list(lock.cameras),
            "from_utc": lock.start_utc,
            "to_utc": lock.end_utc,
            "expires_utc": lock.expires_utc,
            "reason": reason,
        },
        address=address,
    )
    return lock


def remove_lock(
    engine: Engine,
    lock_id: int,
    *,
    user: str,
    reason: str,
    audit: Callable[..., object] | None = None,
    address: str | None = None,
    now_utc: float | None = None,
) -> EvidenceLock:
    """Unlock (the caller has checked that ``user`` is an admin); the next retention pass may delete."""
    reason = _reason(reason, "an unlock")
    now_utc = time.time() if now_utc is None else now_utc
    with session_scope(engine) as session:
        row = session.get(EvidenceLockRow, _lock_id(lock_id))
        if row is None:
            raise LockError(f"no lock {lock_id}")
        if row.released_utc is not None:
            raise LockError(f"lock {lock_id} was already unlocked by {row.released_by}")
        row.released_utc = now_utc
        row.released_by = user
        row.release_reason = reason
    lock = get_lock(engine, lock_id)
    (audit or AuditLog(engine))(
        actor=user,
        action="unlock",
        target=",".join(lock.cameras),
        detail={
            "lock_id": lock.id,
            "cameras": list(lock.cameras),
            "from_utc": lock.start_utc,
            "to_utc": lock.end_utc,
            "locked_by": lock.created_by,
            "reason": reason,
        },
        address=address,
    )
    return lock


def _lock_id(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise LockError(f"{value!r} is not a lock number") from None


def _locks(session: Session, rows: Iterable[EvidenceLockRow]) -> list[EvidenceLock]:
    rows = list(rows)
    cameras: dict[int, list[tuple[str, str]]] = {row.id: [] for row in rows}
    if rows:
        for camera in session.scalars(
            select(EvidenceLockCamera)
            .where(EvidenceLockCamera.lock_id.in_(list(cameras)))
            .order_by(EvidenceLockCamera.camera_id)
        ):
            cameras[camera.lock_id].append((camera.camera_id, camera.centre))
    return [
        EvidenceLock(
            row.id,
            tuple(camera for camera, _centre in cameras[row.id]),
            tuple(sorted({centre for _camera, centre in cameras[row.id]})),
            row.start_utc,
            row.end_utc,
            row.reason,
            row.expires_utc,
            row.created_by,
            row.created_utc,
            row.released_utc,
            row.released_by,
            row.release_reason,
        )
        for row in rows
    ]


def get_lock(engine: Engine, lock_id: int) -> EvidenceLock:
    with session_scope(engine) as session:
        row = session.get(EvidenceLockRow, _lock_id(lock_id))
        if row is None:
            raise LockError(f"no lock {lock_id}")
        return _locks(session, [row])[0]


def _active(query, now_utc: float):
    return query.where(
        EvidenceLockRow.released_utc.is_(None),
        or_(EvidenceLockRow.expires_utc.is_(None), EvidenceLockRow.expires_utc > now_utc),
    )


def list_locks(
    engine: Engine,
    *,
    centres: Sequence[str] | None = None,
    camera_id: str | None = None,
    include_inactive: bool = False,
    now_utc: float | None = None,
    limit: int = 200,
) -> list[EvidenceLock]:
    """Locks, newest first: active ones only unless ``include_inactive``; of ``centres`` (None: all)."""
    now_utc = time.time() if now_utc is None else now_utc
    query = select(EvidenceLockRow)
    if not include_inactive:
        query = _active(query, now_utc)
    if centres is not None or camera_id:
        cameras = select(EvidenceLockCamera.lock_id)
        if centres is not None:
            cameras = cameras.where(EvidenceLockCamera.centre.in_(list(centres)))
        if camera_id:
            cameras = cameras.where(EvidenceLockCamera.camera_id == camera_id)
        query = query.where(EvidenceLockRow.id.in_(cameras))
    query = query.order_by(EvidenceLockRow.id.desc()).limit(limit)
    with session_scope(engine) as session:
        return _locks(session, session.scalars(query))


def active_locked_spans(
    session: Session, now_utc: float, camera_id: str | None = None, start_utc=None, end_utc=None
) -> list[LockedSpan]:
    """Every camera's part of every active lock (optionally of one camera, touching [start, end))."""
    query = _active(
        select(
            EvidenceLockRow.id,
            EvidenceLockCamera.camera_id,
            EvidenceLockRow.start_utc,
            EvidenceLockRow.end_utc,
        ).join(EvidenceLockCamera, EvidenceLockCamera.lock_id == EvidenceLockRow.id),
        now_utc,
    )
    if camera_id is not None:
        query = query.where(EvidenceLockCamera.camera_id == camera_id)
    if start_utc is not None and end_utc is not None:
        query = query.where(EvidenceLockRow.start_utc < end_utc, EvidenceLockRow.end_utc > start_utc)
    return [LockedSpan(*row) for row in session.execute(query.order_by(EvidenceLockRow.start_utc))]


def locked_spans_between(
    engine: Engine, camera_id: str, start_utc: float, end_utc: float, now_utc: float | None = None
) -> list[LockedSpan]:
    """The active locks of one camera touching [start, end) (the timeline)."""
    now_utc = time.time() if now_utc is None else now_utc
    with session_scope(engine) as session:
        return active_locked_spans(session, now_utc, checked_camera_id(camera_id), start_utc, end_utc)
