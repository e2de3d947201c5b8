"""Server push over Flask-SocketIO: figure refreshes and camera events reach the pages.

Pages never poll. A background task watches a cheap fingerprint of the case
database and emits ``metrics.changed`` when it moves (data imported by the CLI
or the REST API of another process shows up within ``interval`` seconds).
Camera status and alarms are emitted by the ingest through ``watchwall.video.state.events``;
``cameras.changed`` ({"centre": code}) by the inventory watcher, once the pages'
site has the new camera list (``watchwall.cameras.inventory_watch``). All three go to the
centre's room, which a socket joins only for the centres its user may see.
"""

from __future__ import annotations

import logging
import threading

from flask_socketio import SocketIO, emit, join_room
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from watchwall.dashboard import access
from watchwall.dashboard.auth import current_principal
from watchwall.dashboard.context import AppContext
from watchwall.dashboard.prometheus import set_push_clients
from watchwall.metrics.models import Case, ComplianceDaily, LocationCheck

log = logging.getLogger(__name__)
WALL_ROOM = "wall"
METRICS_EVENT = "metrics.changed"
SNAPSHOT_EVENT = "camera.snapshot"


def register(socketio: SocketIO, context: AppContext) -> None:
    refuse_anonymous_transports(socketio)

    @socketio.on("connect")
    def _connect(auth=None):
        principal = current_principal()
        if principal is None:
            return False  # no session: the socket is refused
        centres = access.visible_centres(principal, context.site)
        if access.can_see_wall(principal):
            join_room(WALL_ROOM)
        for centre in centres:  # camera events are emitted to their centre's room
            join_room(centre)
        emit(SNAPSHOT_EVENT, camera_snapshot(context, centres))
        _count_client(+1)
        return True

    @socketio.on("disconnect")
    def _disconnect(*_reason):
        _count_client(-1)

    @socketio.on("join")
    def _join(message=None, *_more):
        """A page asks for a centre's events; refused outside the user's counties."""
        principal = current_principal()
        if not isinstance(message, dict) or not isinstance(message.get("centre"), str):
            return {"ok": False, "error": 'bad request: send {"centre": "<code>"}'}
        centre = message["centre"]
        if principal is None or centre not in {c.code for c in context.site.centres}:
            return {"ok": False, "error": "unknown centre"}
        if not access.can_see_centre(principal, centre):
            return {"ok": False, "error": "forbidden"}
        join_room(centre)
        return {"ok": True}


def refuse_anonymous_transports(socketio: SocketIO) -> None:
    """Close an engine.io session at its handshake when the request has no logged-in user.

    Refusing only socket.io's ``connect`` (above) leaves the engine.io session open, polling and
    holding a thread, for anyone; engine.io refuses the handshake itself (401) when its connect
    handler answers False. python-socketio's own handler runs after the check."""
    server = socketio.server
    socketio_connect = server._handle_eio_connect

    def eio_connect(eio_sid, environ):
        with environ["flask.app"].request_context(environ):
            if current_principal() is None:
                return False
        return socketio_connect(eio_sid, environ)

    server.eio.on("connect", eio_connect)


_clients_lock = threading.Lock()
_clients = 0


def _count_client(change: int) -> None:
    global _clients
    with _clients_lock:
        _clients = max(0, _clients + change)
        set_push_clients(_clients)


def camera_snapshot(context: AppContext, centres: list[str]) -> dict:
    """The cameras' states and open alarms of ``centres``: what a (re)connecting page catches up with."""
    media = context.media
    if media is None:
        return {"cameras": {}, "alarms": []}
    cameras, alarms = {}, []
    for camera_id, health in media.health().items():
        if health.centre not in centres:
            continue
        cameras[camera_id] = {"state": health.state, "error_kind": health.error_kind, "centre": health.centre}
        for alarm in media.alarms(camera_id):
            if alarm.get("active"):
                alarms.append({"camera_id": camera_id, "centre": health.centre, **alarm})
    return {"cameras": cameras, "alarms": alarms}


def metrics_fingerprint(context: AppContext) -> tuple:
    with context.engine.connect() as connection:
        # The key's min and max, each its own subquery, are index lookups (SQLite optimises a lone
        # min() or max() only); count(*) scanned every check: 0.8 s a call at 10 million, every
        # 5 s, on the cores the callbacks need. Rewritten rows show in the roll-ups.
        checks = connection.execute(
            select(
                select(func.min(LocationCheck.id)).scalar_subquery(),
                select(func.max(LocationCheck.id)).scalar_subquery(),
            )
        ).one()
        cases = connection.execute(select(func.count(Case.id), func.max(Case.id))).one()
        rollup = connection.execute(select(func.count(), func.sum(ComplianceDaily.satisfied_slots))).one()
    return (*checks, *cases, *rollup)


def watch_metrics(context: AppContext, interval: float, stop: threading.Event) -> None:
    """Emit ``metrics.changed`` whenever the case data changes; runs until ``stop`` is set."""
    last = None
    while not stop.is_set():
        try:
            fingerprint = metrics_fingerprint(context)
        except SQLAlchemyError as exc:  # database restarting: keep watching, the page keeps its figures
            log.warning("metrics watcher: %s", exc)
            fingerprint = last
        if last is not None and fingerprint != last:
            context.socketio.emit(METRICS_EVENT, {"version": str(hash(fingerprint))}, to=WALL_ROOM)
        last = fingerprint
        stop.wait(interval)
