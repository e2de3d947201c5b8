"""Incidents in a running WatchWall: the intake wrapped around the ingest's event sink, the
watch loop (deadlines, check-in sources), and their pushes to the pages.

``incident.changed`` (an incident's summary) goes to the rooms of its centre and of the county
handling it; a socket joins only the rooms of centres its user may see (``dashboard.push``).
"""

from __future__ import annotations

from watchwall.dashboard.context import AppContext
from watchwall.incidents.intake import CHANGED_EVENT, IncidentIntake, Place
from watchwall.incidents.store import report_callback
from watchwall.incidents.watch import IncidentWatch

INTAKE_KEY = "incident_intake"
WATCH_KEY = "incident_watch"


def publisher(context: AppContext):
    def publish(summary: dict) -> None:
        for room in {summary.get("centre"), summary.get("county")} - {None}:
            context.socketio.emit(CHANGED_EVENT, summary, to=room)

    return publish


def place_finder(context: AppContext):
    """Where a camera is, from the pages' current site (it follows the inventory)."""

    def place_of(camera_id: str) -> Place | None:
        try:
            place = context.site.camera(camera_id)
        except KeyError:
            return None
        return Place(county=place.centre.code, centre=place.centre.code, room=place.room.code)

    return place_of


def start_intake(context: AppContext) -> IncidentIntake:
    settings = context.settings.incidents
    intake = IncidentIntake(
        report_callback(context.engine, settings),
        place_finder(context),
        publisher(context),
        batch_s=settings.batch_s,
    ).start()
    context.extras[INTAKE_KEY] = intake
    return intake


def start_watch(context: AppContext) -> IncidentWatch:
    watch = IncidentWatch(context.engine, context.settings, publisher(context)).start()
    context.extras[WATCH_KEY] = watch
    return watch


def stop(context: AppContext) -> None:
    for key in (WATCH_KEY, INTAKE_KEY):
        worker = context.extras.pop(key, None)
        if worker is not None:
            worker.stop()
