"""Incidents in the database: reports from the sources open, count, reopen and recover them;
people move them through their states. Every transition is audited (``watchwall.audit.log``).

Sources hand in :class:`Report` s (many at once: :func:`apply_reports` is one transaction);
people act through :func:`act`, which checks the rules, the state machine and the version
the form showed, and changes nothing when any of them refuses.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from watchwall.audit.log import AuditEntry, append
from watchwall.config.database import session_scope
from watchwall.config.incident_settings import IncidentSettings
from watchwall.incidents import rules, states
from watchwall.incidents.kinds import KINDS, SEVERITY
from watchwall.incidents.kinds import problem_key as key_of
from watchwall.incidents.models import Incident, IncidentEvidence, IncidentNote
from watchwall.incidents.states import CLOSED, OPEN, Facts, TransitionRefused

SYSTEM = "system:incidents"
SPAN_BEFORE_S = 30  # the recorded span linked to a camera incident: this long before its opening ...
SPAN_AFTER_S = 30  # ... to this long after
RACE_ATTEMPTS = 5  # a batch lost a race on this many problems at most before it gives up


@dataclass(frozen=True)
class Report:
    """A source says a problem is there (``active``) or gone."""

    kind: str
    county: str
    problem_key: str
    at: datetime
    active: bool = True
    centre: str | None = None
    room: str | None = None
    camera_id: str | None = None
    subject_ref: str | None = None
    detail: dict = field(default_factory=dict)


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def overdue_clause(now: datetime):
    return and_(
        Incident.state != CLOSED,
        or_(
            and_(Incident.state == OPEN, Incident.ack_deadline_at < now),
            Incident.close_deadline_at < now,
        ),
    )


def facts_of(incident: Incident) -> Facts:
    return Facts(
        state=incident.state,
        ack_deadline_at=incident.ack_deadline_at,
        close_deadline_at=incident.close_deadline_at,
        recovered_at=incident.recovered_at,
        closed_at=incident.closed_at,
    )


def summary(incident: Incident, now: datetime | None = None) -> dict:
    """What pages, pushes and the CLI show of an incident (subject names are already masked)."""
    now = now or utcnow()
    return {
        "id": incident.id,
        "kind": incident.kind,
        "severity": incident.severity,
        "state": incident.state,
        "county": incident.county,
        "centre": incident.centre,
        "room": incident.room,
        "camera_id": incident.camera_id,
        "subject": incident.subject_ref,
        "opened_at": iso(incident.opened_at),
        "last_seen_at": iso(incident.last_seen_at),
        "acknowledged_at": iso(incident.acknowledged_at),
        "closed_at": iso(incident.closed_at),
        "close_reason": incident.close_reason,
        "ack_deadline_at": iso(incident.ack_deadline_at),
        "close_deadline_at": iso(incident.close_deadline_at),
        "recovered": incident.recovered_at is not None,
        "recovered_at": iso(incident.recovered_at),
        "count": incident.count,
        "overdue": states.is_overdue(facts_of(incident), now),
        "escalated": incident.escalated_at is not None,
        "version": incident.version,
    }


# --- sources ------------------------------------------------------------------------------------


def _latest_of(session: Session, problem_keys: set[str]) -> dict[str, Incident]:
    """The latest incident of each problem, in one query for a whole batch (not one per report)."""
    if not problem_keys:
        return {}
    newest = (
        select(func.max(Incident.id))
        .where(Incident.problem_key.in_(sorted(problem_keys)))
        .group_by(Incident.problem_key)
    )
    return {
        incident.problem_key: incident
        for incident in session.scalars(select(Incident).where(Incident.id.in_(newest)))
    }


def _set_deadlines(incident: Incident, settings: IncidentSettings, start: datetime) -> None:
    deadline = settings.deadline(incident.kind)
    incident.ack_deadline_at, incident.close_deadline_at = states.deadlines(
        start, deadline.acknowledge_s, deadline.close_s
    )


class _LostRace(Exception):
    """Another transaction opened an incident for the same problem first (the partial unique index
    on ``problem_key`` of incidents not closed, migration 0016); this one was rolled back."""

    def __init__(self, problem_key: str) -> None:
        super().__init__(problem_key)
        self.problem_key = problem_key


def _flush_or_raced(session: Session, problem_key: str) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        if "problem_key" in str(exc.orig):
            raise _LostRace(problem_key) from exc
        raise


def _open(session: Session, report: Report, settings: IncidentSettings) -> Incident:
    incident = Incident(
        kind=report.kind,
        severity=SEVERITY.get(report.kind, "medium"),
        state=OPEN,
        county=report.county,
        centre=report.centre,
        room=report.room,
        camera_id=report.camera_id,
        subject_ref=report.subject_ref,
        problem_key=report.problem_key,
        opened_at=report.at,
        last_seen_at=report.at,
        count=1,
        reopened=0,
        version=1,
        detail=json.dumps(report.detail, ensure_ascii=False, default=str) if report.detail else None,
    )
    _set_deadlines(incident, settings, report.at)
    session.add(incident)
    _flush_or_raced(session, report.problem_key)
    if report.camera_id is not None:
        session.add(
            IncidentEvidence(
                incident_id=incident.id,
                kind="span",
                camera_id=report.camera_id,
                start_at=report.at - timedelta(seconds=SPAN_BEFORE_S),
                end_at=report.at + timedelta(seconds=SPAN_AFTER_S),
                added_at=report.at,
            )
        )
    return incident


def apply_reports(
    engine: Engine, reports: Iterable[Report], settings: IncidentSettings
) -> tuple[list[dict], list[dict]]:
    """Apply the reports in order, in one transaction. Returns (changed incidents' summaries, audit
    entries to write); the caller writes the audit entries with :func:`write_audit`.

    When another transaction opened (or reopened) an incident for one of the problems first, the
    whole batch is rolled back and applied again; the report that lost then gives the incident the
    winner opened, unchanged (one problem reported by two openers at once is one report)."""
    reports = list(reports)
    lost: set[str] = set()
    for _attempt in range(RACE_ATTEMPTS):
        try:
            return _apply(engine, reports, settings, lost)
        except _LostRace as race:
            lost.add(race.problem_key)
    return _apply(engine, reports, settings, lost)


def _apply(
    engine: Engine, reports: list[Report], settings: IncidentSettings, lost: set[str]
) -> tuple[list[dict], list[dict]]:
    changed: dict[int, Incident] = {}
    audits: list[dict] = []
    lost = set(lost)
    with session_scope(engine) as session:
        latest_of = _latest_of(session, {report.problem_key for report in reports if report.kind in KINDS})
        for report in reports:
            if report.kind not in KINDS:
                continue
            latest = latest_of.get(report.problem_key)
            if report.active and report.problem_key in lost and latest is not None and latest.state != CLOSED:
                lost.discard(report.problem_key)  # the winner's incident stands for this report
                changed[latest.id] = latest
                continue
            if not report.active:
                if latest is not None and latest.state != CLOSED and latest.recovered_at is None:
                    latest.recovered_at = report.at
                    latest.version += 1
                    changed[latest.id] = latest
                continue
            decision = (
                "new"
                if latest is None
                else states.on_recurrence(facts_of(latest), report.at, settings.quiet_period_s)
            )
            if decision == "count" and latest.recovered_at is None and latest.last_seen_at == report.at:
                changed[latest.id] = latest  # the same report again (two openers of one moment): no change
                continue
            if decision == "count":
                latest.count += 1
                latest.last_seen_at = report.at
                latest.recovered_at = None
                latest.version += 1
                incident = latest
            elif decision == "reopen":
                latest.state, latest.count, latest.reopened = OPEN, latest.count + 1, latest.reopened + 1
                latest.last_seen_at, latest.recovered_at, latest.escalated_at = report.at, None, None
                latest.closed_at = latest.closed_by = latest.close_reason = latest.close_note = None
                latest.acknowledged_at = latest.acknowledged_by = latest.handling_at = None
                _set_deadlines(latest, settings, report.at)
                latest.version += 1
                session.add(IncidentNote(incident_id=latest.id, at=report.at, author=SYSTEM, action="reopen"))
                _flush_or_raced(session, report.problem_key)
                incident = latest
                audits.append(_audit_entry("incident.reopen", latest, report.at, {"count": latest.count}))
            else:
                incident = _open(session, report, settings)
                latest_of[report.problem_key] = incident
                audits.append(_audit_entry("incident.open", incident, report.at, {"kind": report.kind}))
            changed[incident.id] = incident
        session.flush()
        now = utcnow()
        summaries = [summary(incident, now) for incident in changed.values()]
    return summaries, audits


def _audit_entry(action: str, incident: Incident, at: datetime, detail: dict, actor: str = SYSTEM) -> dict:
    return {
        "actor": actor,
        "action": action,
        "target": f"incident:{incident.id}",
        "detail": {**detail, "county": incident.county, "state": incident.state},
        "at": at,
    }


def write_audit(engine: Engine, entries: Iterable[dict], address: str | None = None) -> None:
    for entry in entries:
        append(engine, address=address, **entry)


def open_incident(
    engine: Engine,
    settings: IncidentSettings,
    *,
    kind: str,
    county: str,
    problem_key: str | None = None,
    centre: str | None = None,
    room: str | None = None,
    camera_id: str | None = None,
    subject_ref: str | None = None,
    detail: dict | None = None,
    at: datetime | None = None,
) -> dict:
    """Open (or count, or reopen) an incident for one problem: the API other features call
    (the roll-call feature with kind ``rollcall_failed``). Returns its summary."""
    if kind not in KINDS:
        raise TransitionRefused(f"unknown incident kind {kind!r}")
    report = Report(
        kind=kind,
        county=county,
        problem_key=problem_key or key_of(kind, camera_id=camera_id, subject=subject_ref),
        at=at or utcnow(),
        centre=centre or county,
        room=room,
        camera_id=camera_id,
        subject_ref=subject_ref,
        detail=detail or {},
    )
    summaries, audits = apply_reports(engine, [report], settings)
    write_audit(engine, audits)
    return summaries[0]


def escalate_overdue(engine: Engine, now: datetime | None = None) -> list[dict]:
    """Mark every newly overdue incident escalated to city command; returns their summaries."""
    now = now or utcnow()
    with session_scope(engine) as session:
        due = list(
            session.scalars(select(Incident).where(overdue_clause(now), Incident.escalated_at.is_(None)))
        )
        escalated = []
        for incident in due:
            # the guard keeps two web nodes from escalating the same incident twice
            done = session.execute(
                update(Incident)
                .where(Incident.id == incident.id, Incident.escalated_at.is_(None))
                .values(escalated_at=now, version=Incident.version + 1)
            ).rowcount
            if done:
                session.refresh(incident)
                escalated.append(incident)
        summaries = [summary(incident, now) for incident in escalated]
        audits = [
            _audit_entry("incident.escalate", incident, now, {"to": "city_command"}) for incident in escalated
        ]
    write_audit(engine, audits)
    return summaries


# --- people -------------------------------------------------------------------------------------


class IncidentNotFound(TransitionRefused):
    pass


def act(
    engine: Engine,
    actor: rules.Actor,
    incident_id: int,
    action: str,
    *,
    version: int | None = None,
    reason: str | None = None,
    note: str | None = None,
    county: str | None = None,
    known_counties: Iterable[str] = (),
    address: str | None = None,
    settings: IncidentSettings | None = None,
    now: datetime | None = None,
    on_change: Callable[[dict], None] | None = None,
) -> dict:
    """One person's action on one incident. Refused (nothing changed) when the actor may not,
    the state does not allow it, or ``version`` is not the incident's current version (a stale form).

    ``on_change`` (the push to the pages) is given the new summary as soon as the change is
    committed, before its audit row is written: the pages need not wait for the audit chain."""
    now = now or utcnow()
    note = (note or "").strip() or None
    with session_scope(engine) as session:
        incident = session.get(Incident, incident_id, with_for_update=True)
        if incident is None or not rules.can_read(actor, incident.county):
            raise IncidentNotFound(f"no incident {incident_id}")
        if not rules.can_act(actor, incident.county, action):
            raise TransitionRefused(f"you may not {action} incidents of {incident.county}")
        if version is not None and version != incident.version:
            raise TransitionRefused(
                "the incident changed since this page showed it; look at it again before acting"
            )
        new_state = states.next_state(incident.state, action, reason, note)
        detail: dict = {"from": incident.state, "to": new_state}
        if action == "acknowledge":
            incident.acknowledged_at, incident.acknowledged_by = now, actor.username
        elif action == "handle":
            incident.handling_at = now
            if incident.acknowledged_at is None:
                incident.acknowledged_at, incident.acknowledged_by = now, actor.username
        elif action == "close":
            incident.closed_at, incident.closed_by = now, actor.username
            incident.close_reason, incident.close_note = reason, note
            detail["reason"] = reason
        elif action == "assign":
            if county not in set(known_counties):
                raise TransitionRefused(f"unknown county {county!r}")
            detail["county"] = county
            incident.county, incident.escalated_at = county, None
            _set_deadlines(incident, settings or IncidentSettings(), now)
        if note:
            detail["note"] = note
        incident.state = new_state
        incident.version += 1
        session.add(
            IncidentNote(incident_id=incident.id, at=now, author=actor.username, action=action, text=note)
        )
        session.flush()
        result = summary(incident, now)
        entry = _audit_entry(f"incident.{action}", incident, now, detail, actor=actor.username)
    if on_change is not None:
        on_change(result)
    write_audit(engine, [entry], address=address)
    return result


# --- reading ------------------------------------------------------------------------------------


def list_incidents(
    engine: Engine,
    *,
    counties: Iterable[str] | None = None,
    county: str | None = None,
    state: str | None = None,
    open_only: bool = False,
    kind: str | None = None,
    overdue: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 500,
    now: datetime | None = None,
) -> list[dict]:
    """Newest first. ``counties``: only these (the reader's); ``open_only``: not closed."""
    now = now or utcnow()
    query = select(Incident).order_by(Incident.id.desc()).limit(limit)
    if counties is not None:
        query = query.where(Incident.county.in_(list(counties)))
    if county:
        query = query.where(Incident.county == county)
    if state:
        query = query.where(Incident.state == state)
    if open_only:
        query = query.where(Incident.state != CLOSED)
    if kind:
        query = query.where(Incident.kind == kind)
    if overdue is True:
        query = query.where(overdue_clause(now))
    if since is not None:
        query = query.where(Incident.opened_at >= since)
    if until is not None:
        query = query.where(Incident.opened_at < until)
    with Session(engine) as session:
        return [summary(incident, now) for incident in session.scalars(query)]


def get_incident(engine: Engine, incident_id: int) -> tuple[dict, list[dict], list[dict]] | None:
    """An incident's summary, its notes and its evidence."""
    with Session(engine) as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            return None
        notes = [
            {"at": iso(n.at), "author": n.author, "action": n.action, "text": n.text}
            for n in session.scalars(
                select(IncidentNote).where(IncidentNote.incident_id == incident_id).order_by(IncidentNote.id)
            )
        ]
        evidence = [
            {
                "kind": e.kind,
                "camera_id": e.camera_id,
                "start_at": iso(e.start_at),
                "end_at": iso(e.end_at),
                "ref": e.ref,
            }
            for e in session.scalars(
                select(IncidentEvidence).where(IncidentEvidence.incident_id == incident_id)
            )
        ]
        return summary(incident), notes, evidence


def counts_by_centre(engine: Engine, now: datetime | None = None) -> dict[str, dict[str, int]]:
    """Not-closed and overdue incidents per centre: the wall's centre board."""
    now = now or utcnow()
    overdue = func.sum(case((overdue_clause(now), 1), else_=0))
    with engine.connect() as connection:
        rows = connection.execute(
            select(Incident.centre, func.count(), overdue)
            .where(Incident.state != CLOSED)
            .group_by(Incident.centre)
        ).all()
    return {centre: {"open": int(total), "overdue": int(late or 0)} for centre, total, late in rows}


def open_count(engine: Engine, camera_id: str) -> int:
    """Incidents of one camera not yet closed: the /admin camera table's column."""
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).where(Incident.camera_id == camera_id, Incident.state != CLOSED)
            ).scalar()
            or 0
        )


def audit_count(engine: Engine, incident_id: int) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.target == f"incident:{incident_id}")
        ).scalar_one()


def report_callback(engine: Engine, settings: IncidentSettings) -> Callable[[list[Report]], list[dict]]:
    def apply(reports: list[Report]) -> list[dict]:
        summaries, audits = apply_reports(engine, reports, settings)
        write_audit(engine, audits)
        return summaries

    return apply
