"""The one timestamp format of WatchWall's data: ISO 8601 in UTC, milliseconds, ``Z``.

Everything written for machines (health JSON, events, the audit log, exports, API answers)
uses :func:`utc_iso`; everything shown to people goes through :func:`local_text` in the
site's zone. Parsing accepts ``Z`` or any offset.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def utc_iso(moment: float | datetime | None = None) -> str:
    """``2026-12-04T18:39:48.123Z`` for an epoch (seconds), an aware datetime, or now."""
    if moment is None:
        moment = datetime.now(UTC)
    elif isinstance(moment, int | float):
        moment = datetime.fromtimestamp(moment, UTC)
    elif moment.tzinfo is None:
        raise ValueError("a naive datetime has no place in stored times: give it a zone")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def optional_utc_iso(moment: float | datetime | None) -> str | None:
    return None if moment is None else utc_iso(moment)


def parse_iso(text: str) -> datetime:
    """An aware datetime from ISO 8601 with ``Z`` or an offset; a naive text is refused."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return moment


def local_text(moment: float | datetime, zone: ZoneInfo, *, milliseconds: bool = False) -> str:
    """``2026-12-05 02:39:48`` in the site's zone, for people."""
    if isinstance(moment, int | float):
        moment = datetime.fromtimestamp(moment, UTC)
    local = moment.astimezone(zone)
    text = local.strftime("%Y-%m-%d %H:%M:%S")
    return text + f".{local.microsecond // 1000:03d}" if milliseconds else text
