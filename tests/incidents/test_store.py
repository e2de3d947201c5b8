"""Incidents in the database: one per continuing problem, recovery, reopening, people's actions,
refusals that change nothing, escalation, the audit rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from watchwall.audit.log import AuditEntry, verify_chain
from watchwall.config.incident_settings import Deadline, IncidentSettings
from watchwall.incidents.kinds import problem_key
from watchwall.incidents.states import TransitionRefused
from watchwall.incidents.store import (
    Report,
    act,
    apply_reports,
    counts_by_centre,
    escalate_overdue,
    get_incident,
    list_incidents,
    open_incident,
    write_audit,
)

T0 = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
SETTINGS = IncidentSettings(
    quiet_period_s=600, deadlines={"default": Deadline(acknowledge_s=300, close_s=3600)}
)


@dataclass(frozen=True)
class Who:
    username: str
    role: str
    counties: tuple[str, ...] = ()

    @property
    def all_counties(self) -> bool:
        return self.role in ("city_command", "admin") or (self.role == "inspector" and not self.counties)


SUPERVISOR = Who("sup-qinzhou", "county_supervisor", ("qinzhou",))
OTHER = Who("sup-maiji", "county_supervisor", ("maiji",))
COMMAND = Who("command", "city_command")
INSPECTOR = Who("inspector", "inspector")


def loss(at: datetime, active: bool = True, camera: str = "cam1", kind: str = "offline") -> Report:
    return Report(
        kind=kind,
        county="qinzhou",
        centre="qinzhou",
        room="checkin",
        camera_id=camera,
        problem_key=problem_key(kind, camera_id=camera),
        at=at,
        active=active,
    )


def apply(engine, *reports):
    summaries, audits = apply_reports(engine, list(reports), SETTINGS)
    write_audit(engine, audits)
    return summaries


def audit_actions(engine, incident_id: int) -> list[str]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                select(AuditEntry.action)
                .where(AuditEntry.target == f"incident:{incident_id}")
                .order_by(AuditEntry.id)
            ).scalars()
        )


def test_a_flapping_camera_is_one_incident_with_a_count_and_recovery_keeps_it_open(incident_engine):
    reports = []
    for flap in range(10):
        at = T0 + timedelta(seconds=30 * flap)
        # lost as "stalled" or "offline": the same lost video
        reports += [
            loss(at, kind="stalled" if flap % 2 else "offline"),
            loss(at + timedelta(seconds=10), False),
        ]
    apply(incident_engine, *reports)
    rows = list_incidents(incident_engine, now=T0 + timedelta(minutes=6))
    assert len(rows) == 1
    (row,) = rows
    assert (row["count"], row["state"], row["recovered"], row["kind"]) == (10, "open", True, "offline")
    assert row["camera_id"] == "cam1" and row["county"] == "qinzhou"
    assert row["overdue"]  # not acknowledged within 5 minutes
    assert audit_actions(incident_engine, row["id"]) == ["incident.open"]
    _, _, evidence = get_incident(incident_engine, row["id"])
    assert evidence[0]["kind"] == "span" and evidence[0]["camera_id"] == "cam1"


def test_a_problem_returning_within_the_quiet_period_reopens_else_a_new_incident(incident_engine):
    (first,) = apply(incident_engine, loss(T0))
    apply(incident_engine, loss(T0 + timedelta(seconds=20), False))
    act(
        incident_engine,
        SUPERVISOR,
        first["id"],
        "close",
        reason="device_repaired",
        note="重启",
        now=T0 + timedelta(minutes=1),
    )
    (again,) = apply(incident_engine, loss(T0 + timedelta(minutes=5)))
    assert again["id"] == first["id"] and again["state"] == "open" and again["count"] == 2
    act(
        incident_engine, SUPERVISOR, first["id"], "close", reason="false_alarm", now=T0 + timedelta(minutes=6)
    )
    (later,) = apply(incident_engine, loss(T0 + timedelta(minutes=30)))
    assert later["id"] != first["id"] and later["count"] == 1
    assert audit_actions(incident_engine, first["id"]) == [
        "incident.open",
        "incident.close",
        "incident.reopen",
        "incident.close",
    ]


def test_people_move_it_through_its_states_and_bad_actions_change_nothing(incident_engine):
    (incident,) = apply(incident_engine, loss(T0))
    iid = incident["id"]

    def refused(actor, action, message, **kwargs):
        before = get_incident(incident_engine, iid)
        with pytest.raises(TransitionRefused, match=message):
            act(incident_engine, actor, iid, action, **kwargs)
        assert get_incident(incident_engine, iid) == before

    refused(OTHER, "acknowledge", "no incident")  # another county's: not even shown
    refused(INSPECTOR, "acknowledge", "may not")
    refused(SUPERVISOR, "close", "needs a reason")
    refused(SUPERVISOR, "close", "unknown close reason", reason="bored")
    refused(SUPERVISOR, "acknowledge", "changed since", version=incident["version"] + 5)
    acknowledged = act(incident_engine, SUPERVISOR, iid, "acknowledge", version=incident["version"])
    assert acknowledged["state"] == "acknowledged" and acknowledged["acknowledged_at"]
    refused(SUPERVISOR, "acknowledge", "already been acknowledged")
    refused(SUPERVISOR, "handle", "changed since", version=incident["version"])  # the stale form
    handling = act(incident_engine, SUPERVISOR, iid, "handle", note="已派人检查")
    assert handling["state"] == "handling"
    refused(COMMAND, "handle", "may not")
    act(incident_engine, COMMAND, iid, "comment", note="请尽快")
    refused(SUPERVISOR, "assign", "may not", county="maiji", known_counties=("qinzhou", "maiji"))
    closed = act(incident_engine, SUPERVISOR, iid, "close", reason="phone_verified", note="已电话核实")
    assert closed["state"] == "closed" and closed["close_reason"] == "phone_verified" and closed["closed_at"]
    refused(SUPERVISOR, "close", "already closed", reason="false_alarm")
    assert audit_actions(incident_engine, iid) == [
        "incident.open",
        "incident.acknowledge",
        "incident.handle",
        "incident.comment",
        "incident.close",
    ]
    with incident_engine.connect() as connection:
        actors = (
            connection.execute(select(AuditEntry.actor).where(AuditEntry.action == "incident.close"))
            .scalars()
            .all()
        )
    assert actors == ["sup-qinzhou"]
    assert verify_chain(incident_engine) == []
    _, notes, _ = get_incident(incident_engine, iid)
    assert [n["action"] for n in notes] == ["acknowledge", "handle", "comment", "close"]


def test_overdue_incidents_are_escalated_once_and_city_command_assigns_back(incident_engine):
    (incident,) = apply(incident_engine, loss(T0))
    assert escalate_overdue(incident_engine, T0 + timedelta(minutes=1)) == []
    (escalated,) = escalate_overdue(incident_engine, T0 + timedelta(minutes=6))
    assert escalated["escalated"] and escalated["overdue"]
    assert escalate_overdue(incident_engine, T0 + timedelta(minutes=7)) == []
    assert counts_by_centre(incident_engine, T0 + timedelta(minutes=7)) == {
        "qinzhou": {"open": 1, "overdue": 1}
    }
    back = act(
        incident_engine,
        COMMAND,
        incident["id"],
        "assign",
        county="qinzhou",
        known_counties=("qinzhou", "maiji"),
        settings=SETTINGS,
        now=T0 + timedelta(minutes=8),
    )
    assert not back["escalated"] and back["ack_deadline_at"] == "2026-12-04T02:13:00Z"
    assert audit_actions(incident_engine, incident["id"]) == [
        "incident.open",
        "incident.escalate",
        "incident.assign",
    ]


def test_open_incident_is_the_api_for_other_features(incident_engine):
    row = open_incident(incident_engine, SETTINGS, kind="rollcall_failed", county="maiji", subject_ref="张*")
    assert (row["kind"], row["county"], row["subject"], row["state"]) == (
        "rollcall_failed",
        "maiji",
        "张*",
        "open",
    )
    with pytest.raises(TransitionRefused, match="unknown incident kind"):
        open_incident(incident_engine, SETTINGS, kind="bored", county="maiji")


def test_the_push_goes_out_once_the_change_is_committed_before_its_audit_row(incident_engine):
    (incident,) = apply(incident_engine, loss(T0))
    seen: dict = {}

    def pushed(summary: dict) -> None:  # what a page asking the database at that moment would see
        seen["summary"] = summary
        seen["stored"] = get_incident(incident_engine, incident["id"])[0]["state"]
        seen["audited"] = audit_actions(incident_engine, incident["id"])

    done = act(incident_engine, SUPERVISOR, incident["id"], "acknowledge", on_change=pushed)
    assert seen["summary"] == done and seen["stored"] == "acknowledged"
    assert seen["audited"] == ["incident.open"]
    assert audit_actions(incident_engine, incident["id"]) == ["incident.open", "incident.acknowledge"]
    with pytest.raises(TransitionRefused):  # a refusal pushes nothing
        act(incident_engine, SUPERVISOR, incident["id"], "acknowledge", on_change=pushed)
    assert seen["summary"] == done
