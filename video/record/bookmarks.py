"""Bookmarks: what an inspector or supervisor found at an instant or over a span of one camera.

A bookmark has a stable id (a UUID, hex) that other features keep: incidents and roll-call
results link to bookmarks through ``bookmark_links`` (:func:`link_bookmark`,
:func:`bookmarks_for`). Deleting one keeps its row (``deleted_utc``) so that a link or an exported
manifest never points at nothing. Every add, edit, delete and link is audited.

Who may mark which camera is the dashboard's decision (``dashboard/access.py``); this module
checks what it can see itself: the span, the category, the text, and that video was recorded
there. Bad input raises :class:`BookmarkError` and writes nothing.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from watchwall.audit.log import AuditLog
from watchwall.config.database import Base, session_scope
from watchwall.config.errors import UserError
from watchwall.video.record.playback import segments_between
from watchwall.video.record.segments import checked_camera_id

# The fixed list of categories (shown translated: assets/i18n/evidence/, keys ``ev.category.<code>``).
CATEGORIES = ("announcement", "dress", "equipment", "other")  # 宣告不规范, 未按规定着装, 设备异常, 其他
LINK_KINDS = ("incident", "rollcall")
MAX_TITLE_CHARS = 200
MAX_NOTE_CHARS = 4000
INSTANT_PROBE_S = 0.001  # an instant is recorded when a segment overlaps [at, at + this)


class BookmarkError(UserError):
    """A bookmark that cannot be written as asked; the message says why."""


class BookmarkRow(Base):
    __tablename__ = "bookmarks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # uuid4 hex: stable, never reused
    camera_id: Mapped[str] = mapped_column(String(63), nullable=False)
    centre: Mapped[str] = mapped_column(String(63), nullable=False)  # the camera's centre when marked
    start_utc: Mapped[float] = mapped_column(Float(precision=53), nullable=False)
    end_utc: Mapped[float] = mapped_column(Float(precision=53), nullable=False)  # = start for an instant
    title: Mapped[str] = mapped_column(String(MAX_TITLE_CHARS), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    author: Mapped[str] = mapped_column(String(128), nullable=False)
    created_utc: Mapped[float] = mapped_column(Float(precision=53), nullable=False)
    updated_utc: Mapped[float | None] = mapped_column(Float(precision=53))
    updated_by: Mapped[str | None] = mapped_column(String(128))
    deleted_utc: Mapped[float | None] = mapped_column(Float(precision=53))
    deleted_by: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (
        Index("ix_bookmarks_camera_start", "camera_id", "start_utc"),
        Index("ix_bookmarks_centre_start", "centre", "start_utc"),
    )


class BookmarkLinkRow(Base):
    """An incident or a roll-call result that points at a bookmark (``ref`` is that feature's own id)."""

    __tablename__ = "bookmark_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bookmark_id: Mapped[str] = mapped_column(ForeignKey("bookmarks.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    ref: Mapped[str] = mapped_column(String(128), nullable=False)
    created_by: Mapped[str] = mapped_column(String(128), nullable=False)
    created_utc: Mapped[float] = mapped_column(Float(precision=53), nullable=False)

    __table_args__ = (
        UniqueConstraint("bookmark_id", "kind", "ref", name="uq_bookmark_links_target"),
        Index("ix_bookmark_links_kind_ref", "kind", "ref"),
    )


@dataclass(frozen=True)
class Bookmark:
    """A bookmark as the pages, the CLI, exports and other features see it."""

    id: str
    camera_id: str
    centre: str
    start_utc: float
    end_utc: float
    title: str
    note: str
    category: str
    author: str
    created_utc: float
    updated_utc: float | None = None
    updated_by: str | None = None

    @property
    def is_instant(self) -> bool:
        return self.end_utc == self.start_utc

    def as_dict(self) -> dict:
        return asdict(self)


def _bookmark(row: BookmarkRow) -> Bookmark:
    return Bookmark(
        row.id,
        row.camera_id,
        row.centre,
        row.start_utc,
        row.end_utc,
        row.title,
        row.note,
        row.category,
        row.author,
        row.created_utc,
        row.updated_utc,
        row.updated_by,
    )


def _text(value, name: str, limit: int, required: bool) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise BookmarkError(f"a bookmark needs a {name}")
    if len(text) > limit:
        raise BookmarkError(f"the {name} may be at most {limit} characters")
    return text


def _category(value) -> str:
    if value not in CATEGORIES:
        raise BookmarkError(f"category {value!r} is not one of {', '.join(CATEGORIES)}")
    return value


def checked_span(
    engine: Engine, camera_id: str, start_utc: float, end_utc: float | None
) -> tuple[float, float]:
    """(start, end) of a bookmark if it is a real span (or instant) that was recorded; else BookmarkError."""
    checked_camera_id(camera_id)
    end_utc = start_utc if end_utc is None else end_utc
    if end_utc < start_utc:
        raise BookmarkError("the end of a bookmark comes before its start")
    if not segments_between(engine, camera_id, start_utc, max(end_utc, start_utc + INSTANT_PROBE_S)):
        raise BookmarkError(f"{camera_id} has no recording at that time: nothing to mark")
    return float(start_utc), float(end_utc)


def add_bookmark(
    engine: Engine,
    *,
    camera_id: str,
    centre: str,
    start_utc: float,
    end_utc: float | None,
    title: str,
    note: str | None,
    category: str,
    author: str,
    audit: Callable[..., object] | None = None,
    address: str | None = None,
) -> Bookmark:
    """Mark [start, end] of ``camera_id`` (an instant when ``end_utc`` is None or equal to the start)."""
    title = _text(title, "title", MAX_TITLE_CHARS, required=True)
    note = _text(note, "note", MAX_NOTE_CHARS, required=False)
    category = _category(category)
    start_utc, end_utc = checked_span(engine, camera_id, start_utc, end_utc)
    row = BookmarkRow(
        id=uuid.uuid4().hex,
        camera_id=camera_id,
        centre=centre,
        start_utc=start_utc,
        end_utc=end_utc,
        title=title,
        note=note,
        category=category,
        author=author,
        created_utc=time.time(),
    )
    with session_scope(engine) as session:
        session.add(row)
    bookmark = _bookmark(row)
    (audit or AuditLog(engine))(
        actor=author,
        action="bookmark_add",
        target=camera_id,
        detail=_audit_detail(bookmark),
        address=address,
    )
    return bookmark


def _audit_detail(bookmark: Bookmark) -> dict:
    return {
        "bookmark_id": bookmark.id,
        "from_utc": bookmark.start_utc,
        "to_utc": bookmark.end_utc,
        "title": bookmark.title,
        "category": bookmark.category,
        "note": bookmark.note,
    }


def get_bookmark(engine: Engine, bookmark_id: str) -> Bookmark:
    """The live (not deleted) bookmark of that id, or BookmarkError."""
    with session_scope(engine) as session:
        row = session.get(BookmarkRow, str(bookmark_id or ""))
        if row is None or row.deleted_utc is not None:
            raise BookmarkError(f"no bookmark {bookmark_id!r}")
        return _bookmark(row)


def edit_bookmark(
    engine: Engine,
    bookmark_id: str,
    *,
    user: str,
    title: str | None = None,
    note: str | None = None,
    category: str | None = None,
    audit: Callable[..., object] | None = None,
    address: str | None = None,
) -> Bookmark:
    """Change the title, note or category (the span stays: it is what was seen)."""
    changes = {}
    if title is not None:
        changes["title"] = _text(title, "title", MAX_TITLE_CHARS, required=True)
    if note is not None:
        changes["note"] = _text(note, "note", MAX_NOTE_CHARS, required=False)
    if category is not None:
        changes["category"] = _category(category)
    if not changes:
        raise BookmarkError("nothing to change: give a title, a note or a category")
    with session_scope(engine) as session:
        row = session.get(BookmarkRow, str(bookmark_id))
        if row is None or row.deleted_utc is not None:
            raise BookmarkError(f"no bookmark {bookmark_id!r}")
        before = {name: getattr(row, name) for name in changes}
        for name, value in changes.items():
            setattr(row, name, value)
        row.updated_utc = time.time()
        row.updated_by = user
        session.flush()
        bookmark = _bookmark(row)
    (audit or AuditLog(engine))(
        actor=user,
        action="bookmark_edit",
        target=bookmark.camera_id,
        detail={"bookmark_id": bookmark.id, "before": before, "after": changes},
        address=address,
    )
    return bookmark


def delete_bookmark(
    engine: Engine,
    bookmark_id: str,
    *,
    user: str,
    audit: Callable[..., object] | None = None,
    address: str | None = None,
) -> Bookmark:
    """Take a bookmark off the timeline and the list; its row and links stay for the record."""
    with session_scope(engine) as session:
        row = session.get(BookmarkRow, str(bookmark_id))
        if row is None or row.deleted_utc is not None:
            raise BookmarkError(f"no bookmark {bookmark_id!r}")
        row.deleted_utc = time.time()
        row.deleted_by = user
        bookmark = _bookmark(row)
    (audit or AuditLog(engine))(
        actor=user,
        action="bookmark_delete",
        target=bookmark.camera_id,
        detail=_audit_detail(bookmark),
        address=address,
    )
    return bookmark


def bookmarks_between(engine: Engine, camera_id: str, start_utc: float, end_utc: float) -> list[Bookmark]:
    """The live bookmarks of ``camera_id`` that touch [start, end], oldest first (timeline, export)."""
    query = (
        select(BookmarkRow)
        .where(
            BookmarkRow.camera_id == checked_camera_id(camera_id),
            BookmarkRow.deleted_utc.is_(None),
            BookmarkRow.start_utc <= end_utc,
            BookmarkRow.end_utc >= start_utc,
        )
        .order_by(BookmarkRow.start_utc, BookmarkRow.id)
    )
    with session_scope(engine) as session:
        return [_bookmark(row) for row in session.scalars(query)]


def search_bookmarks(
    engine: Engine,
    *,
    centres: Sequence[str] | None = None,
    camera_id: str | None = None,
    author: str | None = None,
    category: str | None = None,
    from_utc: float | None = None,
    to_utc: float | None = None,
    limit: int = 200,
) -> list[Bookmark]:
    """Live bookmarks, newest first. ``centres``: only these (None: all); the other filters are exact."""
    query = select(BookmarkRow).where(BookmarkRow.deleted_utc.is_(None))
    if centres is not None:
        query = query.where(BookmarkRow.centre.in_(list(centres)))
    if camera_id:
        query = query.where(BookmarkRow.camera_id == camera_id)
    if author:
        query = query.where(BookmarkRow.author == author)
    if category:
        query = query.where(BookmarkRow.category == _category(category))
    if from_utc is not None:
        query = query.where(BookmarkRow.end_utc >= from_utc)
    if to_utc is not None:
        query = query.where(BookmarkRow.start_utc < to_utc)
    query = query.order_by(BookmarkRow.start_utc.desc(), BookmarkRow.id).limit(limit)
    with session_scope(engine) as session:
        return [_bookmark(row) for row in session.scalars(query)]


def link_bookmark(
    engine: Engine,
    bookmark_id: str,
    kind: str,
    ref: str,
    *,
    user: str,
    audit: Callable[..., object] | None = None,
) -> None:
    """Say that an incident or a roll-call result (``kind``, its id ``ref``) concerns a bookmark."""
    if kind not in LINK_KINDS:
        raise BookmarkError(f"a bookmark links to one of {', '.join(LINK_KINDS)}, not {kind!r}")
    ref = _text(ref, "reference", 128, required=True)
    bookmark = get_bookmark(engine, bookmark_id)
    with session_scope(engine) as session:
        exists = session.scalar(
            select(BookmarkLinkRow.id).where(
                BookmarkLinkRow.bookmark_id == bookmark.id,
                BookmarkLinkRow.kind == kind,
                BookmarkLinkRow.ref == ref,
            )
        )
        if exists is not None:
            return
        session.add(
            BookmarkLinkRow(
                bookmark_id=bookmark.id, kind=kind, ref=ref, created_by=user, created_utc=time.time()
            )
        )
    (audit or AuditLog(engine))(
        actor=user,
        action="bookmark_link",
        target=bookmark.camera_id,
        detail={"bookmark_id": bookmark.id, "kind": kind, "ref": ref},
    )


def bookmarks_for(engine: Engine, kind: str, ref: str) -> list[Bookmark]:
    """The live bookmarks that an incident or a roll-call result (``kind``, ``ref``) links to."""
    query = (
        select(BookmarkRow)
        .join(BookmarkLinkRow, BookmarkLinkRow.bookmark_id == BookmarkRow.id)
        .where(
            BookmarkLinkRow.kind == kind, BookmarkLinkRow.ref == str(ref), BookmarkRow.deleted_utc.is_(None)
        )
        .order_by(BookmarkRow.start_utc)
    )
    with session_scope(engine) as session:
        return [_bookmark(row) for row in session.scalars(query)]


def links_of(engine: Engine, bookmark_id: str) -> list[tuple[str, str]]:
    """(kind, ref) of everything linked to a bookmark."""
    query = (
        select(BookmarkLinkRow.kind, BookmarkLinkRow.ref)
        .where(BookmarkLinkRow.bookmark_id == bookmark_id)
        .order_by(BookmarkLinkRow.id)
    )
    with session_scope(engine) as session:
        return [(kind, ref) for kind, ref in session.execute(query)]
