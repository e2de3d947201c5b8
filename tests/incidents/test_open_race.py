"""Two openers of the same problem at once make one incident (migration 0016's partial unique index on
the problem of incidents not closed): real concurrent transactions on PostgreSQL, threads and
processes, and the migration merging the duplicates an older database may already hold."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, inspect, select, text

from watchwall.audit.log import AuditEntry
from watchwall.config.database import make_engine, upgrade
from watchwall.config.incident_settings import IncidentSettings
from watchwall.incidents.models import Incident
from watchwall.incidents.store import act, open_incident

SETTINGS = IncidentSettings()
T0 = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
OPENERS = 8
KEYS = 12


class Command:
    username, role, counties, all_counties = "command", "city_command", (), True


def opened(engine, key: str) -> list[tuple[int, str, int]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                select(Incident.id, Incident.state, Incident.count)
                .where(Incident.problem_key == key)
                .order_by(Incident.id)
            )
        ]


def opens_audited(engine, incident_id: int) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.target == f"incident:{incident_id}", AuditEntry.action == "incident.open")
        ).scalar_one()


def open_missed(engine, key: str) -> dict:
    return open_incident(
        engine, SETTINGS, kind="missed_checkin", county="qinzhou", problem_key=key, subject_ref="张*", at=T0
    )


@pytest.fixture
def pg_engine(postgres):
    engine = make_engine(postgres.migrated("ww_race"), pool_size=OPENERS + 2)
    yield engine
    engine.dispose()


@pytest.mark.postgres
def test_eight_threads_opening_the_same_problems_at_once_make_one_incident_each(pg_engine):
    keys = [f"subject:S-{n:04d}:missed_checkin:2026-12-04:morning" for n in range(KEYS)]
    start = threading.Barrier(OPENERS, timeout=30)
    answers: dict[str, list[int]] = {key: [] for key in keys}
    failures: list[BaseException] = []
    lock = threading.Lock()

    def opener() -> None:
        try:
            for key in keys:
                start.wait()  # every opener starts on the same problem at the same moment
                found = open_missed(pg_engine, key)
                with lock:
                    answers[key].append(found["id"])
        except BaseException as exc:  # the test reports it below
            failures.append(exc)
            start.abort()

    threads = [threading.Thread(target=opener) for _ in range(OPENERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures
    for key in keys:
        ((incident_id, state, count),) = opened(pg_engine, key)
        assert (state, count) == ("open", 1)
        assert answers[key] == [incident_id] * OPENERS  # every opener was given the one incident
        assert opens_audited(pg_engine, incident_id) == 1


@pytest.mark.postgres
def test_an_opener_that_read_nothing_waits_for_the_first_and_is_given_its_incident(pg_engine):
    """Deterministic order: the first opener's row is inserted but not committed while the second
    reads (nothing yet) and inserts; the index makes the second wait, then fail, then take the first's."""
    key = "camera:cam-race:video"
    second: dict = {}
    with pg_engine.connect() as first:
        transaction = first.begin()
        first.execute(
            insert(Incident).values(
                kind="offline",
                severity="high",
                state="open",
                county="qinzhou",
                centre="qinzhou",
                camera_id="cam-race",
                problem_key=key,
                opened_at=T0,
                last_seen_at=T0,
                count=1,
                reopened=0,
                version=1,
            )  # fmt: skip
        )
        thread = threading.Thread(
            target=lambda: second.update(
                open_incident(
                    pg_engine, SETTINGS, kind="offline", county="qinzhou", camera_id="cam-race", at=T0
                )
            )
        )
        thread.start()
        thread.join(2.0)
        assert thread.is_alive()  # waiting on the first's uncommitted row
        transaction.commit()
    thread.join(30)
    ((incident_id, state, count),) = opened(pg_engine, key)
    assert second["id"] == incident_id and (state, count) == ("open", 1)


def _process_opener(url: str, keys: list[str], start, answers) -> None:
    engine = make_engine(url)
    try:
        for key in keys:
            start.wait(30)
            answers.append((key, open_missed(engine, key)["id"]))
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_four_processes_opening_the_same_problems_make_one_incident_each(postgres):
    url = postgres.migrated("ww_race_proc")
    keys = [f"check:C-{n}:out_of_area" for n in range(6)]
    spawn = multiprocessing.get_context("spawn")
    with spawn.Manager() as manager:
        start, answers = manager.Barrier(4), manager.list()
        workers = [spawn.Process(target=_process_opener, args=(url, keys, start, answers)) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(120)
        assert [worker.exitcode for worker in workers] == [0] * 4
        given = list(answers)
    engine = make_engine(url)
    try:
        for key in keys:
            ((incident_id, _state, count),) = opened(engine, key)
            assert count == 1 and [i for k, i in given if k == key] == [incident_id] * 4
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_closed_incident_leaves_room_for_a_new_one_of_the_same_problem(pg_engine):
    key = "subject:S-9:out_of_area"
    first = open_missed(pg_engine, key)
    act(pg_engine, Command(), first["id"], "close", reason="phone_verified")  # closed now, on the real clock
    later = open_incident(
        pg_engine, IncidentSettings(quiet_period_s=0), kind="missed_checkin", county="qinzhou",
        problem_key=key, at=datetime.now(UTC) + timedelta(minutes=1),
    )  # fmt: skip
    assert later["id"] != first["id"]
    assert [state for _, state, _ in opened(pg_engine, key)] == ["closed", "open"]
    with (
        pytest.raises(Exception, match="uq_incidents_open_problem_key|UNIQUE"),
        pg_engine.begin() as connection,
    ):
        connection.execute(text("UPDATE incidents SET state = 'open' WHERE id = :id"), {"id": first["id"]})


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_the_migration_closes_older_duplicates_an_older_database_holds(backend, tmp_path, request):
    url = (
        f"sqlite:///{tmp_path / 'old.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres").create("ww_race_migration")
    )
    upgrade(url, "0008_incidents")
    engine = make_engine(url)
    try:
        row = dict(
            kind="offline", severity="high", county="qinzhou", problem_key="camera:cam1:video", opened_at=T0,
            last_seen_at=T0, count=1, reopened=0, version=1,
        )  # fmt: skip
        with engine.begin() as connection:
            connection.execute(
                insert(Incident),
                [{**row, "state": "open"}, {**row, "state": "acknowledged"}, {**row, "state": "closed"}],
            )
        upgrade(url)
        with engine.connect() as connection:
            rows = connection.execute(
                select(Incident.id, Incident.state, Incident.close_note, Incident.closed_at).order_by(
                    Incident.id
                )
            ).all()
    finally:
        engine.dispose()
    assert [(r.id, r.state) for r in rows] == [(1, "closed"), (2, "acknowledged"), (3, "closed")]
    assert rows[0].close_note == "duplicate of incident 2 (migration 0016)" and rows[0].closed_at is not None


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_the_migrated_incident_tables_equal_the_models(backend, tmp_path, request):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from watchwall.config.database import import_all_models

    url = (
        f"sqlite:///{tmp_path / 'schema.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres").migrated("ww_race_schema")
    )
    upgrade(url)
    tables = {"incidents", "incident_notes", "incident_evidence"}

    def ours(obj, name, type_, reflected, compare_to) -> bool:
        return (name if type_ == "table" else obj.table.name) in tables

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": ours}
            )
            assert compare_metadata(context, import_all_models()) == []
            indexes = {index["name"]: index for index in inspect(connection).get_indexes("incidents")}
    finally:
        engine.dispose()
    assert indexes["uq_incidents_open_problem_key"]["unique"]
