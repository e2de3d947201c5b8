"""Incidents in a running WatchWall: the intake wrapped around the ingest's event sink, the
watch loop (deadlines, check-in sources), and their pushes to the pages.

``incident.changed`` (an incident's summary) goes to the rooms of its centre and of the county
handling it; a socket joins only the rooms of centres its user may see (``dashboard.push``).
"""

from __future__ import annotations

from functools import partial

from watchwall.dashboard.components.camera_live_cells import OPEN_INCIDENTS
from watchwall.dashboard.context import AppContext
from watchwall.dashboard.i18n import t
from watchwall.incidents.intake import IncidentIntake, places_in, publish_through
from watchwall.incidents.store import open_count, report_callback
from watchwall.incidents.watch import IncidentWatch
from watchwall.video.state.events import SocketIOSink

INTAKE_KEY = "incident_intake"
WATCH_KEY = "incident_watch"


def publisher(context: AppContext):
    return publish_through(SocketIOSink(context.socketio))


def place_finder(context: AppContext):
    """Where a camera is, from the pages' current site (it follows the inventory)."""
    return places_in(lambda: context.site)


def start_intake(context: AppContext) -> IncidentIntake:
    settings = context.settings.incidents
    intake = IncidentIntake(
        report_callback(context.engine, settings),
        place_finder(context),
        publisher(context),
        batch_s=settings.batch_s,
        push_every_s=settings.push_every_s,
    ).start()
    context.extras[INTAKE_KEY] = intake
    return intake


def bookmark_title(incident) -> str:
    """A camera incident's bookmark as the recordings' list shows it (in the site's language, Chinese)."""
    return f"事件 #{incident.id} {t('incident.kind.' + incident.kind, 'zh-CN')}"


def start_watch(context: AppContext) -> IncidentWatch:
    watch = IncidentWatch(
        context.engine, context.settings, publisher(context), bookmark_title=bookmark_title
    ).start()
    context.extras[WATCH_KEY] = watch
    context.extras[OPEN_INCIDENTS] = partial(open_count, context.engine)  # the /admin camera table
    return watch


def stop(context: AppContext) -> None:
    for key in (WATCH_KEY, INTAKE_KEY):
        worker = context.extras.pop(key, None)
        if worker is not None:
            worker.stop()
