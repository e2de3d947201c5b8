"""Site files for ingest tests: one county centre, one room, the cameras given."""

from __future__ import annotations

from watchwall.config.site import Site


def make_site(cameras: dict[str, dict]) -> Site:
    rooms = [
        {
            "code": "checkin",
            "name": "报到登记室",
            "cameras": [{"id": i, "name": i, **c} for i, c in cameras.items()],
        }
    ]
    return Site.model_validate(
        {"centres": [{"code": "qinzhou", "name": "秦州区", "level": "county", "rooms": rooms}]}
    )
