"""``watchwall import checkins`` of rows naming a camera: checked like the REST intake's, queued for
the face check; an unknown camera or one of another county refuses the whole file."""

from __future__ import annotations

from sqlalchemy import func, select

from watchwall.dashboard.checkin_video_models import PENDING, CheckinVideo
from watchwall.metrics.models import LocationCheck
from watchwall.roles.cli import main

QINZHOU_CAMERA = "qinzhou-announcement-1"  # a camera of the Qinzhou centre in the shipped site
HEADER = "external_id,subject,checked_at,method,result,camera_id\n"


def _count(engine, model) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_file_of_video_checks_links_each_to_its_camera(
    subjects_url, watchwall_env, engine_for, tmp_path, capsys
):
    watchwall_env(subjects_url)
    engine = engine_for(subjects_url)
    path = tmp_path / "video.csv"
    path.write_text(
        HEADER
        + f"vid-1,S-0001,2024-05-04T08:00:00+08:00,video,ok,{QINZHOU_CAMERA}\n"
        + "vid-2,S-0001,2024-05-04T09:00:00+08:00,dingtalk,ok,\n",
        encoding="utf-8",
    )
    assert main(["import", "checkins", str(path)]) == 0, capsys.readouterr().err
    assert "2 rows: 2 new" in capsys.readouterr().out
    with engine.connect() as connection:
        linked = connection.execute(select(CheckinVideo)).all()
    assert [(row.check_external_id, row.camera_id, row.state) for row in linked] == [
        ("vid-1", QINZHOU_CAMERA, PENDING)
    ]
    checked_at = 1714780800.0  # 2024-05-04T08:00:00+08:00
    assert (linked[0].span_start_utc, linked[0].span_end_utc) == (checked_at - 10, checked_at + 20)
    # imported again unchanged: the same single link, its state kept
    assert main(["import", "checkins", str(path)]) == 0
    assert "2 unchanged" in capsys.readouterr().out
    assert _count(engine, CheckinVideo) == 1


def test_an_unknown_camera_or_one_of_another_county_refuses_the_whole_file(
    subjects_url, watchwall_env, engine_for, tmp_path, capsys
):
    watchwall_env(subjects_url)
    engine = engine_for(subjects_url)
    path = tmp_path / "bad-cameras.csv"
    path.write_text(
        HEADER
        + f"vid-1,S-0001,2024-05-04T08:00:00+08:00,video,ok,{QINZHOU_CAMERA}\n"  # good
        + "vid-2,S-0001,2024-05-04T08:10:00+08:00,video,ok,no-such-camera\n"
        + f"vid-3,S-0002,2024-05-04T08:20:00+08:00,video,ok,{QINZHOU_CAMERA}\n",  # S-0002 is Qin'an's
        encoding="utf-8",
    )
    assert main(["import", "checkins", str(path)]) == 2
    err = capsys.readouterr().err
    assert "line 3: camera_id: 'no-such-camera' is not a camera of this site" in err
    assert f"line 4: camera_id: {QINZHOU_CAMERA!r} is in centre 'qinzhou', not in the county" in err
    assert "line 2:" not in err and "2 bad row(s)" in err and "nothing was written" in err
    assert _count(engine, LocationCheck) == 0 and _count(engine, CheckinVideo) == 0
