"""The incident state machine, as pure functions: open -> acknowledged -> handling -> closed.

Every function takes the incident's current facts and returns what changes, or raises
:class:`TransitionRefused` with a message for the user; nothing is written here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from watchwall.config.errors import UserError
from watchwall.incidents.kinds import CLOSE_REASONS

OPEN = "open"
ACKNOWLEDGED = "acknowledged"
HANDLING = "handling"
CLOSED = "closed"
STATES = (OPEN, ACKNOWLEDGED, HANDLING, CLOSED)
ACTIONS = ("acknowledge", "handle", "close", "comment", "assign")
MAX_NOTE_CHARS = 1000


class TransitionRefused(UserError):
    """The action does not apply to the incident as it is now; nothing was changed."""


@dataclass(frozen=True)
class Facts:
    """What the decisions need to know of one incident."""

    state: str
    ack_deadline_at: datetime | None = None
    close_deadline_at: datetime | None = None
    recovered_at: datetime | None = None
    closed_at: datetime | None = None


def next_state(state: str, action: str, reason: str | None = None, note: str | None = None) -> str:
    """The state after ``action``; refuses what does not apply."""
    if action not in ACTIONS:
        raise TransitionRefused(f"unknown action {action!r}")
    if note is not None and len(note) > MAX_NOTE_CHARS:
        raise TransitionRefused(f"the note is longer than {MAX_NOTE_CHARS} characters")
    if state == CLOSED and action != "comment":
        raise TransitionRefused("the incident is already closed")
    if action == "acknowledge":
        if state != OPEN:
            raise TransitionRefused("the incident has already been acknowledged")
        return ACKNOWLEDGED
    if action == "handle":
        if state == HANDLING:
            raise TransitionRefused("the incident is already being handled")
        return HANDLING
    if action == "close":
        if not reason:
            raise TransitionRefused("closing needs a reason from the list")
        if reason not in CLOSE_REASONS:
            raise TransitionRefused(f"unknown close reason {reason!r}")
        if reason == "other" and not (note or "").strip():
            raise TransitionRefused("the reason 'other' needs a note saying what was done")
        return CLOSED
    if action == "comment":
        if not (note or "").strip():
            raise TransitionRefused("a comment needs some text")
        return state
    return OPEN if state == OPEN else state  # assign: the state stays, the deadlines restart


def is_overdue(facts: Facts, now: datetime) -> bool:
    """Past its deadline: not acknowledged in time, or not closed in time."""
    if facts.state == CLOSED:
        return False
    if facts.state == OPEN and facts.ack_deadline_at is not None and now > facts.ack_deadline_at:
        return True
    return facts.close_deadline_at is not None and now > facts.close_deadline_at


def on_recurrence(facts: Facts, now: datetime, quiet_period_s: float) -> str:
    """A problem reported again: ``count`` on an incident still open, ``reopen`` a closed one whose
    problem ended within the quiet period, else ``new``."""
    if facts.state != CLOSED:
        return "count"
    ended = facts.closed_at or facts.recovered_at
    if ended is not None and now - ended <= timedelta(seconds=quiet_period_s):
        return "reopen"
    return "new"


def deadlines(opened_at: datetime, acknowledge_s: float, close_s: float) -> tuple[datetime, datetime]:
    return opened_at + timedelta(seconds=acknowledge_s), opened_at + timedelta(seconds=close_s)
