"""Roll-calls in the database: starting one, answering 到, expiring unanswered calls and recording
verdicts. Every change is one transaction that either happens whole or not at all; starting and
answering are audited (``watchwall.audit.log``), refusals too.

Refusals raise :class:`RollcallRefused` with a message a person can act on, and change nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from watchwall.audit.log import append
from watchwall.config.database import session_scope
from watchwall.config.errors import UserError
from watchwall.config.rollcall_settings import RollcallSettings
from watchwall.config.site import Site
from watchwall.rollcall import rules
from watchwall.rollcall.cameras import camera_in_centre, rollcall_camera
from watchwall.rollcall.face import FaceVerdict
from watchwall.rollcall.models import (
    ANSWERED,
    CALLED,
    FAILED,
    NO_ANSWER,
    NO_FACE,
    NO_RECORDING,
    PASSED,
    Rollcall,
    RollcallCall,
)

SYSTEM = "system:rollcall"
OPEN_STATES = (CALLED, ANSWERED)


class RollcallRefused(UserError):
    """A roll-call request refused; nothing was changed."""


class CallNotFound(RollcallRefused):
    pass


class CentreBusy(RollcallRefused):
    """A centre asked for is being roll-called already (its countdown is running)."""


@dataclass(frozen=True)
class SystemActor:
    """The scheduler starting a county's planned roll-call."""

    username: str = "system:rollcall-schedule"
    role: str = "city_command"
    counties: tuple[str, ...] = ()
    all_counties: bool = True


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def summary(call: RollcallCall, now: datetime | None = None) -> dict:
    """What pages, pushes and tests see of one call."""
    now = now or utcnow()
    answer_s = (call.answered_at - call.called_at).total_seconds() if call.answered_at else None
    remaining = max(0.0, (call.deadline_at - now).total_seconds()) if call.state == CALLED else 0.0
    return {
        "id": call.id,
        "rollcall_id": call.rollcall_id,
        "county": call.county,
        "room": call.room,
        "camera_id": call.camera_id,
        "state": call.state,
        "reason": call.reason,
        "called_at": iso(call.called_at),
        "deadline_at": iso(call.deadline_at),
        "remaining_s": round(remaining, 1),
        "answered_at": iso(call.answered_at),
        "answered_by": call.answered_by,
        "time_to_answer_s": round(answer_s, 1) if answer_s is not None else None,
        "clip_start_at": iso(call.clip_start_at),
        "clip_end_at": iso(call.clip_end_at),
        "face_present": call.face_present,
        "frames_checked": call.frames_checked,
        "frames_with_face": call.frames_with_face,
        "verdict_at": iso(call.verdict_at),
        "incident_id": call.incident_id,
        "bookmark_id": call.bookmark_id,
        "bookmark_tries": call.bookmark_tries or 0,
        "version": call.version,
    }


def _audit(engine: Engine, actor: str, action: str, target: str, detail: dict, address: str | None) -> None:
    append(engine, actor=actor, action=action, target=target, detail=detail, address=address)


# --- starting -----------------------------------------------------------------------------------


def _centre_name(site: Site, code: str) -> str:
    centre = site.centre(code)
    return f"{centre.name.get('zh-CN')} ({code})"


def plan_calls(site: Site, actor: rules.Actor, centres: Sequence[str], camera_id: str | None = None) -> list:
    """The (centre, room, camera) of each centre to call; refused, with the centre named, when a centre
    is unknown, not a county centre, not the actor's to call, or has no roll-call camera."""
    codes = list(dict.fromkeys(code.strip() for code in centres if code and code.strip()))
    if not codes:
        raise RollcallRefused("choose at least one county centre to roll-call")
    if camera_id and len(codes) != 1:
        raise RollcallRefused("a camera can be chosen only for a roll-call of one centre")
    known = {centre.code: centre for centre in site.centres}
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise RollcallRefused(f"no centre {', '.join(unknown)} in the site")
    planned, missing = [], []
    for code in codes:
        centre = known[code]
        if centre.level != "county":
            raise RollcallRefused(
                f"{_centre_name(site, code)} is the city centre: only county centres are called"
            )
        if not rules.can_start(actor, code):
            # named by its code alone: another county's name is not shown to those who may not see it
            raise RollcallRefused(f"centre {code} is not one you may see or roll-call")
        chosen = camera_in_centre(centre, camera_id) if camera_id else rollcall_camera(centre)
        if camera_id and chosen is None:
            raise RollcallRefused(f"no enabled camera {camera_id} in {_centre_name(site, code)}")
        if chosen is None:
            missing.append(code)
            continue
        room, camera = chosen
        planned.append((code, room.code, camera.id))
    if missing:
        names = ", ".join(_centre_name(site, code) for code in missing)
        raise RollcallRefused(
            f"no roll-call camera in {names}: mark a camera `rollcall: true` in the site file "
            "or give the centre a room of kind monitoring; no centre was called"
        )
    return planned


def start_rollcall(
    engine: Engine,
    site: Site,
    settings: RollcallSettings,
    actor: rules.Actor,
    centres: Sequence[str],
    *,
    camera_id: str | None = None,
    origin: str = "manual",
    address: str | None = None,
    now: datetime | None = None,
) -> list[dict]:
    """Call ``centres`` now: one call per centre, all or none. Returns the calls' summaries."""
    now = now or utcnow()
    planned = plan_calls(site, actor, centres, camera_id)
    deadline = now + timedelta(seconds=settings.countdown_s)
    with session_scope(engine) as session:
        busy = session.scalars(
            select(RollcallCall).where(
                RollcallCall.county.in_([code for code, _, _ in planned]),
                RollcallCall.state == CALLED,
                RollcallCall.deadline_at > now,
            )
        ).all()
        if busy:
            names = ", ".join(sorted({_centre_name(site, call.county) for call in busy}))
            raise CentreBusy(f"{names} is being roll-called already; wait for its countdown to end")
        rollcall = Rollcall(
            started_at=now, started_by=actor.username, origin=origin, countdown_s=settings.countdown_s
        )
        session.add(rollcall)
        session.flush()
        calls = []
        for code, room, camera in planned:
            call = RollcallCall(
                rollcall_id=rollcall.id,
                county=code,
                room=room,
                camera_id=camera,
                called_at=now,
                deadline_at=deadline,
                clip_start_at=now,
                state=CALLED,
                bookmark_tries=0,
                version=1,
            )
            session.add(call)
            calls.append(call)
        session.flush()
        summaries = [summary(call, now) for call in calls]
        rollcall_id = rollcall.id
    _audit(
        engine,
        actor.username,
        "rollcall.start",
        f"rollcall:{rollcall_id}",
        {
            "origin": origin,
            "countdown_s": settings.countdown_s,
            "calls": [{"id": s["id"], "county": s["county"], "camera_id": s["camera_id"]} for s in summaries],
        },
        address,
    )
    return summaries


# --- answering ----------------------------------------------------------------------------------


def answer(
    engine: Engine,
    site: Site,
    settings: RollcallSettings,
    actor: rules.Actor,
    call_id: int,
    *,
    address: str | None = None,
    now: datetime | None = None,
) -> dict:
    """The duty officer's 到. Refused (nothing changed, the refusal audited) when the call is not the
    actor's centre's, is answered already, or its countdown has ended."""
    now = now or utcnow()
    with Session(engine) as session:
        call = session.get(RollcallCall, call_id)
        county = call.county if call is not None and rules.can_read(actor, call.county) else None
    if county is None:  # another county's call is not even named to this user
        refusal = f"no roll-call {call_id} of your centre: your answer was not recorded"
        _audit(
            engine,
            actor.username,
            "rollcall.answer_refused",
            f"rollcall_call:{call_id}",
            {"why": refusal},
            address,
        )
        raise CallNotFound(refusal)
    refusal = None
    if not rules.can_answer(actor, county):
        refusal = f"this roll-call calls {_centre_name(site, county)}, not your centre: your answer was not recorded"
    else:
        with session_scope(engine) as session:
            done = session.execute(
                update(RollcallCall)
                .where(
                    RollcallCall.id == call_id,
                    RollcallCall.state == CALLED,
                    RollcallCall.deadline_at > now,
                )
                .values(
                    state=ANSWERED,
                    answered_at=now,
                    answered_by=actor.username,
                    clip_end_at=now + timedelta(seconds=settings.after_answer_s),
                    version=RollcallCall.version + 1,
                )
            ).rowcount
        if not done:
            with Session(engine) as session:
                call = session.get(RollcallCall, call_id)
                if call.answered_at is not None:
                    refusal = f"this roll-call was answered already (at {iso(call.answered_at)})"
                else:
                    refusal = f"this roll-call's countdown ended at {iso(call.deadline_at)}: the answer was not recorded"
    if refusal:
        _audit(
            engine,
            actor.username,
            "rollcall.answer_refused",
            f"rollcall_call:{call_id}",
            {"why": refusal},
            address,
        )
        raise RollcallRefused(refusal)
    with Session(engine) as session:
        result = summary(session.get(RollcallCall, call_id), now)
    _audit(
        engine,
        actor.username,
        "rollcall.answer",
        f"rollcall_call:{call_id}",
        {"county": county, "time_to_answer_s": result["time_to_answer_s"], "camera_id": result["camera_id"]},
        address,
    )
    return result


# --- the worker's steps -------------------------------------------------------------------------


def expire_due(engine: Engine, now: datetime | None = None) -> list[dict]:
    """Fail every call whose countdown ended unanswered; returns their summaries."""
    now = now or utcnow()
    with session_scope(engine) as session:
        due = session.scalars(
            select(RollcallCall).where(RollcallCall.state == CALLED, RollcallCall.deadline_at <= now)
        ).all()
        failed = []
        for call in due:
            done = session.execute(
                update(RollcallCall)
                .where(RollcallCall.id == call.id, RollcallCall.state == CALLED)
                .values(
                    state=FAILED,
                    reason=NO_ANSWER,
                    verdict_at=now,
                    clip_end_at=call.deadline_at,
                    version=RollcallCall.version + 1,
                )
            ).rowcount
            if done:
                session.refresh(call)
                failed.append(summary(call, now))
    return failed


def answered_due(engine: Engine, now: datetime | None = None, limit: int = 50) -> list[dict]:
    """Answered calls whose clip has ended: ready for the face check once their span is recorded."""
    now = now or utcnow()
    with Session(engine) as session:
        calls = session.scalars(
            select(RollcallCall)
            .where(RollcallCall.state == ANSWERED, RollcallCall.clip_end_at <= now)
            .order_by(RollcallCall.clip_end_at)
            .limit(limit)
        ).all()
        return [summary(call, now) for call in calls]


def record_verdict(
    engine: Engine, call_id: int, verdict: FaceVerdict, now: datetime | None = None
) -> dict | None:
    """Passed when a face was present, else failed (no face, or no recording). None when another
    worker recorded the verdict first."""
    now = now or utcnow()
    if verdict.face_present:
        state, reason = PASSED, None
    else:
        state, reason = FAILED, (NO_RECORDING if verdict.reason == NO_RECORDING else NO_FACE)
    with session_scope(engine) as session:
        done = session.execute(
            update(RollcallCall)
            .where(RollcallCall.id == call_id, RollcallCall.state == ANSWERED)
            .values(
                state=state,
                reason=reason,
                face_present=verdict.face_present,
                frames_checked=verdict.frames_checked,
                frames_with_face=verdict.frames_with_face,
                verdict_at=now,
                version=RollcallCall.version + 1,
            )
        ).rowcount
        if not done:
            return None
        return summary(session.get(RollcallCall, call_id), now)


def set_links(engine: Engine, call_id: int, *, incident_id: int | None = None, bookmark_id: str | None = None,
              bookmark_try: bool = False) -> dict:  # fmt: skip
    values: dict = {"version": RollcallCall.version + 1}
    if incident_id is not None:
        values["incident_id"] = incident_id
    if bookmark_id is not None:
        values["bookmark_id"] = bookmark_id
    if bookmark_try:
        values["bookmark_tries"] = RollcallCall.bookmark_tries + 1
    with session_scope(engine) as session:
        session.execute(update(RollcallCall).where(RollcallCall.id == call_id).values(**values))
        return summary(session.get(RollcallCall, call_id))


def unbookmarked(engine: Engine, max_tries: int, limit: int = 20) -> list[dict]:
    """Calls with a verdict whose clip has no bookmark yet (tried fewer than ``max_tries`` times)."""
    with Session(engine) as session:
        calls = session.scalars(
            select(RollcallCall)
            .where(
                RollcallCall.state.in_((PASSED, FAILED)),
                RollcallCall.bookmark_id.is_(None),
                RollcallCall.bookmark_tries < max_tries,
            )
            .order_by(RollcallCall.id)
            .limit(limit)
        ).all()
        return [summary(call) for call in calls]


# --- reading ------------------------------------------------------------------------------------


def get_call(engine: Engine, call_id: int) -> dict | None:
    with Session(engine) as session:
        call = session.get(RollcallCall, call_id)
        return summary(call) if call is not None else None


def list_calls(
    engine: Engine,
    *,
    counties: Iterable[str] | None = None,
    county: str | None = None,
    result: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    rollcall_id: int | None = None,
    open_or_since: datetime | None = None,
    limit: int = 500,
) -> list[dict]:
    """Newest first. ``counties``: only these (the reader's); ``result``: a state (passed, failed,
    called, answered) or a failure reason; ``open_or_since``: still open, or decided after it."""
    now = utcnow()
    query = select(RollcallCall).order_by(RollcallCall.called_at.desc(), RollcallCall.id).limit(limit)
    if counties is not None:
        query = query.where(RollcallCall.county.in_(list(counties)))
    if county:
        query = query.where(RollcallCall.county == county)
    if result in (NO_ANSWER, NO_FACE, NO_RECORDING):
        query = query.where(RollcallCall.reason == result)
    elif result:
        query = query.where(RollcallCall.state == result)
    if since is not None:
        query = query.where(RollcallCall.called_at >= since)
    if until is not None:
        query = query.where(RollcallCall.called_at < until)
    if rollcall_id is not None:
        query = query.where(RollcallCall.rollcall_id == rollcall_id)
    if open_or_since is not None:
        query = query.where(
            RollcallCall.state.in_(OPEN_STATES) | and_(RollcallCall.verdict_at >= open_or_since)
        )
    with Session(engine) as session:
        return [summary(call, now) for call in session.scalars(query)]


def failed_count(engine: Engine, since: datetime, counties: Iterable[str] | None = None) -> int:
    """Failed roll-calls since ``since``: the figure the wall shows."""
    query = (
        select(func.count())
        .select_from(RollcallCall)
        .where(RollcallCall.state == FAILED, RollcallCall.called_at >= since)
    )
    if counties is not None:
        query = query.where(RollcallCall.county.in_(list(counties)))
    with Session(engine) as session:
        return int(session.scalar(query) or 0)
