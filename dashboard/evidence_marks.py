"""Bookmarks and evidence locks on behalf of a user: the access rules, then the media plane's functions.

The page (/recordings) and the CLI (``watchwall bookmark``, ``watchwall lock``) both come here, so
the rules are the same wherever a mark is made: the camera must be in the site, the user must
see its centre (``dashboard/access.py``, the rules of playback), only the author or an admin
edits or deletes a bookmark, and only an admin unlocks. A refusal is a :class:`Refused` that
says why; nothing is written then. The span checks (end before start, no recording) are in
``watchwall.video.record.bookmarks`` and ``.locks``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.engine import Engine

from watchwall.config.errors import UserError
from watchwall.config.site import CameraPlace, Site
from watchwall.dashboard import access
from watchwall.dashboard.accounts import Principal
from watchwall.video.record import bookmarks, locks
from watchwall.video.record.bookmarks import Bookmark
from watchwall.video.record.locks import EvidenceLock


class Refused(UserError):
    """The user may not do this; the message says why."""


def camera_place(site: Site, principal: Principal, camera_id: str, allowed, what: str) -> CameraPlace:
    try:
        place = site.camera(str(camera_id or ""))
    except KeyError:
        raise Refused(f"unknown camera {camera_id!r}") from None
    if not allowed(principal, place.centre.code):
        raise Refused(
            f"{principal.username} ({principal.role}) may not {what} camera {place.camera.id}"
            f" of centre {place.centre.code}"
        )
    return place


def visible_centres(site: Site, principal: Principal, allowed) -> list[str]:
    return [centre.code for centre in site.centres if allowed(principal, centre.code)]


def add_bookmark(
    engine: Engine,
    site: Site,
    principal: Principal,
    *,
    camera_id: str,
    start_utc: float,
    end_utc: float | None,
    title: str,
    note: str | None,
    category: str,
    audit: Callable[..., object] | None = None,
    address: str | None = None,
) -> Bookmark:
    place = camera_place(site, principal, camera_id, access.can_bookmark, "bookmark")
    return bookmarks.add_bookmark(
        engine,
        camera_id=place.camera.id,
        centre=place.centre.code,
        start_utc=start_utc,
        end_utc=end_utc,
        title=title,
        note=note,
        category=category,
        author=principal.username,
        audit=audit,
        address=address,
    )


def _own_bookmark(engine: Engine, principal: Principal, bookmark_id: str, what: str) -> Bookmark:
    bookmark = bookmarks.get_bookmark(engine, bookmark_id)
    if not access.can_bookmark(principal, bookmark.centre):
        raise Refused(f"{principal.username} may not {what} bookmarks of centre {bookmark.centre}")
    if bookmark.author != principal.username and principal.role != "admin":
        raise Refused(f"only {bookmark.author} (its author) or an administrator may {what} this bookmark")
    return bookmark


def edit_bookmark(
    engine: Engine,
    principal: Principal,
    bookmark_id: str,
    *,
    title: str | None = None,
    note: str | None = None,
    category: str | None = None,
    audit: Callable[..., object] | None = None,
    address: str | None = None,
) -> Bookmark:
    _own_bookmark(engine, principal, bookmark_id, "edit")
    return bookmarks.edit_bookmark(
        engine,
        bookmark_id,
        user=principal.username,
        title=title,
        note=note,
        category=category,
        audit=audit,
        address=address,
    )


def delete_bookmark(
    engine: Engine,
    principal: Principal,
    bookmark_id: str,
    *,
    audit: Callable[..., object] | None = None,
    address: str | None = None,
) -> Bookmark:
    _own_bookmark(engine, principal, bookmark_id, "delete")
    return bookmarks.delete_bookmark(
        engine, bookmark_id, user=principal.username, audit=audit, address=address
    )


def search_bookmarks(
    engine: Engine,
    site: Site,
    principal: Principal,
    *,
    county: str | None = None,
    camera_id: str | None = None,
    author: str | None = None,
    category: str | None = None,
    from_utc: float | None = None,
    to_utc: float | None = None,
    limit: int = 200,
) -> list[Bookmark]:
    """The bookmarks of the centres the user may see (of ``county`` only, if given and visible)."""
    centres = visible_centres(site, principal, access.can_bookmark)
    if county:
        if county not in centres:
            raise Refused(f"{principal.username} may not see bookmarks of centre {county}")
        centres = [county]
    return bookmarks.search_bookmarks(
        engine,
        centres=centres,
        camera_id=camera_id or None,
        author=author or None,
        category=category or None,
        from_utc=from_utc,
        to_utc=to_utc,
        limit=limit,
    )


def add_lock(
    engine: Engine,
    site: Site,
    principal: Principal,
    *,
    camera_ids: Sequence[str],
    start_utc: float,
    end_utc: float,
    reason: str,
    expires_utc: float | None = None,
    audit: Callable[..., object] | None = None,
    address: str | None = None,
) -> EvidenceLock:
    places = [camera_place(site, principal, camera_id, access.can_lock, "lock") for camera_id in camera_ids]
    return locks.add_lock(
        engine,
        [(place.camera.id, place.centre.code) for place in places],
        start_utc,
        end_utc,
        reason=reason,
        user=principal.username,
        expires_utc=expires_utc,
        audit=audit,
        address=address,
    )


def remove_lock(
    engine: Engine,
    principal: Principal,
    lock_id,
    *,
    reason: str | None,
    audit: Callable[..., object] | None = None,
    address: str | None = None,
) -> EvidenceLock:
    if not access.can_unlock(principal):
        raise Refused(f"only an administrator unlocks; {principal.username} is {principal.role}")
    return locks.remove_lock(
        engine, lock_id, user=principal.username, reason=reason, audit=audit, address=address
    )


def list_locks(
    engine: Engine,
    site: Site,
    principal: Principal,
    *,
    camera_id: str | None = None,
    include_inactive: bool = False,
) -> list[EvidenceLock]:
    """Locks on the centres the user may see recordings of."""
    centres = visible_centres(site, principal, access.can_lock)
    return locks.list_locks(engine, centres=centres, camera_id=camera_id, include_inactive=include_inactive)
