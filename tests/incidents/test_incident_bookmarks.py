"""A camera incident bookmarks its camera's recording over the lead-in to its opening, linked both
ways; the bookmark is in the recordings' bookmark list. Real H.264 through the real recorder, on
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.video.record.test_bookmarks import T0, record
from watchwall.audit.log import AuditEntry
from watchwall.config.database import make_engine
from watchwall.config.incident_settings import IncidentSettings
from watchwall.incidents.bookmarking import GIVE_UP_AFTER, LEAD_IN_S, bookmark_new_incidents, waiting
from watchwall.incidents.store import get_incident, open_incident
from watchwall.video.record.bookmarks import bookmarks_for, links_of, search_bookmarks

pytestmark = pytest.mark.postgres
OPENED = datetime.fromtimestamp(T0 + 8, UTC)


@pytest.fixture
def pg_engine(postgres):
    engine = make_engine(postgres.migrated("ww_incident_bookmarks"))
    yield engine
    engine.dispose()


def test_a_camera_incident_gets_a_bookmark_linked_both_ways(pg_engine, tmp_path):
    record(pg_engine, tmp_path / "recordings", "cam1", T0, seconds=10.0)  # 2 s segments over [T0, T0 + 10]
    settings = IncidentSettings()
    recorded = open_incident(
        pg_engine, settings, kind="covered", county="qinzhou", centre="qinzhou", camera_id="cam1", at=OPENED
    )
    unrecorded = open_incident(
        pg_engine, settings, kind="offline", county="maiji", camera_id="cam2", at=OPENED
    )
    subject = open_incident(
        pg_engine, settings, kind="missed_checkin", county="qinzhou", subject_ref="李*", at=OPENED
    )
    assert [i.id for i in waiting(pg_engine, OPENED)] == [unrecorded["id"], recorded["id"]]  # cameras only

    made = bookmark_new_incidents(pg_engine, OPENED + timedelta(minutes=1), lambda i: f"事件 #{i.id}")
    assert list(made) == [recorded["id"]]  # cam2 has no recording: nothing to mark (yet)
    bookmark_id = made[recorded["id"]]

    # incident -> bookmark
    _, _, evidence = get_incident(pg_engine, recorded["id"])
    (mark,) = [e for e in evidence if e["kind"] == "bookmark"]
    assert mark["ref"] == bookmark_id and mark["camera_id"] == "cam1"
    # bookmark -> incident
    assert links_of(pg_engine, bookmark_id) == [("incident", str(recorded["id"]))]
    (bookmark,) = bookmarks_for(pg_engine, "incident", str(recorded["id"]))
    assert (bookmark.camera_id, bookmark.centre, bookmark.category, bookmark.author) == (
        "cam1",
        "qinzhou",
        "equipment",
        "system:incidents",
    )
    assert (bookmark.start_utc, bookmark.end_utc) == (T0 + 8 - LEAD_IN_S, T0 + 8)
    assert bookmark.title == f"事件 #{recorded['id']}"
    # the recordings' bookmark list (its search) shows it for qinzhou, not for maiji
    assert [b.id for b in search_bookmarks(pg_engine, centres=["qinzhou"])] == [bookmark_id]
    assert search_bookmarks(pg_engine, centres=["maiji"]) == []
    with pg_engine.connect() as connection:
        actions = connection.execute(
            select(AuditEntry.action, AuditEntry.actor)
            .where(AuditEntry.target == "cam1")
            .order_by(AuditEntry.id)
        ).all()
    assert [tuple(a) for a in actions] == [
        ("bookmark_add", "system:incidents"),
        ("bookmark_link", "system:incidents"),
    ]

    # a second pass makes nothing twice; the unrecorded one is tried until it is given up
    assert bookmark_new_incidents(pg_engine, OPENED + timedelta(minutes=2)) == {}
    assert [i.id for i in waiting(pg_engine, OPENED + timedelta(minutes=2))] == [unrecorded["id"]]
    assert waiting(pg_engine, OPENED + GIVE_UP_AFTER + timedelta(seconds=1)) == []
    assert get_incident(pg_engine, subject["id"])[2] == []
