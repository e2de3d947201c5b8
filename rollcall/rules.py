"""Who may start, answer and read roll-calls: pure decisions on a principal (role, counties).

City command (and admins) call any county centre; a county supervisor calls only their own
centre, and is the one who answers 到 there; inspectors read. Everyone reads only the roll-calls
of the centres they may see.
"""

from __future__ import annotations

from typing import Protocol


class Actor(Protocol):
    username: str
    role: str
    counties: tuple[str, ...]

    @property
    def all_counties(self) -> bool: ...


def _sees(actor: Actor, county: str) -> bool:
    return actor.all_counties or county in actor.counties


def can_read(actor: Actor, county: str) -> bool:
    return actor.role in ("city_command", "county_supervisor", "inspector", "admin") and _sees(actor, county)


def can_start(actor: Actor, county: str) -> bool:
    if actor.role in ("city_command", "admin"):
        return True
    return actor.role == "county_supervisor" and county in actor.counties


def can_answer(actor: Actor, county: str) -> bool:
    """The duty officer at the called centre answers: its supervisor's account (or an admin's)."""
    if actor.role == "admin":
        return True
    return actor.role == "county_supervisor" and county in actor.counties


def can_start_any(actor: Actor) -> bool:
    return actor.role in ("city_command", "admin", "county_supervisor")
