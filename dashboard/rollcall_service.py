"""Roll-calls in a running WatchWall: the worker (countdowns, verdicts, schedule, bookmarks) and
the push of every change to the pages.

``rollcall.changed`` (a call's summary) goes to the room of the called centre: its supervisors'
pages and city command's (which join every centre's room, ``dashboard.push``). Pages then ask
``rollcall.active`` for what they may see and answer (``dashboard.rollcall_socket``).
"""

from __future__ import annotations

from prometheus_client import Counter

from watchwall.dashboard.context import AppContext
from watchwall.dashboard.incident_service import publisher
from watchwall.dashboard.prometheus import PROCESS_REGISTRY
from watchwall.rollcall.worker import RollcallWorker
from watchwall.video.record.segments import default_recordings_dir

CHANGED_EVENT = "rollcall.changed"
WORKER_KEY = "rollcall_worker"
FACE_CHECK_KEY = "rollcall_face_check"  # a FaceCheck to use instead of the face-presence module's

ROLLCALL_FAILED = Counter(
    "watchwall_rollcall_failed_total",
    "Failed roll-calls (no answer within the countdown, or no face in the clip), by county and reason.",
    ["county", "reason"],
    registry=PROCESS_REGISTRY,
)


def call_publisher(context: AppContext):
    def publish(summary: dict) -> None:
        if context.socketio is not None:
            context.socketio.emit(CHANGED_EVENT, summary, to=summary["county"])

    return publish


def count_failed(summary: dict) -> None:
    ROLLCALL_FAILED.labels(summary["county"], summary.get("reason") or "unknown").inc()


def start_worker(context: AppContext) -> RollcallWorker:
    face_check = context.extras.get(FACE_CHECK_KEY)
    if face_check is None:
        from watchwall.rollcall.face_adapter import face_check_with

        face_check = face_check_with(getattr(context.settings, "face_check", None))
    worker = RollcallWorker(
        context.engine,
        context.settings,
        lambda: context.site,
        face_check,
        recordings_dir=default_recordings_dir(context.settings),
        publish=call_publisher(context),
        publish_incident=publisher(context),
        on_failed=count_failed,
    ).start()
    context.extras[WORKER_KEY] = worker
    return worker


def stop(context: AppContext) -> None:
    worker = context.extras.pop(WORKER_KEY, None)
    if worker is not None:
        worker.stop()
