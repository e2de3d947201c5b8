"""Roll-calls in the database: who may start and answer, refusals that change nothing, expiry,
verdicts, and the scheduled plan that survives a restart."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from watchwall.audit.log import AuditEntry
from watchwall.config.rollcall_settings import RollcallSchedule, RollcallSettings
from watchwall.config.site import Site
from watchwall.dashboard.accounts import Principal
from watchwall.rollcall import scheduler, store
from watchwall.rollcall.face import FaceVerdict
from watchwall.rollcall.models import Rollcall, RollcallCall, RollcallPlan

ZONE = ZoneInfo("Asia/Shanghai")
COMMAND = Principal("command", "city_command")
SUP_QINZHOU = Principal("sup-qinzhou", "county_supervisor", ("qinzhou",))
SUP_MAIJI = Principal("sup-maiji", "county_supervisor", ("maiji",))
INSPECTOR = Principal("inspector", "inspector")
SETTINGS = RollcallSettings(countdown_s=30)


def camera(camera_id: str, **extra) -> dict:
    return {"id": camera_id, "name": camera_id, "rtsp": f"rtsp://127.0.0.1:1/{camera_id}", **extra}


@pytest.fixture
def site() -> Site:
    return Site.model_validate(
        {
            "centres": [
                {"code": "tianshui", "name": "天水", "level": "city",
                 "rooms": [{"code": "command", "kind": "monitoring", "name": "指挥", "cameras": [camera("ts-1")]}]},
                {"code": "qinzhou", "name": "秦州区", "level": "county",
                 "rooms": [{"code": "checkin", "name": "登记", "cameras": [camera("qz-1"), camera("qz-duty", rollcall=True)]}]},
                {"code": "maiji", "name": "麦积区", "level": "county",
                 "rooms": [{"code": "duty", "kind": "monitoring", "name": "值班", "cameras": [camera("mj-1")]}]},
                {"code": "qingshui", "name": "清水县", "level": "county",
                 "rooms": [{"code": "checkin", "name": "登记", "cameras": [camera("qs-1")]}]},
            ]
        }
    )  # fmt: skip


def counts(engine) -> tuple[int, int]:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Rollcall)), session.scalar(
            select(func.count()).select_from(RollcallCall)
        )


def audit_actions(engine) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_roll_call_camera_comes_from_the_site_file(rollcall_engine, site):
    calls = store.start_rollcall(rollcall_engine, site, SETTINGS, COMMAND, ["qinzhou", "maiji"])
    assert {(c["county"], c["camera_id"], c["state"]) for c in calls} == {
        ("qinzhou", "qz-duty", "called"),  # marked rollcall: true
        ("maiji", "mj-1", "called"),  # the monitoring room's camera
    }
    assert calls[0]["remaining_s"] == pytest.approx(30, abs=1)
    assert audit_actions(rollcall_engine) == ["rollcall.start"]


def test_a_centre_without_a_roll_call_camera_is_refused_by_name_and_nothing_is_called(rollcall_engine, site):
    with pytest.raises(store.RollcallRefused, match=r"清水县 \(qingshui\)") as refused:
        store.start_rollcall(rollcall_engine, site, SETTINGS, COMMAND, ["qinzhou", "qingshui"])
    assert "no roll-call camera" in str(refused.value)
    assert counts(rollcall_engine) == (0, 0)
    assert audit_actions(rollcall_engine) == []


def test_who_may_start(rollcall_engine, site):
    with pytest.raises(store.RollcallRefused, match="centre maiji is not one you may see or roll-call"):
        store.start_rollcall(rollcall_engine, site, SETTINGS, SUP_QINZHOU, ["maiji"])
    with pytest.raises(store.RollcallRefused, match="not one you may see or roll-call"):
        store.start_rollcall(rollcall_engine, site, SETTINGS, INSPECTOR, ["qinzhou"])
    with pytest.raises(store.RollcallRefused, match="city centre"):
        store.start_rollcall(rollcall_engine, site, SETTINGS, COMMAND, ["tianshui"])
    with pytest.raises(store.RollcallRefused, match="no centre nowhere"):
        store.start_rollcall(rollcall_engine, site, SETTINGS, COMMAND, ["nowhere"])
    assert counts(rollcall_engine) == (0, 0)
    # a county supervisor calls their own centre, on a camera of its rooms they choose
    calls = store.start_rollcall(rollcall_engine, site, SETTINGS, SUP_QINZHOU, ["qinzhou"], camera_id="qz-1")
    assert calls[0]["camera_id"] == "qz-1"
    with pytest.raises(store.RollcallRefused, match="being roll-called already"):
        store.start_rollcall(rollcall_engine, site, SETTINGS, COMMAND, ["qinzhou"])


def test_answers_another_countys_or_late_change_nothing(rollcall_engine, site):
    start = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
    calls = store.start_rollcall(rollcall_engine, site, SETTINGS, COMMAND, ["qinzhou", "maiji"], now=start)
    qinzhou = next(c for c in calls if c["county"] == "qinzhou")
    maiji = next(c for c in calls if c["county"] == "maiji")
    before = store.get_call(rollcall_engine, qinzhou["id"])
    later = start + timedelta(seconds=3)
    # another county's supervisor: refused without learning of the call
    with pytest.raises(
        store.CallNotFound, match="no roll-call .* of your centre: your answer was not recorded"
    ):
        store.answer(rollcall_engine, site, SETTINGS, SUP_MAIJI, qinzhou["id"], now=later)
    # city command sees the call but is not at the centre to answer it
    with pytest.raises(store.RollcallRefused, match="calls 秦州区 .*not your centre"):
        store.answer(rollcall_engine, site, SETTINGS, COMMAND, qinzhou["id"], now=later)
    with pytest.raises(store.CallNotFound):
        store.answer(rollcall_engine, site, SETTINGS, SUP_MAIJI, 9999)
    after = store.get_call(rollcall_engine, qinzhou["id"])
    assert {k: v for k, v in after.items() if k != "remaining_s"} == {
        k: v for k, v in before.items() if k != "remaining_s"
    }
    with pytest.raises(store.RollcallRefused, match="countdown ended"):
        store.answer(
            rollcall_engine, site, SETTINGS, SUP_MAIJI, maiji["id"], now=start + timedelta(seconds=31)
        )
    assert store.get_call(rollcall_engine, maiji["id"])["state"] == "called"
    answered = store.answer(
        rollcall_engine, site, SETTINGS, SUP_QINZHOU, qinzhou["id"], now=start + timedelta(seconds=4)
    )
    assert answered["state"] == "answered" and answered["time_to_answer_s"] == 4.0
    assert answered["clip_end_at"] == store.iso(start + timedelta(seconds=14))
    with pytest.raises(store.RollcallRefused, match="answered already"):
        store.answer(
            rollcall_engine, site, SETTINGS, SUP_QINZHOU, qinzhou["id"], now=start + timedelta(seconds=5)
        )
    expired = store.expire_due(rollcall_engine, start + timedelta(seconds=30))
    assert [(c["county"], c["state"], c["reason"]) for c in expired] == [("maiji", "failed", "no_answer")]
    assert store.expire_due(rollcall_engine, start + timedelta(seconds=31)) == []  # once
    assert audit_actions(rollcall_engine).count("rollcall.answer_refused") == 5
    assert audit_actions(rollcall_engine).count("rollcall.answer") == 1


def test_verdicts_are_recorded_once(rollcall_engine, site):
    start = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
    (call,) = store.start_rollcall(rollcall_engine, site, SETTINGS, COMMAND, ["qinzhou"], now=start)
    store.answer(rollcall_engine, site, SETTINGS, SUP_QINZHOU, call["id"], now=start + timedelta(seconds=2))
    assert store.answered_due(rollcall_engine, start + timedelta(seconds=11)) == []
    assert [c["id"] for c in store.answered_due(rollcall_engine, start + timedelta(seconds=12))] == [
        call["id"]
    ]
    decided = store.record_verdict(rollcall_engine, call["id"], FaceVerdict(False, 24, 0))
    assert (decided["state"], decided["reason"], decided["face_present"]) == ("failed", "no_face", False)
    assert store.record_verdict(rollcall_engine, call["id"], FaceVerdict(True, 24, 20)) is None
    assert store.failed_count(rollcall_engine, start) == 1
    assert store.list_calls(rollcall_engine, counties=["maiji"]) == []
    assert [c["id"] for c in store.list_calls(rollcall_engine, result="no_face")] == [call["id"]]


def test_the_days_plan_is_drawn_once_within_the_window_and_fired_once(rollcall_engine):
    settings = RollcallSettings(
        schedule={"qinzhou": RollcallSchedule(per_day=3, start=time(9, 0), end=time(17, 0))}, late_limit_s=60
    )
    now = datetime(2026, 12, 4, 12, 0, tzinfo=ZONE).astimezone(UTC)  # local noon: half the window left
    assert scheduler.ensure_plans(rollcall_engine, settings, {"qinzhou"}, ZONE, now, random.Random(1)) == 3
    assert scheduler.ensure_plans(rollcall_engine, settings, {"qinzhou"}, ZONE, now, random.Random(2)) == 0
    plans = scheduler.plans_of(rollcall_engine, "2026-12-04")
    window_end = datetime(2026, 12, 4, 17, 0, tzinfo=ZONE)
    assert len(plans) == 3 and all(now <= p["due_at"] <= window_end for p in plans)
    first = plans[0]["due_at"]
    assert scheduler.claim_due(rollcall_engine, settings, first - timedelta(seconds=1)) == []
    claimed = scheduler.claim_due(rollcall_engine, settings, first + timedelta(seconds=1))
    assert len(claimed) == 1
    assert scheduler.claim_due(rollcall_engine, settings, first + timedelta(seconds=1)) == []
    # the rest missed by more than the late limit (the server was down): skipped, not fired late
    assert (
        scheduler.claim_due(rollcall_engine, settings, window_end.astimezone(UTC) + timedelta(hours=1)) == []
    )
    with Session(rollcall_engine) as session:
        assert session.scalar(select(func.count()).select_from(RollcallPlan).where(RollcallPlan.skipped)) == 2
