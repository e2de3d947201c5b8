"""Where an inventory camera may go: an id the site file does not use, a centre the site has."""

from __future__ import annotations

from watchwall.config.errors import UserError
from watchwall.config.site import Site


class PlacementError(UserError, ValueError):
    """An inventory camera that cannot go where it was asked to."""


def check_place_in_site(site: Site, camera_id: str, centre: str) -> None:
    """Refuse an inventory camera whose id the site file already uses, or whose centre it lacks."""
    if any(place.camera.id == camera_id for place in site.cameras()):
        raise PlacementError(
            f"camera id {camera_id!r} is already a camera of the site file; choose another id"
        )
    codes = [c.code for c in site.centres]
    if centre not in codes:
        raise PlacementError(f"centre {centre!r} is not in the site (centres: {', '.join(codes)})")
