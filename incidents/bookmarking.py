"""Camera incidents mark the recording: each gets a bookmark on its camera over the span that led up
to its opening, linked both ways (the incident's evidence names the bookmark; the bookmark's links
name the incident), so the incident shows its bookmark and the recordings' bookmark list shows it.

Done by the incident watch, not at opening: the recorder indexes a segment only once it is closed,
so an incident is bookmarked on a later pass, as soon as video of its lead-in is playable, and given
up after :data:`GIVE_UP_AFTER` (a camera that was not recorded then has nothing to mark).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.engine import Engine

from watchwall.audit.log import AuditLog
from watchwall.config.database import session_scope
from watchwall.incidents.models import Incident, IncidentEvidence
from watchwall.incidents.store import SYSTEM
from watchwall.video.record.bookmarks import BookmarkError, add_bookmark, link_bookmark

LEAD_IN_S = 30  # the bookmark spans this long before the opening, up to the opening
GIVE_UP_AFTER = timedelta(minutes=15)
CATEGORY = "equipment"  # 设备异常
BATCH = 50


def default_title(incident: Incident) -> str:
    return f"事件 #{incident.id} {incident.kind}"


def waiting(engine: Engine, now: datetime) -> list[Incident]:
    """Camera incidents opened within the give-up time that have no bookmark yet."""
    marked = exists().where(
        and_(IncidentEvidence.incident_id == Incident.id, IncidentEvidence.kind == "bookmark")
    )
    query = (
        select(Incident)
        .where(Incident.camera_id.is_not(None), Incident.opened_at >= now - GIVE_UP_AFTER, ~marked)
        .order_by(Incident.id.desc())
        .limit(BATCH)
    )
    with session_scope(engine) as session:
        return list(session.scalars(query))


def _claim(engine: Engine, incident: Incident) -> int | None:
    """The id of this pass's claim (an evidence row without its bookmark yet), or None when another
    pass has one: the incident's row is locked meanwhile, so two web nodes never both bookmark it."""
    with session_scope(engine) as session:
        locked = session.get(Incident, incident.id, with_for_update=True)
        taken = session.scalar(
            select(IncidentEvidence.id).where(
                IncidentEvidence.incident_id == incident.id, IncidentEvidence.kind == "bookmark"
            )
        )
        if locked is None or taken is not None:
            return None
        claim = IncidentEvidence(
            incident_id=incident.id,
            kind="bookmark",
            camera_id=incident.camera_id,
            start_at=incident.opened_at - timedelta(seconds=LEAD_IN_S),
            end_at=incident.opened_at,
            ref=None,
            added_at=incident.opened_at,
        )
        session.add(claim)
        session.flush()
        return claim.id


def bookmark_incident(
    engine: Engine, incident: Incident, title: str, audit: Callable[..., object] | None = None
) -> str | None:
    """The bookmark made for ``incident`` (its id), or None while its lead-in is not recorded yet
    (or another pass is making it)."""
    claim = _claim(engine, incident)
    if claim is None:
        return None
    opened = incident.opened_at.timestamp()
    try:
        bookmark = add_bookmark(
            engine,
            camera_id=incident.camera_id,
            centre=incident.centre or incident.county,
            start_utc=opened - LEAD_IN_S,
            end_utc=opened,
            title=title,
            note=f"incident:{incident.id} {incident.kind}",
            category=CATEGORY,
            author=SYSTEM,
            audit=audit,
        )
    except BookmarkError:
        with session_scope(engine) as session:  # released: a later pass tries again
            session.execute(delete(IncidentEvidence).where(IncidentEvidence.id == claim))
        return None
    link_bookmark(engine, bookmark.id, "incident", str(incident.id), user=SYSTEM, audit=audit)
    with session_scope(engine) as session:
        session.execute(update(IncidentEvidence).where(IncidentEvidence.id == claim).values(ref=bookmark.id))
    return bookmark.id


def bookmark_new_incidents(
    engine: Engine, now: datetime, title_of: Callable[[Incident], str] = default_title
) -> dict[int, str]:
    """One pass: {incident id: bookmark id} of the incidents bookmarked now."""
    audit = AuditLog(engine)
    made = {}
    for incident in waiting(engine, now):
        bookmark_id = bookmark_incident(engine, incident, title_of(incident), audit)
        if bookmark_id is not None:
            made[incident.id] = bookmark_id
    return made
