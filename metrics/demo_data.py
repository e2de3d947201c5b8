"""Deterministic demo data: about three years of a city's case database ending today.

Totals reproduce the figures published for Tianshui exactly (see ``PUBLISHED``): 555 cases,
135 of them pre-trial evaluations; 16/37/15 education/public-welfare/employment bases;
29 full-time staff, 18 public-welfare posts, 278 certified officers; 49 subjects assessed,
2 flagged; 1,046 archive files digitised in 秦安县. Around 270 subjects are under
supervision on any day, each with two location checks a day (compliance ~96-99%).

:func:`load_demo_data` refuses a database that already holds case data unless asked to
replace it, in which case it deletes every row of the case tables first.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, delete, func, select, text
from sqlalchemy.engine import make_url

from watchwall.config.database import upgrade
from watchwall.config.errors import UserError
from watchwall.config.settings import get_settings
from watchwall.metrics.allocation import allocate
from watchwall.metrics.bulk import bulk_insert
from watchwall.metrics.counties import COUNTIES
from watchwall.metrics.demo_people import local_moment, pick, pick_county
from watchwall.metrics.demo_supervision import location_check_rows, subject_rows, terminal_transaction_rows
from watchwall.metrics.geo.demo_areas import CheckPlaces, demo_area_rows
from watchwall.metrics.geo.models import SubjectArea
from watchwall.metrics.localtime import SHANGHAI, local_day, month_key
from watchwall.metrics.models import (
    METRICS_TABLES,
    ArchiveDigitisation,
    Case,
    LocationCheck,
    PsychAssessment,
    StaffMember,
    Subject,
    SupportBase,
    TerminalTransaction,
)
from watchwall.metrics.rollup import rebuild_rollups

DEFAULT_SEED = 2024
HISTORY_DAYS = 3 * 365
PUBLISHED = {
    "cases": {
        "correction_reception": 300,
        "pretrial_evaluation": 135,
        "rewards_punishments": 90,
        "committal_to_prison": 30,
    },
    "bases": {"education": 16, "public_welfare": 37, "employment": 15},
    "staff": {"full_time": 29, "public_welfare_post": 18, "certified_officer": 278},
    "psych_assessed": 49,
    "reoffending_risk": 2,
    "archives_qinan": 1046,
}
CASE_AGENCIES = {
    "correction_reception": (("court", 0.82), ("prison", 0.10), ("police", 0.08)),
    "pretrial_evaluation": (("court", 0.66), ("procuratorate", 0.26), ("police", 0.08)),
    "rewards_punishments": (("court", 0.55), ("prison", 0.30), ("police", 0.15)),
    "committal_to_prison": (("court", 0.70), ("police", 0.30)),
}


def case_data_counts(connection: Connection) -> dict[str, int]:
    return {
        "subjects": connection.execute(select(func.count()).select_from(Subject)).scalar_one(),
        "cases": connection.execute(select(func.count()).select_from(Case)).scalar_one(),
        "location checks": connection.execute(select(func.count()).select_from(LocationCheck)).scalar_one(),
    }


def _clear(connection: Connection) -> None:
    connection.execute(delete(SubjectArea.__table__))
    for table in reversed(METRICS_TABLES):
        connection.execute(delete(table))


def _cases(rng: random.Random, first: date, now: datetime, zone: ZoneInfo) -> list[tuple]:
    span = (local_day(now, zone) - first).days
    rows = []
    for case_type, total in PUBLISHED["cases"].items():
        for _ in range(total):
            moment = now + timedelta(days=1)
            while moment > now:  # caseload grows over the years: later days are likelier
                day = first + timedelta(days=int(rng.betavariate(1.4, 1.0) * span))
                moment = local_moment(day, rng.randint(8 * 3600, 18 * 3600), zone)
            closed = moment + timedelta(days=rng.randint(3, 30), seconds=rng.randint(0, 8 * 3600))
            rows.append(
                [
                    case_type,
                    pick(rng, CASE_AGENCIES[case_type]),
                    pick_county(rng),
                    moment.astimezone(UTC),
                    month_key(day),
                    closed.astimezone(UTC) if closed <= now else None,
                ]
            )
    rows.sort(key=lambda row: row[3])
    return [(f"demo-case-{n:04d}", *row) for n, row in enumerate(rows, start=1)]


def _perpick_county(kinds: dict[str, int]) -> list[tuple[str, str]]:
    """(kind, county) pairs: each kind's published total split over counties by weight."""
    pairs = []
    for kind, total in kinds.items():
        for county, share in zip(COUNTIES, allocate(total, [c.weight for c in COUNTIES]), strict=True):
            pairs.extend((kind, county.code) for _ in range(share))
    return pairs


def _bases() -> list[tuple]:
    label = {"education": "教育基地", "public_welfare": "公益活动基地", "employment": "就业安置基地"}
    names = {c.code: c.name_zh for c in COUNTIES}
    counters: dict[tuple[str, str], int] = {}
    rows = []
    for kind, county in _perpick_county(PUBLISHED["bases"]):
        counters[(kind, county)] = counters.get((kind, county), 0) + 1
        rows.append((kind, f"{names[county]}社区矫正{label[kind]}{counters[(kind, county)]}号", county))
    return rows


def _assessments(rng: random.Random, subjects: list[tuple], today: date) -> list[tuple]:
    active = [row for row in subjects if row[5] <= today <= row[6]]
    chosen = rng.sample(active, PUBLISHED["psych_assessed"])
    flagged = {row[0] for row in chosen[: PUBLISHED["reoffending_risk"]]}
    rows = []
    for row in chosen:
        subject_id, start = row[0], row[5]
        first_on = start + timedelta(days=rng.randint(7, 30))
        visits = [min(first_on, today)]
        if rng.random() < 0.2 and first_on + timedelta(days=90) <= today:
            visits.append(first_on + timedelta(days=90))
        for on in visits:
            risky = subject_id in flagged and on == visits[-1]
            rows.append((subject_id, on, rng.randint(68, 85) if risky else rng.randint(20, 59), risky))
    return rows


def _archives(rng: random.Random, today: date) -> list[tuple]:
    batches = allocate(PUBLISHED["archives_qinan"], [rng.uniform(0.6, 1.4) for _ in range(12)])
    return [
        ("qinan", today - timedelta(days=30 * (12 - month)), count) for month, count in enumerate(batches)
    ]


def _reset_sequence(connection: Connection, table: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        )


def generate(
    connection: Connection, seed: int = DEFAULT_SEED, now: datetime | None = None, zone: ZoneInfo = SHANGHAI
) -> dict:
    """Write the demo data into empty case tables; return row counts."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    today = local_day(now, zone)
    first = today - timedelta(days=HISTORY_DAYS - 1)
    subjects = subject_rows(rng, first, today)
    counts = {
        "subjects": bulk_insert(
            connection,
            Subject.__table__,
            (
                "id",
                "external_id",
                "name",
                "county",
                "category",
                "start_date",
                "end_date",
                "supervision_level",
            ),
            subjects,
        )
    }
    _reset_sequence(connection, "subjects")
    areas = demo_area_rows(random.Random(seed + 3), subjects)
    counts["subject_areas"] = bulk_insert(
        connection,
        SubjectArea.__table__,
        ("subject_id", "kind", "home_latitude", "home_longitude", "radius_m", "polygon"),
        areas,
    )
    counts["location_checks"] = bulk_insert(
        connection,
        LocationCheck.__table__,
        (
            "external_id",
            "subject_id",
            "county",
            "checked_at",
            "local_day",
            "slot",
            "method",
            "result",
            "latitude",
            "longitude",
        ),
        location_check_rows(random.Random(seed + 1), subjects, first, now, zone, CheckPlaces(areas)),
    )
    counts["cases"] = bulk_insert(
        connection,
        Case.__table__,
        ("external_id", "case_type", "source_agency", "county", "received_at", "received_month", "closed_at"),
        _cases(rng, first, now, zone),
    )
    counts["support_bases"] = bulk_insert(
        connection, SupportBase.__table__, ("kind", "name", "county"), _bases()
    )
    counts["staff_members"] = bulk_insert(
        connection, StaffMember.__table__, ("kind", "county"), _perpick_county(PUBLISHED["staff"])
    )
    counts["psych_assessments"] = bulk_insert(
        connection,
        PsychAssessment.__table__,
        ("subject_id", "assessed_on", "score", "reoffending_risk"),
        _assessments(rng, subjects, today),
    )
    counts["archive_digitisations"] = bulk_insert(
        connection,
        ArchiveDigitisation.__table__,
        ("county", "digitised_on", "file_count"),
        _archives(rng, today),
    )
    counts["terminal_transactions"] = bulk_insert(
        connection,
        TerminalTransaction.__table__,
        ("subject_id", "county", "kind", "occurred_at", "local_day"),
        terminal_transaction_rows(random.Random(seed + 2), subjects, first, now, zone),
    )
    rebuild_rollups(connection, first, today)
    return counts


def load_demo_data(
    engine: Engine,
    seed: int = DEFAULT_SEED,
    replace: bool = False,
    now: datetime | None = None,
    zone: ZoneInfo = SHANGHAI,
) -> dict:
    """Load the demo data in one transaction. Refuses when case data exists, unless ``replace``."""
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA cache_size = -131072")  # 128 MiB: index inserts stay in memory
        existing = case_data_counts(connection)
        if any(existing.values()):
            if not replace:
                held = ", ".join(f"{count} {name}" for name, count in existing.items())
                raise UserError(
                    f"the database already holds case data ({held}); use --replace to delete it and load the demo data"
                )
            _clear(connection)
        return generate(connection, seed, now, zone)


def ensure_demo_data(engine: Engine, settings=None) -> bool:
    """Load the demo data when ``engine`` is the default database and it holds no case data.

    Brings the schema up to date first. Returns whether demo data was loaded. Called by
    ``watchwall serve``; a configured (non-default) database is never touched.
    """
    settings = settings or get_settings()
    if not settings.uses_default_database or make_url(settings.effective_database_url) != engine.url:
        return False
    upgrade(settings.effective_database_url)
    with engine.connect() as connection:
        if any(case_data_counts(connection).values()):
            return False
    load_demo_data(engine, zone=settings.zone)
    return True
