"""Check-ins as incident sources: a missed slot opens an incident only once its window closed,
an out-of-area check opens one; each once, however often the watch looks; names masked."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from watchwall.config.settings import Settings
from watchwall.incidents.store import list_incidents
from watchwall.incidents.watch import IncidentWatch
from watchwall.metrics.localtime import SHANGHAI
from watchwall.metrics.models import LocationCheck, Subject

DAY = date(2026, 12, 4)


def local(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 4, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def seed(engine) -> None:
    with Session(engine) as session, session.begin():
        for index, (name, county) in enumerate(
            (("张三明", "qinzhou"), ("李四", "qinzhou"), ("王五福", "maiji"))
        ):
            session.add(
                Subject(
                    id=index + 1,
                    external_id=f"S-{index + 1}",
                    name=name,
                    county=county,
                    category="probation",
                    start_date=DAY,  # under supervision from today: yesterday owed nothing
                    end_date=None,
                    supervision_level="ordinary",
                )
            )
        session.flush()
        for number, (subject, result, hour) in enumerate(((1, "ok", 8), (3, "out_of_area", 9)), start=1):
            session.add(
                LocationCheck(
                    external_id=f"chk-{number}",
                    subject_id=subject,
                    county="qinzhou" if subject == 1 else "maiji",
                    checked_at=local(hour),
                    local_day=DAY,
                    slot="morning",
                    method="dingtalk",
                    result=result,
                    latitude=34.58,
                    longitude=105.72,
                )
            )


def test_missed_slots_after_their_window_and_out_of_area_checks_each_open_one_incident(
    incident_engine, tmp_path
):
    seed(incident_engine)
    published = []
    watch = IncidentWatch(incident_engine, Settings(data_dir=tmp_path), published.append)
    # 10:00: the morning window is open, nothing is missed yet; the out-of-area check is an incident
    watch.run_once(local(10))
    rows = list_incidents(incident_engine, now=local(10))
    assert [(row["kind"], row["county"], row["subject"]) for row in rows] == [
        ("out_of_area", "maiji", "王*福")
    ]
    # 12:00: the window closed; 李四 missed it (张三明 checked in, 王五福 was out of area: not "missed")
    watch.run_once(local(12, 0))
    watch.run_once(local(12, 1))
    rows = list_incidents(incident_engine, kind="missed_checkin", now=local(12, 1))
    assert [(row["county"], row["subject"], row["opened_at"]) for row in rows] == [
        ("qinzhou", "李*", "2026-12-04T04:00:00Z")
    ]
    # a new watch (a restarted server) opens nothing twice
    IncidentWatch(incident_engine, Settings(data_dir=tmp_path), published.append).run_once(local(12, 2))
    assert len(list_incidents(incident_engine)) == 2
    assert {summary["kind"] for summary in published} == {"out_of_area", "missed_checkin"}
