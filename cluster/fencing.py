"""Fencing: a write carries the epoch of the lease it was made under, and an older epoch is refused.

Every claim of a camera increments its epoch (``leases.py``). A node that lost a camera without
knowing it (hung, cut off) still holds the old epoch, so anything it writes afterwards is refused
here. The check takes a key-share lock on the lease row: a claim (which locks the row FOR UPDATE
before it changes the epoch) waits until the writer's transaction ends, so a row written under
the old epoch lands before the takeover or not at all. The owner's renewal (an UPDATE of the
expiry only, FOR NO KEY UPDATE) does not conflict with it: a hundred recorders opening segments
at once never hold up the renewal that keeps all their leases alive.

Use :func:`fence_ok` inside the writer's transaction before the write, or put
:func:`epoch_is_current` in the write's own WHERE clause (``UPDATE ... WHERE``, or
:func:`fenced_insert` for an ``INSERT ... SELECT ... WHERE``) so check and write are one
statement. A camera with no lease row has no current epoch: every write for it is refused.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Insert, Table, exists, insert, literal, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from watchwall.cluster.models import CameraLease


def current_epoch(connection: Connection | Session, camera_id: str) -> int | None:
    """The camera's epoch now (whoever owns it), or None when no lease row exists."""
    return connection.execute(select(CameraLease.epoch).where(CameraLease.camera_id == camera_id)).scalar()


def fence_ok(connection: Connection | Session, camera_id: str, epoch: int) -> bool:
    """True when ``epoch`` is the camera's current epoch; locks the lease row against a claim until the
    transaction ends."""
    current = connection.execute(
        select(CameraLease.epoch)
        .where(CameraLease.camera_id == camera_id)
        .with_for_update(read=True, key_share=True)
    ).scalar()
    return current is not None and current == epoch


def epoch_is_current(camera_id: Any, epoch: Any) -> ColumnElement[bool]:
    """A WHERE condition: the lease of ``camera_id`` is at ``epoch`` (values or columns), row key-share-locked.

    ``update(RecordingSegment).where(RecordingSegment.id == id, epoch_is_current(cam, epoch))``
    changes nothing (rowcount 0) when a newer epoch exists.
    """
    return exists(
        select(CameraLease.camera_id)
        .where(CameraLease.camera_id == camera_id, CameraLease.epoch == epoch)
        .with_for_update(read=True, key_share=True)
    )


def fenced_insert(table: Table, values: dict[str, Any], *, camera_id: str, epoch: int) -> Insert:
    """``INSERT INTO table (...) SELECT <values> WHERE <epoch is current>``: rowcount 0 when refused."""
    unknown = sorted(set(values) - set(table.c.keys()))
    if unknown:
        raise ValueError(f"{table.name} has no column {', '.join(unknown)}")
    names = list(values)
    row = select(*(literal(values[name], type_=table.c[name].type).label(name) for name in names))
    statement = insert(table).from_select(names, row.where(epoch_is_current(camera_id, epoch)))
    return statement.execution_options(
        preserve_rowcount=True
    )  # SQLAlchemy counts INSERT rows only when asked
