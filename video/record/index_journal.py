"""Index rows a recorder holds while its database cannot be reached, written in order when it returns.

A county's node keeps recording through an outage of its link to the city's database (a pinned
camera, whose lease nobody else may take): the segments go to disk as always, and what the index
would have got (the gap before a segment, the segment's row, its close with size and hash) waits
here. When the database answers again the whole journal goes in one transaction, oldest first,
so each segment links to the one before it in the hash chain exactly as if it had been written
at once, and the fence is checked once for all of it. Each entry is also kept on disk beside the
camera's segments (``journal_file``), so a node killed during an outage writes them when it
starts again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from watchwall.video.record.models import (
    SEGMENT_CLOSED,
    SEGMENT_OPEN,
    SEGMENT_SUPERSEDED,
    RecordingGap,
    RecordingSegment,
    close_segment_row,
)


def database_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database server is away (as opposed to a refused or wrong statement).

    SQLite is a file beside the process, with no link to lose: its OperationalError (a missing
    table, a locked or failing file) is an error of the write, handled as such."""
    origin = getattr(exc, "orig", None)
    if origin is not None and type(origin).__module__.startswith("sqlite3"):
        return False
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


@dataclass(frozen=True)
class HeldOpen:
    """A segment opened while the database was away: its row (and the gap before it) not yet written."""

    camera_id: str
    path: str
    start_utc: float
    codec: str
    width: int
    height: int
    epoch: int | None
    node: str | None
    gap: tuple[float, float, str] | None  # (start, end, reason) of the gap it ends


@dataclass(frozen=True)
class HeldSegment:
    """A whole segment written to disk while the database was away."""

    opened: HeldOpen
    end_utc: float
    bytes: int
    sha256: str
    status: str = SEGMENT_CLOSED  # SEGMENT_RECOVERED: closed from the disk after the node died

    @property
    def path(self) -> str:
        return self.opened.path

    def apply(self, session) -> None:
        opened = self.opened
        already = select(RecordingSegment.id).where(
            RecordingSegment.camera_id == opened.camera_id, RecordingSegment.path == opened.path
        )
        if session.scalar(already) is not None:
            return  # written before the process died, the journal not yet cleared
        if opened.gap is not None:
            start, end, reason = opened.gap
            session.add(RecordingGap(camera_id=opened.camera_id, start_utc=start, end_utc=end, reason=reason))
        row = RecordingSegment(
            camera_id=opened.camera_id,
            path=opened.path,
            start_utc=opened.start_utc,
            codec=opened.codec,
            width=opened.width,
            height=opened.height,
            status=SEGMENT_OPEN,
            epoch=opened.epoch,
            node=opened.node,
        )
        session.add(row)
        session.flush()
        close_segment_row(
            session, row, end_utc=self.end_utc, size=self.bytes, sha256=self.sha256, status=self.status
        )
        session.flush()  # the next entry's chain link reads this row


@dataclass(frozen=True)
class HeldClose:
    """The close of a segment whose row was written before the database went away."""

    row_id: int
    path: str
    end_utc: float
    bytes: int
    sha256: str

    def apply(self, session) -> None:
        row = session.get(RecordingSegment, self.row_id)
        # superseded: this node, started again after dying in the outage, took its own camera back
        if row is None or row.path != self.path or row.status not in (SEGMENT_OPEN, SEGMENT_SUPERSEDED):
            return
        close_segment_row(
            session, row, end_utc=self.end_utc, size=self.bytes, sha256=self.sha256, status=SEGMENT_CLOSED
        )
        session.flush()


def entry_record(entry: HeldOpen | HeldSegment | HeldClose) -> dict:
    """One journal line: the entry's kind and its fields, as JSON types."""
    kind = {HeldOpen: "open", HeldSegment: "segment", HeldClose: "close"}[type(entry)]
    return {"kind": kind, **asdict(entry)}


def entry_from_record(record: dict) -> HeldOpen | HeldSegment | HeldClose:
    """The entry a journal line holds; KeyError or TypeError for a line that is not one."""
    fields = {key: value for key, value in record.items() if key != "kind"}
    kind = record["kind"]
    if kind == "open":
        return _held_open(fields)
    if kind == "segment":
        return HeldSegment(**{**fields, "opened": _held_open(fields["opened"])})
    if kind == "close":
        return HeldClose(**fields)
    raise KeyError(kind)


def _held_open(fields: dict) -> HeldOpen:
    gap = fields.get("gap")
    return HeldOpen(**{**fields, "gap": tuple(gap) if gap is not None else None})


def recorded_after(session, camera_id: str, held: list[HeldSegment | HeldClose]) -> bool:
    """Whether the index has a segment of the camera that begins after the held ones begin.

    The chain links segments in the order of their start: rows held since before such a segment
    (a node that died in an outage, whose camera was recorded elsewhere meanwhile) cannot enter it.
    """
    starts = [entry.opened.start_utc for entry in held if isinstance(entry, HeldSegment)]
    if not starts:
        return False
    held_paths = [entry.path for entry in held]
    later = select(RecordingSegment.id).where(
        RecordingSegment.camera_id == camera_id,
        RecordingSegment.start_utc >= min(starts),
        RecordingSegment.path.not_in(held_paths),
    )
    return session.scalar(later.limit(1)) is not None
