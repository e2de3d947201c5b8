"""Who may see and do what: pure decisions on a Principal, used by every route, callback and socket.

Roles: ``city_command`` sees everything and changes no configuration;
``county_supervisor`` sees its one county (pages, streams, snapshots, PTZ, and the playback and
bookmarks of its county's recordings; export only where the setting ``supervisors_may_export`` grants it);
``inspector`` works on recordings, exports and the audit trail of all counties
or of those assigned; ``admin`` may do everything.
"""

from __future__ import annotations

from watchwall.config.site import Site
from watchwall.dashboard.accounts import Principal


class Forbidden(Exception):
    """Raised where a request asks for what its principal may not have (answered 403)."""


def can_see_centre(principal: Principal, centre: str) -> bool:
    if principal.all_counties:
        return True
    return centre in principal.counties


def can_open_centre_page(principal: Principal, centre: str) -> bool:
    """The county page and what it draws: its own county for a supervisor, any for city command;
    inspectors work from /recordings instead."""
    return can_see_centre(principal, centre) and principal.role != "inspector"


def visible_centres(principal: Principal, site: Site) -> list[str]:
    return [centre.code for centre in site.centres if can_see_centre(principal, centre.code)]


def can_see_wall(principal: Principal) -> bool:
    return principal.role in ("city_command", "admin")


def can_watch_live(principal: Principal, centre: str) -> bool:
    return principal.role in ("city_command", "county_supervisor", "admin") and can_see_centre(
        principal, centre
    )


def can_move_camera(principal: Principal, centre: str) -> bool:
    return principal.role in ("county_supervisor", "admin") and can_see_centre(principal, centre)


def can_open_recordings(principal: Principal) -> bool:
    """The /recordings page itself; what it shows is limited to the centres of ``can_see_recordings``."""
    return principal.role in ("inspector", "county_supervisor", "admin")


def can_see_recordings(principal: Principal, centre: str) -> bool:
    """Timeline, playback and seek of a centre's cameras."""
    return can_open_recordings(principal) and can_see_centre(principal, centre)


def can_export(principal: Principal, centre: str, supervisors_may_export: bool = False) -> bool:
    if principal.role == "county_supervisor" and not supervisors_may_export:
        return False
    return can_see_recordings(principal, centre)


def can_bookmark(principal: Principal, centre: str) -> bool:
    """Inspectors and the county's supervisor mark what they found; admins too."""
    return principal.role in ("inspector", "county_supervisor", "admin") and can_see_centre(principal, centre)


def can_lock(principal: Principal, centre: str) -> bool:
    return principal.role in ("inspector", "admin") and can_see_centre(principal, centre)


def can_unlock(principal: Principal) -> bool:
    return principal.role == "admin"


def can_read_audit(principal: Principal) -> bool:
    return principal.role in ("inspector", "admin")


def can_read_report(principal: Principal, scope: str) -> bool:
    """Supervision reports: a county's to its supervisors and to whoever sees that county; the
    city's to city command, administrators and inspectors of all counties."""
    if scope == "city":
        return principal.role in ("city_command", "inspector", "admin") and principal.all_counties
    return can_see_centre(principal, scope)


def can_administer(principal: Principal) -> bool:
    return principal.role == "admin"


def home_page(principal: Principal) -> str:
    """Where a user lands after logging in."""
    if principal.role == "county_supervisor":
        return f"/centres/{principal.counties[0]}"
    if principal.role == "inspector":
        return "/recordings"
    return "/wall"


def require(allowed: bool) -> None:
    if not allowed:
        raise Forbidden()
