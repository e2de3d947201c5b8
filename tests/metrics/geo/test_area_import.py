"""``watchwall import areas FILE``: subjects' assigned areas from a file; the areas then decide the
result of imported checks; a file with any bad row is refused whole, naming every bad line."""

from __future__ import annotations

import json

from sqlalchemy import select

from watchwall.metrics.geo.models import SubjectArea
from watchwall.metrics.models import LocationCheck, Subject
from watchwall.roles.cli import main

SQUARE = [[[105.70, 34.57], [105.74, 34.57], [105.74, 34.60], [105.70, 34.60], [105.70, 34.57]]]
GOOD_CSV = (
    "subject,kind,home_latitude,home_longitude,radius_m,polygon\n"
    "S-0001,radius,34.58,105.72,1500,\n"
    f'S-0002,多边形,,,,"{json.dumps(SQUARE)}"\n'
)


def areas(engine) -> dict[str, tuple]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(Subject.external_id, SubjectArea.kind, SubjectArea.radius_m, SubjectArea.polygon).join(
                Subject, Subject.id == SubjectArea.subject_id
            )
        ).all()
    return {external_id: (kind, radius, polygon) for external_id, kind, radius, polygon in rows}


def test_areas_are_imported_replaced_and_then_judge_the_checks(
    subjects_url, watchwall_env, engine_for, tmp_path, capsys
):
    watchwall_env(subjects_url)
    engine = engine_for(subjects_url)
    first = tmp_path / "areas.csv"
    first.write_text(GOOD_CSV, encoding="utf-8")
    assert main(["import", "areas", str(first)]) == 0
    assert "2 areas: 2 new, 0 replaced, 0 unchanged" in capsys.readouterr().out
    stored = areas(engine)
    assert stored["S-0001"][:2] == ("radius", 1500.0)
    assert stored["S-0002"][0] == "polygon" and json.loads(stored["S-0002"][2]) == SQUARE
    assert main(["import", "areas", str(first)]) == 0  # the same file again changes nothing
    assert "2 areas: 0 new, 0 replaced, 2 unchanged" in capsys.readouterr().out
    second = tmp_path / "areas.jsonl"  # the rings as a JSON array in a .jsonl row; S-0001 gets a wider radius
    second.write_text(
        json.dumps({"subject": "S-0001", "kind": "radius", "home_latitude": 34.58, "home_longitude": 105.72,
                    "radius_m": 5000})
        + "\n"
        + json.dumps({"subject": "S-0003", "kind": "polygon", "polygon": SQUARE})
        + "\n",
        encoding="utf-8",
    )  # fmt: skip
    assert main(["import", "areas", str(second)]) == 0
    assert "2 areas: 1 new, 1 replaced, 0 unchanged" in capsys.readouterr().out
    assert areas(engine)["S-0001"][:2] == ("radius", 5000.0) and areas(engine)["S-0003"][0] == "polygon"

    checks = tmp_path / "checks.csv"
    checks.write_text(
        "external_id,subject,checked_at,method,result,latitude,longitude\n"
        "in-1,S-0001,2024-05-01T08:00:00+08:00,dingtalk,ok,34.60,105.72\n"  # 2.2 km: inside 5 km
        "out-1,S-0001,2024-05-01T15:00:00+08:00,dingtalk,ok,34.70,105.72\n"  # 13 km: outside
        "in-2,S-0003,2024-05-01T08:00:00+08:00,dingtalk,ok,34.58,105.72\n"  # in the square
        "out-2,S-0003,2024-05-01T15:00:00+08:00,dingtalk,ok,34.58,105.80\n",  # east of it
        encoding="utf-8",
    )
    assert main(["import", "checkins", str(checks)]) == 0
    with engine.connect() as connection:
        results = dict(connection.execute(select(LocationCheck.external_id, LocationCheck.result)).all())
    assert results == {"in-1": "ok", "out-1": "out_of_area", "in-2": "ok", "out-2": "out_of_area"}


BAD_CSV = (
    "subject,kind,home_latitude,home_longitude,radius_m,polygon\n"
    "S-0001,radius,34.58,105.72,0,\n"  # 2: radius 0
    "S-0002,radius,,,1500,\n"  # 3: no home
    "S-0003,circle,34.58,105.72,1500,\n"  # 4: unknown kind
    "S-0404,radius,34.58,105.72,1500,\n"  # 5: unknown subject
    'S-0001,polygon,,,,"[[[105.7, 34.5], [105.8, 34.5], [105.8, 34.6]]]"\n'  # 6: 3 points
    'S-0002,polygon,,,,"[[[105.7, 34.5], [105.8, 34.5], [105.8, 34.6], [105.7, 34.6]]]"\n'  # 7: not closed
    "S-0003,polygon,,,,not json\n"  # 8
    "S-0001,radius,95,105.72,1500,\n"  # 9: latitude out of range
    "S-0002,radius,34.58,,1500,\n"  # 10: latitude without longitude
    'S-0003,radius,34.58,105.72,1500,"[[[105.7, 34.5], [105.8, 34.5], [105.8, 34.6], [105.7, 34.5]]]"\n'  # 11
    "S-0002,radius,34.58,105.72,abc,\n"  # 12
    "S-0003,radius,34.58,105.72,1500,\n"  # 13: good
    "S-0003,radius,34.58,105.72,2000,\n"  # 14: the subject twice
)
EXPECTED = {
    2: "radius_m: 0 is not above 0",
    3: "a radius area needs the home coordinates",
    4: "kind: 'circle' is not one of radius, polygon",
    5: "subject: 'S-0404' is not in the database",
    6: "ring 1: needs at least 4",
    7: "not closed",
    8: "polygon is not JSON",
    9: "home_latitude: 95.0 is outside -90..90",
    10: "give both or neither",
    11: "polygon: given for a radius area",
    12: "radius_m: 'abc' is not a number",
    14: "already has an area on line 13",
}


def test_a_bad_areas_file_is_refused_whole_naming_every_bad_line(
    subjects_url, watchwall_env, engine_for, tmp_path, capsys
):
    watchwall_env(subjects_url)
    engine = engine_for(subjects_url)
    good = tmp_path / "good.csv"
    good.write_text(GOOD_CSV, encoding="utf-8")
    assert main(["import", "areas", str(good)]) == 0
    before = areas(engine)
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_CSV, encoding="utf-8")
    capsys.readouterr()
    assert main(["import", "areas", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "refused, nothing was written; 12 bad row(s)" in err
    for line, reason in EXPECTED.items():
        assert any(f"line {line}: " in row and reason in row for row in err.splitlines()), (line, err)
    assert "line 13:" not in err
    assert areas(engine) == before  # nothing written, nothing replaced

    header = tmp_path / "header.csv"
    header.write_text("subject,kind,colour\nS-0001,radius,red\n", encoding="utf-8")
    assert main(["import", "areas", str(header)]) == 2
    err = capsys.readouterr().err
    assert "unknown column(s) colour" in err and "missing" not in err  # every other column is optional
    assert main(["import", "areas", str(tmp_path / "areas.txt")]) == 2
    assert "use .csv, .jsonl or .ndjson" in capsys.readouterr().err
    assert areas(engine) == before
