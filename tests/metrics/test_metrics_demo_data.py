"""Demo data reproduces the published figures, on SQLite and PostgreSQL, and the roll-ups are right."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from watchwall.config.errors import UserError
from watchwall.config.settings import get_settings, reset_settings_cache
from watchwall.metrics import cases, compliance, resources, terminals
from watchwall.metrics.compliance_rules import SLOTS_PER_DAY, active_subjects_by_day, slot_outcome, slots_due
from watchwall.metrics.demo_data import _cases, ensure_demo_data, load_demo_data
from watchwall.metrics.demo_supervision import location_check_rows, subject_rows
from watchwall.metrics.headline import headline_figures
from watchwall.metrics.localtime import SHANGHAI, local_day
from watchwall.metrics.models import ComplianceDaily, LocationCheck, Subject

PUBLISHED = {
    "centres": 8,
    "cases_total": 555,
    "pretrial_evaluations": 135,
    "bases": {"education": 16, "public_welfare": 37, "employment": 15},
    "staff": {"full_time": 29, "public_welfare_posts": 18, "certified_officers": 278},
    "psych_assessed": 49,
    "reoffending_risk": 2,
}


def test_demo_data_reproduces_the_published_figures(demo_url, engine_for):
    with Session(engine_for(demo_url)) as session:
        figures = headline_figures(session, centres=8)
    for key, value in PUBLISHED.items():
        assert figures[key] == value, key
    assert figures["archives_digitised"] >= 1000
    assert 150 <= figures["subjects_under_supervision"] <= 500
    rates = figures["checkin_compliance"]
    assert 0.95 <= rates["last_30_days"] <= 0.995
    assert set(rates["by_county"]) == {
        "qinzhou",
        "maiji",
        "qingshui",
        "qinan",
        "gangu",
        "wushan",
        "zhangjiachuan",
    }
    assert all(0.9 <= rate <= 1.0 for rate in rates["by_county"].values())


def test_demo_cases_are_spread_over_counties_months_and_agencies(demo_url, engine_for):
    with Session(engine_for(demo_url)) as session:
        by_county = cases.cases_by_county(session)
        by_month = cases.cases_by_month(session)
        by_agency = cases.cases_by_agency(session)
    assert sum(by_county.values()) == 555
    assert by_county["qinzhou"] > by_county["qingshui"]  # the bigger district has more
    assert len(by_month) >= 30
    assert {"court", "procuratorate", "police", "prison"} <= set(by_agency)


def test_roll_up_matches_the_raw_checks_over_the_last_30_days(demo_url, engine_for):
    """Recount the roll-up's figures from raw rows with the pure rules."""
    engine = engine_for(demo_url)
    today = local_day(datetime.now(UTC))
    first, last = compliance.last_30_days(today)
    with Session(engine) as session:
        spans = session.execute(
            select(Subject.id, Subject.county, Subject.start_date, Subject.end_date)
        ).all()
        checks = session.execute(
            select(
                LocationCheck.subject_id, LocationCheck.local_day, LocationCheck.slot, LocationCheck.result
            ).where(LocationCheck.local_day.between(first, last))
        ).all()
        rolled = {
            (row.county, row.day): (
                row.required_slots,
                row.satisfied_slots,
                row.out_of_area_slots,
                row.missed_slots,
            )
            for row in session.scalars(
                select(ComplianceDaily).where(ComplianceDaily.day.between(first, last))
            )
        }
    active = active_subjects_by_day([(c, s, e) for _, c, s, e in spans], first, last)
    county_of = {sid: c for sid, c, _, _ in spans}
    slots: dict[tuple, list[str]] = {}
    for subject_id, day, slot, result in checks:
        slots.setdefault((subject_id, day, slot), []).append(result)
    expected = {key: [count * SLOTS_PER_DAY, 0, 0, 0] for key, count in active.items()}
    for (subject_id, day, _), results in slots.items():
        outcome = slot_outcome(results)
        figures = expected[(county_of[subject_id], day)]
        figures[1] += outcome == "satisfied"
        figures[2] += outcome == "out_of_area"
    for figures in expected.values():
        figures[3] = figures[0] - figures[1] - figures[2]
    assert rolled == {key: tuple(value) for key, value in expected.items()}
    assert len(rolled) == 7 * 30


def test_missed_today_agrees_with_today_rate(demo_url, engine_for):
    now = datetime.now(UTC)
    with Session(engine_for(demo_url)) as session:
        missed = compliance.missed_today(session, now)
        rate = compliance.today_compliance(session, now)
        owed = compliance.subjects_under_supervision(session, local_day(now)) * slots_due(now)
    if owed == 0:  # before the first check-in window closes nothing is owed, so nothing is missed
        assert rate is None and missed == []
        return
    assert len(missed) == round(owed * (1 - rate))
    assert all("*" in row["name"] and row["outcome"] in ("missed", "out_of_area") for row in missed)


def test_demo_generation_is_deterministic():
    first, today = date(2023, 1, 1), date(2025, 12, 31)
    now = datetime(2025, 12, 31, 10, 0, tzinfo=UTC)
    subjects = subject_rows(random.Random(7), first, today)
    assert subjects == subject_rows(random.Random(7), first, today)
    some_checks = list(islice(location_check_rows(random.Random(8), subjects, first, now, SHANGHAI), 5000))
    assert some_checks == list(
        islice(location_check_rows(random.Random(8), subjects, first, now, SHANGHAI), 5000)
    )
    assert _cases(random.Random(7), first, now, SHANGHAI) == _cases(random.Random(7), first, now, SHANGHAI)


def test_demo_data_refuses_a_database_with_case_data_unless_replacing(subjects_url, engine_for):
    engine = engine_for(subjects_url)
    with pytest.raises(UserError, match="already holds case data .*3 subjects.*--replace"):
        load_demo_data(engine)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Subject)).scalar_one() == 3


@pytest.mark.parametrize("backend", ["sqlite"])
def test_ensure_demo_data_fills_only_an_empty_default_database(
    backend, demo_url, tmp_path, monkeypatch, engine_for
):
    """The SQLite demo database was filled by ensure_demo_data (see conftest); it is not filled twice,
    and a configured (non-default) database is never filled."""
    monkeypatch.setenv("WATCHWALL_DATA_DIR", str(Path(make_url(demo_url).database).parent))
    monkeypatch.delenv("WATCHWALL_DATABASE_URL", raising=False)
    reset_settings_cache()
    try:
        assert get_settings().effective_database_url == demo_url
        assert ensure_demo_data(engine_for(demo_url)) is False  # not empty any more
        other = f"sqlite:///{tmp_path / 'other.db'}"
        monkeypatch.setenv("WATCHWALL_DATABASE_URL", other)
        reset_settings_cache()
        assert ensure_demo_data(engine_for(other)) is False
        assert inspect(engine_for(other)).get_table_names() == []
    finally:
        reset_settings_cache()
    with Session(engine_for(demo_url)) as session:
        assert cases.cases_total(session) == 555


def test_resource_terminal_and_method_breakdowns_add_up(demo_url, engine_for):
    today = local_day(datetime.now(UTC))
    first, last = compliance.last_30_days(today)
    with Session(engine_for(demo_url)) as session:
        bases = resources.bases_by_county(session)
        staff = resources.staff_by_county(session)
        by_kind = terminals.transactions_by_kind(session, first, last)
        by_county = terminals.transactions_by_county(session, first, last)
        methods = compliance.checks_by_method(session, first, last)
        raw_checks = session.execute(
            select(func.count())
            .select_from(LocationCheck)
            .where(LocationCheck.local_day.between(first, last))
        ).scalar_one()
        assert resources.archives_by_county(session) == {"qinan": 1046}
    assert len(bases) == 7 and len(staff) == 7
    assert sum(b.get("public_welfare", 0) for b in bases.values()) == 37
    assert sum(s.get("certified_officer", 0) for s in staff.values()) == 278
    assert staff["qinzhou"]["certified_officer"] > staff["qingshui"]["certified_officer"]
    assert sum(by_kind.values()) == sum(by_county.values()) > 100
    assert by_kind["daily_report"] == max(by_kind.values())
    assert set(methods) == {"dingtalk", "electronic", "home_visit"}
    assert sum(m["checks"] for m in methods.values()) == raw_checks
    assert methods["dingtalk"]["checks"] > methods["electronic"]["checks"] > methods["home_visit"]["checks"]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_headline_figures_for_a_past_day_count_centres_in_the_site_file(
    backend, demo_url, engine_for, monkeypatch
):
    monkeypatch.delenv("WATCHWALL_SITE", raising=False)
    reset_settings_cache()
    past = local_day(datetime.now(UTC)) - timedelta(days=40)
    try:
        with Session(engine_for(demo_url)) as session:
            figures = headline_figures(session, today=past)
            expected_month = cases.cases_by_month(session).get(f"{past:%Y-%m}", 0)
    finally:
        reset_settings_cache()
    assert figures["centres"] == 8  # the shipped Tianshui site
    assert figures["as_of"].startswith(f"{past.isoformat()}T23:59:59")
    assert figures["cases_this_month"] == expected_month
    assert 0.9 <= figures["checkin_compliance"]["today"] <= 1.0  # a past day: both slots owed and done
