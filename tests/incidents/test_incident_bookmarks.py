"""A camera incident bookmarks its camera's recording over the lead-in to its opening, linked both
ways; the bookmark is in the recordings' bookmark list. Real H.264 through the real recorder, on
PostgreSQL."""

from __future__ import annotations

import threading
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


def test_two_watch_passes_at_once_make_one_bookmark(pg_engine, tmp_path):
    """Two web nodes' incident watches run the same pass at the same moment."""
    record(pg_engine, tmp_path / "recordings", "cam1", T0, seconds=10.0)
    settings = IncidentSettings()
    ids = [
        open_incident(
            pg_engine, settings, kind=kind, county="qinzhou", centre="qinzhou", camera_id="cam1", at=OPENED
        )["id"]
        for kind in ("covered", "defocus", "frozen", "moved")
    ]
    start = threading.Barrier(2, timeout=30)
    made: list[dict] = []

    def watch_pass() -> None:
        start.wait()
        made.append(bookmark_new_incidents(pg_engine, OPENED + timedelta(minutes=1)))

    passes = [threading.Thread(target=watch_pass) for _ in range(2)]
    for thread in passes:
        thread.start()
    for thread in passes:
        thread.join(60)
    assert sorted(i for found in made for i in found) == sorted(ids)  # each incident by one pass
    for incident_id in ids:
        assert len(bookmarks_for(pg_engine, "incident", str(incident_id))) == 1
        marks = [e for e in get_incident(pg_engine, incident_id)[2] if e["kind"] == "bookmark"]
        assert len(marks) == 1 and marks[0]["ref"] is not None
    assert len(search_bookmarks(pg_engine, centres=["qinzhou"])) == len(ids)
