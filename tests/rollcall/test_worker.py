"""The roll-call worker on a real database with the real face check: an answered call whose camera
recorded nothing fails with ``no_recording`` once the grace has passed (not an error), an
unanswered one fails at its countdown; each opens one incident and is published once; the clip's
bookmark is tried a bounded number of times."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.rollcall.test_store import COMMAND, SUP_QINZHOU, site  # noqa: F401  (the site fixture)
from watchwall.config.rollcall_settings import RollcallSchedule, RollcallSettings
from watchwall.config.settings import Settings
from watchwall.incidents.models import Incident
from watchwall.rollcall import scheduler, store
from watchwall.rollcall.face_adapter import face_check_with
from watchwall.rollcall.worker import BOOKMARK_TRIES, RollcallWorker


def worker_on(
    engine, settings: Settings, the_site, clock: dict, published: list, failed: list
) -> RollcallWorker:
    """A worker on ``clock["now"]`` with the real face check; what it publishes and fails is kept."""
    return RollcallWorker(
        engine,
        settings,
        lambda: the_site,
        face_check_with(settings.face_check),
        recordings_dir=settings.data_dir / "recordings",
        publish=published.append,
        on_failed=failed.append,
        now=lambda: clock["now"],
    )


def test_verdicts_without_a_recording_and_without_an_answer(rollcall_engine, site, tmp_path):  # noqa: F811
    rollcall = RollcallSettings(countdown_s=20, after_answer_s=2, recording_grace_s=3)
    settings = Settings(data_dir=tmp_path, rollcall=rollcall)
    clock = {"now": datetime(2026, 12, 4, 2, 0, tzinfo=UTC)}
    published, failed = [], []
    worker = worker_on(rollcall_engine, settings, site, clock, published, failed)
    start = clock["now"]
    calls = store.start_rollcall(rollcall_engine, site, rollcall, COMMAND, ["qinzhou", "maiji"], now=start)
    qinzhou = next(c for c in calls if c["county"] == "qinzhou")
    store.answer(
        rollcall_engine, site, rollcall, SUP_QINZHOU, qinzhou["id"], now=start + timedelta(seconds=1)
    )
    try:
        clock["now"] = start + timedelta(seconds=4)  # the clip ended at 3 s; its recording may still come
        worker.tick()
        time.sleep(0.5)
        assert store.get_call(rollcall_engine, qinzhou["id"])["state"] == "answered"
        clock["now"] = start + timedelta(seconds=7)  # past the grace: checked with what there is (nothing)
        worker.tick()
        # the pool thread stores the verdict, opens the incident, links it, then tells on_failed
        deadline = time.monotonic() + 20
        while not any(c["county"] == "qinzhou" for c in failed) and time.monotonic() < deadline:
            time.sleep(0.1)
        decided = store.get_call(rollcall_engine, qinzhou["id"])
        assert (decided["state"], decided["reason"], decided["face_present"]) == (
            "failed",
            "no_recording",
            False,
        )
        clock["now"] = start + timedelta(seconds=21)
        worker.tick()
        by_county = {c["county"]: c for c in store.list_calls(rollcall_engine)}
        assert (by_county["maiji"]["state"], by_county["maiji"]["reason"]) == ("failed", "no_answer")
        with Session(rollcall_engine) as session:
            incidents = session.scalars(select(Incident).order_by(Incident.county)).all()
            assert [(i.kind, i.county, i.camera_id) for i in incidents] == [
                ("rollcall_failed", "maiji", "mj-1"),
                ("rollcall_failed", "qinzhou", "qz-duty"),
            ]
        assert by_county["maiji"]["incident_id"] and by_county["qinzhou"]["incident_id"]
        assert sorted(c["county"] for c in failed) == ["maiji", "qinzhou"]
        assert {c["county"] for c in published if c["state"] == "failed"} == {"maiji", "qinzhou"}
        # nothing was recorded: the bookmark is tried BOOKMARK_TRIES times (one a grace), then left
        for step in range(1, 12):
            clock["now"] = start + timedelta(seconds=21 + step * rollcall.recording_grace_s)
            worker.tick()
        for call in store.list_calls(rollcall_engine):
            assert call["bookmark_id"] is None and call["bookmark_tries"] == BOOKMARK_TRIES
    finally:
        worker.stop()


def test_a_scheduled_time_during_a_running_roll_call_waits_for_its_countdown(rollcall_engine, site, tmp_path):  # noqa: F811
    zone = ZoneInfo("Asia/Shanghai")
    rollcall = RollcallSettings(
        countdown_s=20,
        tick_s=0.1,
        late_limit_s=120,
        schedule={"qinzhou": RollcallSchedule(per_day=1, start=dt_time(10, 0), end=dt_time(10, 1))},
    )
    settings = Settings(data_dir=tmp_path, rollcall=rollcall, timezone="Asia/Shanghai")
    opening = datetime(2026, 12, 4, 10, 0, tzinfo=zone).astimezone(UTC)
    clock = {"now": opening}
    worker = worker_on(rollcall_engine, settings, site, clock, [], [])
    try:
        worker.tick()  # draws the day's one time within 10:00-10:01
        (plan,) = scheduler.plans_of(rollcall_engine, "2026-12-04")
        due = plan["due_at"] if plan["due_at"].tzinfo else plan["due_at"].replace(tzinfo=UTC)
        manual = store.start_rollcall(
            rollcall_engine, site, rollcall, COMMAND, ["qinzhou"], now=due - timedelta(seconds=1)
        )
        clock["now"] = due + timedelta(seconds=1)  # due, but qinzhou's manual countdown runs until +19 s
        worker.tick()
        worker.tick()
        assert [c["rollcall_id"] for c in store.list_calls(rollcall_engine)] == [manual[0]["rollcall_id"]]
        (waiting,) = scheduler.plans_of(rollcall_engine, "2026-12-04")
        assert (waiting["fired_at"], waiting["rollcall_id"], waiting["skipped"]) == (None, None, False)
        clock["now"] = due + timedelta(seconds=20)  # the manual call has expired: the scheduled one fires
        worker.tick()
        (fired,) = scheduler.plans_of(rollcall_engine, "2026-12-04")
        assert fired["outcome"] == "started" and fired["rollcall_id"] != manual[0]["rollcall_id"]
        assert sorted(c["rollcall_id"] for c in store.list_calls(rollcall_engine)) == sorted(
            [manual[0]["rollcall_id"], fired["rollcall_id"]]
        )
    finally:
        worker.stop()
