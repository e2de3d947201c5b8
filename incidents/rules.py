"""Who may read and act on incidents: pure decisions on anything with ``role``, ``counties`` and
``all_counties`` (the dashboard's Principal), used by every route, callback, socket and the store.

County supervisors handle their own county's incidents; city command may acknowledge, comment
on and close any incident and assign one back to a county; inspectors read; admins do everything.
"""

from __future__ import annotations

from typing import Protocol

COUNTY_ACTIONS = ("acknowledge", "handle", "close", "comment")
CITY_ACTIONS = ("acknowledge", "comment", "close", "assign")
READERS = ("city_command", "county_supervisor", "inspector", "admin")


class Actor(Protocol):
    username: str
    role: str
    counties: tuple[str, ...]

    @property
    def all_counties(self) -> bool: ...


def can_read(actor: Actor, county: str) -> bool:
    return actor.role in READERS and (actor.all_counties or county in actor.counties)


def can_act(actor: Actor, county: str, action: str) -> bool:
    if actor.role == "admin":
        return True
    if actor.role == "city_command":
        return action in CITY_ACTIONS
    if actor.role == "county_supervisor":
        return action in COUNTY_ACTIONS and county in actor.counties
    return False


def actions_for(actor: Actor, county: str) -> tuple[str, ...]:
    return tuple(action for action in COUNTY_ACTIONS + ("assign",) if can_act(actor, county, action))
