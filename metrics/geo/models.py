"""Subjects' assigned areas: where each person under supervision may be at a location check.

An area is either a radius around the home address (``kind = 'radius'``: ``home_latitude``,
``home_longitude``, ``radius_m``) or a polygon (``kind = 'polygon'``: ``polygon`` is the JSON text of
one GeoJSON Polygon's rings, ``[[[lon, lat], ...], ...]``; the home address is kept when known).
Coordinates are WGS-84 (see ``assets/maps/README.md``). A subject without a row has no area, and its
checks keep the result their source gave.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from watchwall.config.database import Base

AREA_KINDS = ("radius", "polygon")


class SubjectArea(Base):
    __tablename__ = "subject_areas"
    __table_args__ = (
        CheckConstraint("kind IN ('radius', 'polygon')", name="kind"),
        CheckConstraint(
            "(kind = 'radius' AND radius_m > 0 AND home_latitude IS NOT NULL AND home_longitude IS NOT NULL)"
            " OR (kind = 'polygon' AND polygon IS NOT NULL)",
            name="shape",
        ),
    )

    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    home_latitude: Mapped[float | None] = mapped_column(Float)
    home_longitude: Mapped[float | None] = mapped_column(Float)
    radius_m: Mapped[float | None] = mapped_column(Float)
    polygon: Mapped[str | None] = mapped_column(Text)


GEO_TABLE_NAMES = frozenset({SubjectArea.__tablename__})
