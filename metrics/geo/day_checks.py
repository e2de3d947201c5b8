"""The located checks of one local day, for the map: where each was, and whether it was in its area."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, select

from watchwall.metrics.models import LocationCheck


def located_checks(connection: Connection, day: date, county: str | None = None) -> list[tuple]:
    """(county, result, latitude, longitude) of every check on local ``day`` that has coordinates."""
    query = select(
        LocationCheck.county, LocationCheck.result, LocationCheck.latitude, LocationCheck.longitude
    ).where(
        LocationCheck.local_day == day,
        LocationCheck.latitude.is_not(None),
        LocationCheck.longitude.is_not(None),
    )
    if county is not None:
        query = query.where(LocationCheck.county == county)
    return [tuple(row) for row in connection.execute(query.order_by(LocationCheck.id))]
