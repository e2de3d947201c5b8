"""The /incidents filters, from a page's controls or a CSV link's query: checked, with clear errors."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from watchwall.config.errors import UserError
from watchwall.incidents.kinds import KINDS
from watchwall.incidents.states import STATES

FILTER_NAMES = ("county", "kind", "state", "overdue", "from", "to")


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{name} {text!r} is not a date (YYYY-MM-DD)") from None


def list_arguments(filters: dict, visible: list[str], zone: ZoneInfo) -> dict:
    """Keyword arguments of ``incidents.store.list_incidents`` for ``filters`` (strings), limited to
    the ``visible`` counties; refuses unknown values."""
    county = (filters.get("county") or "").strip() or None
    kind = (filters.get("kind") or "").strip() or None
    state = (filters.get("state") or "").strip() or None
    if county is not None and county not in visible:
        raise UserError(f"county {county!r} is not one you may see")
    if kind is not None and kind not in KINDS:
        raise UserError(f"unknown incident kind {kind!r}")
    if state is not None and state not in STATES:
        raise UserError(f"unknown state {state!r}")
    arguments: dict = {"counties": visible, "county": county, "kind": kind, "state": state}
    if str(filters.get("overdue") or "").lower() in ("1", "true", "yes", "on"):
        arguments["overdue"] = True
    first = (filters.get("from") or "").strip()
    last = (filters.get("to") or "").strip()
    if first:
        arguments["since"] = datetime.combine(_day(first, "from"), time(0), tzinfo=zone)
    if last:
        arguments["until"] = datetime.combine(_day(last, "to") + timedelta(days=1), time(0), tzinfo=zone)
    if first and last and arguments["until"] <= arguments["since"]:
        raise UserError("the end date comes before the start date")
    return arguments
