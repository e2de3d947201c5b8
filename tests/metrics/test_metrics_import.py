"""``watchwall import checkins|cases``: good files, bad files refused whole, idempotent re-import."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from watchwall.metrics import compliance
from watchwall.metrics.models import Case, ComplianceDaily, LocationCheck
from watchwall.roles.cli import main

DATA = Path(__file__).parent / "data"


def _count(url_engine, model) -> int:
    with url_engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(model)).scalar_one()


def _run(*args) -> int:
    return main(["import", *map(str, args)])


def test_good_csv_and_jsonl_checkins_and_their_roll_up(subjects_url, watchwall_env, engine_for, capsys):
    watchwall_env(subjects_url)
    engine = engine_for(subjects_url)
    assert _run("checkins", DATA / "checkins.csv") == 0
    assert "7 rows: 7 new, 0 updated, 0 unchanged" in capsys.readouterr().out
    assert _run("checkins", DATA / "checkins.jsonl") == 0
    assert _count(engine, LocationCheck) == 10
    with Session(engine) as session:
        check = session.scalars(select(LocationCheck).where(LocationCheck.external_id == "chk-0006")).one()
        assert check.checked_at == datetime(2024, 4, 30, 23, 30, tzinfo=UTC)
        assert (check.local_day, check.slot, check.method) == (date(2024, 5, 1), "morning", "home_visit")
        naive = session.scalars(select(LocationCheck).where(LocationCheck.external_id == "chk-0007")).one()
        assert naive.checked_at == datetime(2024, 5, 1, 23, 45, tzinfo=UTC)  # 07:45 local
        rolled = {
            row.county: (row.required_slots, row.satisfied_slots, row.out_of_area_slots, row.missed_slots)
            for row in session.scalars(select(ComplianceDaily).where(ComplianceDaily.day == date(2024, 5, 1)))
        }
        assert rolled == {"qinzhou": (2, 2, 0, 0), "qinan": (2, 1, 1, 0), "gangu": (2, 1, 0, 1)}
        evening = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)  # 20:00 local: both slots owed
        assert compliance.today_compliance(session, evening) == pytest.approx(4 / 6)
        assert compliance.missed_today(session, evening) == [
            {
                "subject": "S-0003",
                "name": "欧**明",
                "county": "gangu",
                "slot": "afternoon",
                "outcome": "missed",
            },
            {
                "subject": "S-0002",
                "name": "李*",
                "county": "qinan",
                "slot": "afternoon",
                "outcome": "out_of_area",
            },
        ]
        morning = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)  # 10:00 local: only the morning slot owed
        assert compliance.missed_today(session, morning) == []


def test_reimporting_changes_nothing_and_a_changed_row_is_updated(
    subjects_url, watchwall_env, engine_for, tmp_path, capsys
):
    watchwall_env(subjects_url)
    engine = engine_for(subjects_url)
    assert _run("checkins", DATA / "checkins.csv") == 0
    with engine.connect() as connection:
        before = connection.execute(select(LocationCheck).order_by(LocationCheck.id)).all()
    capsys.readouterr()
    assert _run("checkins", DATA / "checkins.csv") == 0
    assert "7 rows: 0 new, 0 updated, 7 unchanged" in capsys.readouterr().out
    with engine.connect() as connection:
        assert connection.execute(select(LocationCheck).order_by(LocationCheck.id)).all() == before

    changed = tmp_path / "changed.csv"
    changed.write_text(
        (DATA / "checkins.csv")
        .read_text(encoding="utf-8")
        .replace(
            "chk-0005,S-0003,2024-05-01T10:30:00+08:00,信息化核查,missed",
            "chk-0005,S-0003,2024-05-01T16:30:00+08:00,信息化核查,ok",
        ),
        encoding="utf-8",
    )
    assert _run("checkins", changed) == 0
    assert "7 rows: 0 new, 1 updated, 6 unchanged" in capsys.readouterr().out
    with Session(engine) as session:
        gangu = session.get(ComplianceDaily, ("gangu", date(2024, 5, 1)))
        assert (gangu.satisfied_slots, gangu.missed_slots) == (2, 0)  # the afternoon slot is now satisfied


def test_bad_checkins_file_is_refused_whole_naming_every_bad_line(
    subjects_url, watchwall_env, engine_for, capsys
):
    watchwall_env(subjects_url)
    engine = engine_for(subjects_url)
    assert _run("checkins", DATA / "checkins_bad.csv") == 2
    err = capsys.readouterr().err
    for line, reason in [
        (3, "checked_at: '2024-13-04T08:00:00+08:00' is not an ISO 8601 time"),
        (4, "method: 'carrier-pigeon' is not one of electronic, dingtalk, home_visit"),
        (5, "subject: 'S-9999' is not in the database"),
        (6, "external_id: 'chk-2001' already on line 2"),
        (7, "latitude: 95.0 is outside -90..90"),
        (8, "result: 'late' is not one of ok, missed, out_of_area"),
        (9, "latitude/longitude: give both or neither"),
    ]:
        assert f"line {line}: {reason}" in err
    assert "line 2:" not in err
    assert "7 bad row(s)" in err and "nothing was written" in err
    assert _count(engine, LocationCheck) == 0


def test_cases_csv_jsonl_bad_file_and_reimport(empty_url, watchwall_env, engine_for, capsys):
    watchwall_env(empty_url)
    engine = engine_for(empty_url)
    assert _run("cases", DATA / "cases_bad.jsonl") == 2
    err = capsys.readouterr().err
    assert [n for n in range(1, 8) if f"line {n}:" in err] == [2, 3, 4, 5, 6, 7]
    assert _count(engine, Case) == 0
    assert _run("cases", DATA / "cases.csv") == 0
    assert _run("cases", DATA / "cases.jsonl") == 0
    assert _run("cases", DATA / "cases.csv") == 0
    assert "3 rows: 0 new, 0 updated, 3 unchanged" in capsys.readouterr().out.splitlines()[-1]
    with Session(engine) as session:
        rows = {case.external_id: case for case in session.scalars(select(Case))}
    assert len(rows) == 5
    assert rows["case-0002"].case_type == "pretrial_evaluation" and rows["case-0002"].source_agency == "court"
    assert rows["case-0003"].received_month == "2024-06"  # 16:30 UTC on 31 May is 00:30 on 1 June locally
    assert rows["case-0001"].closed_at == datetime(2024, 5, 10, 9, 0, tzinfo=UTC)


def test_unknown_file_type_and_missing_file(empty_url, watchwall_env, tmp_path, capsys):
    watchwall_env(empty_url)
    odd = tmp_path / "cases.xlsx"
    shutil.copy(DATA / "cases.csv", odd)
    assert _run("cases", odd) == 2
    assert "use .csv, .jsonl or .ndjson" in capsys.readouterr().err
    assert _run("cases", tmp_path / "missing.csv") == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.parametrize("backend", ["sqlite"])
def test_progress_bar_on_request(backend, empty_url, watchwall_env, capsys):
    watchwall_env(empty_url)
    assert _run("cases", DATA / "cases.csv", "--progress") == 0
    assert "import cases" in capsys.readouterr().err
    assert _run("cases", DATA / "cases.jsonl") == 0
    assert "import cases" not in capsys.readouterr().err  # stderr is not a terminal here
