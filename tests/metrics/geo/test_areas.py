"""Subjects' assigned areas decide ``out_of_area`` at intake (``watchwall import checkins``) and in the demo."""

from __future__ import annotations

import json
from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from watchwall.config.database import import_all_models
from watchwall.metrics.geo.areas import Area, AreaError, area_of, areas_for, judge, parse_rings
from watchwall.metrics.geo.models import SubjectArea
from watchwall.metrics.models import ComplianceDaily, LocationCheck, Subject
from watchwall.roles.cli import main

HOME = (105.72, 34.58)  # (lon, lat), 秦州区
RING = [[105.70, 34.56], [105.74, 34.56], [105.74, 34.60], [105.70, 34.60], [105.70, 34.56]]


def test_radius_and_polygon_areas_and_the_decision():
    radius = area_of({"kind": "radius", "home_latitude": 34.58, "home_longitude": 105.72, "radius_m": 1000})
    assert radius.contains(105.72, 34.585)  # ~560 m north
    assert not radius.contains(105.72, 34.59)  # ~1.1 km north
    polygon = area_of(
        {"kind": "polygon", "home_latitude": None, "home_longitude": None, "polygon": json.dumps([RING])}
    )
    assert polygon.contains(105.73, 34.57) and not polygon.contains(105.75, 34.57)
    assert judge("ok", 34.59, 105.72, radius) == "out_of_area"
    assert judge("out_of_area", 34.581, 105.72, radius) == "ok"  # inside its area: the area decides
    assert judge("missed", 34.59, 105.72, radius) == "missed"
    assert judge("ok", None, None, radius) == "ok"  # no coordinates: the source's result stands
    assert judge("out_of_area", 34.581, 105.72, None) == "out_of_area"  # no area: likewise


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not JSON"),
        ("[]", "list of rings"),
        ("[[[1, 2], [3, 4], [1, 2]]]", "at least 4"),
        ('[[[1, 2], [3, 4], [5, "x"], [1, 2]]]', r"is not \[lon, lat\]"),
        ("[[[1, 2], [3, 4], [5, 6], [1, 3]]]", "not closed"),
        ("[[[1, 2], [3, 4], [500, 6], [1, 2]]]", "outside"),
    ],
)
def test_a_bad_polygon_is_refused_with_its_reason(text, message):
    with pytest.raises(AreaError, match=message):
        parse_rings(text)


def test_a_radius_area_without_home_or_radius_is_refused():
    with pytest.raises(AreaError, match="radius"):
        area_of({"kind": "radius", "home_latitude": None, "home_longitude": 105.7, "radius_m": 100})
    with pytest.raises(AreaError, match="kind"):
        area_of({"kind": "circle", "home_latitude": 34.5, "home_longitude": 105.7})


def _subject_ids(engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            external_id: sid
            for external_id, sid in connection.execute(select(Subject.external_id, Subject.id))
        }


def test_the_database_refuses_an_area_without_its_shape(subjects_url, engine_for):
    engine = engine_for(subjects_url)
    subject = _subject_ids(engine)["S-0001"]
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(SubjectArea.__table__.insert(), {"subject_id": subject, "kind": "radius"})


def test_import_marks_a_check_outside_its_subjects_area_out_of_area(
    subjects_url, watchwall_env, engine_for, tmp_path
):
    watchwall_env(subjects_url)
    engine = engine_for(subjects_url)
    ids = _subject_ids(engine)
    with engine.begin() as connection:
        connection.execute(
            SubjectArea.__table__.insert(),
            [
                {
                    "subject_id": ids["S-0001"],
                    "kind": "radius",
                    "home_latitude": 34.58,
                    "home_longitude": 105.72,
                    "radius_m": 2000,
                    "polygon": None,
                },
                {
                    "subject_id": ids["S-0002"],
                    "kind": "polygon",
                    "home_latitude": None,
                    "home_longitude": None,
                    "radius_m": None,
                    "polygon": json.dumps(
                        [
                            [
                                [105.65, 34.84],
                                [105.69, 34.84],
                                [105.69, 34.88],
                                [105.65, 34.88],
                                [105.65, 34.84],
                            ]
                        ]
                    ),
                },
            ],
        )
        assert set(areas_for(connection, ids.values())) == {ids["S-0001"], ids["S-0002"]}
    rows = tmp_path / "checks.csv"
    rows.write_text(
        "external_id,subject,checked_at,method,result,latitude,longitude\n"
        "a-in,S-0001,2024-05-01T08:00:00+08:00,dingtalk,ok,34.585,105.725\n"  # ~700 m from home
        "a-out,S-0001,2024-05-01T15:00:00+08:00,dingtalk,ok,34.62,105.72\n"  # ~4.4 km from home
        "b-in,S-0002,2024-05-01T08:00:00+08:00,electronic,ok,34.86,105.67\n"
        "b-out,S-0002,2024-05-01T15:00:00+08:00,electronic,ok,34.90,105.67\n"
        "c-none,S-0003,2024-05-01T08:00:00+08:00,home_visit,ok,35.5,106.5\n"  # no area: result stands
        "a-nocoord,S-0001,2024-05-02T08:00:00+08:00,dingtalk,ok,,\n",
        encoding="utf-8",
    )
    assert main(["import", "checkins", str(rows)]) == 0
    with engine.connect() as connection:
        results = {
            key: value
            for key, value in connection.execute(select(LocationCheck.external_id, LocationCheck.result))
        }
        rolled = {
            row.county: (row.satisfied_slots, row.out_of_area_slots)
            for row in connection.execute(
                select(ComplianceDaily).where(ComplianceDaily.day == date(2024, 5, 1))
            )
        }
    assert results == {
        "a-in": "ok",
        "a-out": "out_of_area",
        "b-in": "ok",
        "b-out": "out_of_area",
        "c-none": "ok",
        "a-nocoord": "ok",
    }
    assert rolled["qinzhou"] == (1, 1) and rolled["qinan"] == (1, 1)
    # re-importing the same file changes nothing: the decided result is what is stored
    assert main(["import", "checkins", str(rows)]) == 0


def test_demo_checks_agree_with_their_subjects_areas(demo_url, engine_for):
    engine = engine_for(demo_url)
    with engine.connect() as connection:
        area_count = connection.execute(select(SubjectArea.kind)).all()
        kinds = {kind for (kind,) in area_count}
        subjects = connection.execute(select(Subject.id)).all()
        assert len(area_count) == len(subjects) and kinds == {"radius", "polygon"}
        areas = areas_for(connection, [sid for (sid,) in subjects])
        checks = connection.execute(
            select(
                LocationCheck.subject_id,
                LocationCheck.result,
                LocationCheck.latitude,
                LocationCheck.longitude,
            )
            .where(LocationCheck.latitude.is_not(None))
            .order_by(LocationCheck.id.desc())
            .limit(20000)
        ).all()
    outside = [c for c in checks if c.result == "out_of_area"]
    assert len(outside) >= 20
    wrong = [c for c in checks if judge("ok", c.latitude, c.longitude, areas[c.subject_id]) != c.result]
    assert wrong == []
    assert isinstance(next(iter(areas.values())), Area)


def test_migration_0009_matches_the_models(empty_url, engine_for):
    """subject_areas and users.language as the models describe them (PostgreSQL and SQLite)."""

    def ours(obj, name, type_, reflected, compare_to) -> bool:
        table = name if type_ == "table" else obj.table.name
        return table in ("subject_areas", "users")

    with engine_for(empty_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": ours})
        assert compare_metadata(context, import_all_models()) == []
