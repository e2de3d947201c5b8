"""Check-ins that name a camera: the camera must be the site's and in the check's county, and
the span around the check's time is queued for its face check (in the import's transaction).

Used by the REST intake (:mod:`watchwall.dashboard.api`) as the importer's
:class:`watchwall.metrics.importer.CheckinLinks`. A refused row refuses the whole request.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, delete, select, update

from watchwall.config.face_check_settings import CheckinVideoSettings
from watchwall.config.site import Site
from watchwall.dashboard.checkin_video_models import PENDING, CheckinVideo
from watchwall.metrics.models import LocationCheck

TABLE = CheckinVideo.__table__


class VideoCheckinLinks:
    def __init__(self, site: Callable[[], Site], settings: CheckinVideoSettings) -> None:
        self.site = site  # called per request: the site follows the camera inventory
        self.settings = settings

    def refused(self, connection: Connection, rows: list[tuple[int, dict, dict]]) -> list[tuple[int, str]]:
        site = self.site()
        problems = []
        for line, row, record in rows:
            camera_id = row.get("camera_id")
            if not camera_id:
                continue
            try:
                place = site.camera(camera_id)
            except KeyError:
                problems.append((line, f"camera_id: {camera_id!r} is not a camera of this site"))
                continue
            if place.centre.code != record["county"]:
                problems.append(
                    (
                        line,
                        f"camera_id: {camera_id!r} is in centre {place.centre.code!r}, not in the county "
                        f"of the check's subject ({record['county']!r})",
                    )
                )
        return problems

    def span(self, checked_at_utc: float) -> tuple[float, float]:
        return checked_at_utc - self.settings.before_s, checked_at_utc + self.settings.after_s

    def write(self, connection: Connection, rows: list[tuple[int, dict, dict]]) -> None:
        """Queue new or changed spans; a check re-posted unchanged keeps its verdict."""
        ids = dict(
            connection.execute(
                select(LocationCheck.external_id, LocationCheck.id).where(
                    LocationCheck.external_id.in_([record["external_id"] for _, _, record in rows])
                )
            ).all()
        )
        existing = {
            row.check_external_id: row
            for row in connection.execute(select(TABLE).where(TABLE.c.check_external_id.in_(list(ids)))).all()
        }
        for _line, row, record in rows:
            external_id, camera_id = record["external_id"], row.get("camera_id")
            old = existing.get(external_id)
            if not camera_id:
                if old is not None:  # the check no longer names a camera: its link goes
                    connection.execute(delete(TABLE).where(TABLE.c.id == old.id))
                continue
            start, end = self.span(record["checked_at"].timestamp())
            if old is not None and (old.camera_id, old.span_start_utc, old.span_end_utc) == (
                camera_id,
                start,
                end,
            ):
                continue
            values = {
                "check_id": ids[external_id],
                "check_external_id": external_id,
                "county": record["county"],
                "camera_id": camera_id,
                "span_start_utc": start,
                "span_end_utc": end,
                "state": PENDING,
                "due_utc": end + self.settings.settle_margin_s,
                "give_up_utc": end + self.settings.settle_timeout_s,
                "claimed_utc": None,
                "attempts": 0,
                "checked_utc": None,
                "face_present": None,
                "frames_with_face": None,
                "frames_sampled": None,
                "reason": None,
                "segment_hashes": None,
                "snapshot_jpeg": None,
                "snapshot_utc": None,
                "incident_id": None,
                "error": None,
            }
            if old is None:
                connection.execute(TABLE.insert().values(values))
            else:
                connection.execute(update(TABLE).where(TABLE.c.id == old.id).values(values))
