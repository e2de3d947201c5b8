"""The audit log's hash chain: concurrent appends never fork it (SQLite and PostgreSQL); tampering is named."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from watchwall.audit.listing import AuditLog, append, list_entries, verify_chain
from watchwall.config.database import make_engine

THREADS, PER_THREAD = 6, 15


def append_concurrently(engine) -> None:
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            for index in range(PER_THREAD):
                append(
                    engine,
                    actor=f"user{number}",
                    action="live_view",
                    target=f"cam{index}",
                    detail={"n": index, "名": "秦州区"},
                    address="127.0.0.1",
                )
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(t.is_alive() for t in threads)
    assert errors == []


def check_unforked(engine) -> None:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, prev_hash, entry_hash FROM audit_log ORDER BY id")).all()
    assert [r.id for r in rows] == list(range(1, THREADS * PER_THREAD + 1))
    assert len({r.prev_hash for r in rows}) == len(rows)  # no two rows hang off the same parent
    assert verify_chain(engine) == []


def test_concurrent_appends_on_sqlite(engine):
    append_concurrently(engine)
    check_unforked(engine)


@pytest.mark.postgres
def test_concurrent_appends_on_postgresql(postgres_url):
    engine = make_engine(postgres_url, pool_size=THREADS + 2)
    try:
        append_concurrently(engine)
        check_unforked(engine)
    finally:
        engine.dispose()


@pytest.fixture
def ten_entries(engine):
    audit = AuditLog(engine)
    for index in range(10):
        audit(actor="admin", action="config_change", target=f"setting{index}", detail={"value": index})
    assert verify_chain(engine) == []
    return engine


def test_an_edited_row_is_named(ten_entries):
    with ten_entries.begin() as connection:
        connection.execute(text("UPDATE audit_log SET actor = 'someone-else' WHERE id = 4"))
    assert [(b.entry_id, "edited" in b.problem) for b in verify_chain(ten_entries)] == [(4, True)]


def test_a_deleted_row_is_named(ten_entries):
    with ten_entries.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE id = 6"))
    breaks = verify_chain(ten_entries)
    assert breaks[0].entry_id == 7 and "6" in breaks[0].problem and "deleted" in breaks[0].problem


def test_deleted_last_rows_are_named(ten_entries):
    with ten_entries.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE id > 8"))
    (only,) = verify_chain(ten_entries)
    assert "rows at the end were deleted" in only.problem


def test_listing_is_newest_first_and_filters(ten_entries):
    append(ten_entries, actor="li", action="export", target="cam1")
    entries = list_entries(ten_entries, limit=3)
    assert [e.id for e in entries] == [11, 10, 9]
    assert [e.actor for e in list_entries(ten_entries, action="export")] == ["li"]
