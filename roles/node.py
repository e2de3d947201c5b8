"""``watchwall node``: an ingest node of a cluster. It records the cameras it holds leases on.

Every ``renew_interval_s`` the node's lease engine (``watchwall.cluster``) renews its leases in
PostgreSQL, claims its share of the free or expired cameras and says which to give up. The node
pulls and records exactly the cameras it owns; a camera it must give up is removed from the
ingest first (its recorder closes the open segment cleanly) and released after. Each recorder
has a fence: before every packet it asks whether the lease still holds (the local self-fencing
deadline), and the transaction that enters or closes a segment checks the lease's epoch in the
database, so a node that was frozen or cut off writes nothing once another node has taken over.

A takeover of a camera whose old owner left a segment open (a node killed or frozen) marks that
segment superseded and starts the new owner's recording with a ``node_failover`` gap.

Camera events go out on Redis (Flask-SocketIO's message queue) for the web role to deliver; this
process imports neither Dash nor the socket.io server. ``--listen`` serves the node's health.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy.engine import Engine

from watchwall.cameras.inventory_watch import pull_list_now
from watchwall.cluster.backends import require_cluster_backends
from watchwall.cluster.fencing import fence_ok
from watchwall.cluster.leases import LeaseEngine, NodeSuperseded, TickResult
from watchwall.cluster.placement import CameraSpec
from watchwall.config.database import make_engine, session_scope, upgrade
from watchwall.config.errors import UserError
from watchwall.config.settings import get_settings
from watchwall.config.site import Site, load_site
from watchwall.config.timestamps import utc_iso
from watchwall.roles.media_plane import MediaPlane, build_media_plane
from watchwall.video.events import RedisSink
from watchwall.video.record.models import supersede_open_segments
from watchwall.video.shared_state import StatePublisher
from watchwall.video.view import LocalMediaView

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    node = subparsers.add_parser("node", help="run an ingest node of a cluster (PostgreSQL + Redis)")
    node.add_argument("--name", required=True, help="this node's name, unique in the cluster")
    node.add_argument("--max-cameras", type=int, default=50, help="most cameras to record (default 50)")
    node.add_argument("--listen", default="127.0.0.1:8060", help="HOST:PORT of the node's health page")
    node.add_argument("--county", help="take this county's cameras first (placement over the county's LAN)")
    node.add_argument("--site", type=Path, help="site file (default: the configured site)")
    node.set_defaults(func=node_command)


@dataclass
class LeaseFence:
    """The recording fence of one camera under one lease epoch (video.record.fence.RecordingFence)."""

    leases: LeaseEngine
    camera_id: str
    epoch: int
    failover_from: float | None = None

    @property
    def took_over(self) -> bool:
        return self.failover_from is not None

    @property
    def node(self) -> str:
        return self.leases.name

    def may_write(self) -> bool:
        return self.leases.epoch(self.camera_id) == self.epoch and self.leases.may_write(self.camera_id)

    def check(self, session) -> bool:
        return fence_ok(session, self.camera_id, self.epoch)


def camera_specs(site: Site) -> list[CameraSpec]:
    return [
        CameraSpec(place.camera.id, place.centre.code, place.camera.pinned_to)
        for place in site.cameras()
        if place.camera.enabled
    ]


class IngestNode:
    def __init__(self, engine: Engine, site_file: Site, leases: LeaseEngine, plane_factory) -> None:
        self.engine = engine
        self.site_file = site_file
        self.leases = leases
        self.fences: dict[str, LeaseFence] = {}
        self.last_tick: TickResult | None = None
        self.superseded = threading.Event()
        self._stamp, self.site = pull_list_now(site_file, engine)
        self.plane: MediaPlane = plane_factory(self.site, self.fence_for)
        self.plane.ingest.pull_only(())

    def fence_for(self, camera_id: str) -> LeaseFence | None:
        return self.fences.get(camera_id)

    def cameras(self) -> list[CameraSpec]:
        try:
            self._stamp, self.site = pull_list_now(self.site_file, self.engine)
        except UserError as exc:  # the inventory's database is away: keep the last list
            log.warning("node: camera list not refreshed: %s", exc)
        return camera_specs(self.site)

    def on_tick(self, result: TickResult) -> None:
        self.last_tick = result
        if result.error:
            log.warning(
                "node %s: database unreachable (%s); pinned cameras kept", self.leases.name, result.error
            )
        for camera_id, epoch in result.gained.items():
            self.fences[camera_id] = LeaseFence(
                self.leases, camera_id, epoch, self._take_over(camera_id, epoch)
            )
        keep = set(result.owned) - set(result.should_release)
        for camera_id in set(self.fences) - set(result.owned):
            del self.fences[camera_id]
        self.plane.ingest.pull_only(keep)
        changes = self.plane.ingest.sync(self.site)  # removed cameras' segments are closed here
        for camera_id in result.should_release:
            if camera_id not in self.plane.ingest.places:
                self.leases.release(camera_id)
                self.fences.pop(camera_id, None)
        if changes or result.lost:
            log.info(
                "node %s: recording %d camera(s); gained %s, lost %s",
                self.leases.name,
                len(self.plane.ingest.places),
                ", ".join(result.gained) or "-",
                ", ".join(result.lost) or "-",
            )

    def _take_over(self, camera_id: str, epoch: int) -> float | None:
        """Segments the camera's previous owner left open leave the chain; where they began, if any."""
        try:
            with session_scope(self.engine) as session:
                return supersede_open_segments(session, camera_id, epoch)
        except Exception:  # the database went away between the claim and here: the fence still holds
            log.exception("node: cannot mark %s's open segments superseded", camera_id)
            return None

    def health(self) -> dict:
        tick = self.last_tick
        return {
            "node": self.leases.name,
            "database_ok": tick.database_ok if tick else None,
            "owned": dict(self.leases.owned),
            "cameras": {
                camera_id: snapshot.as_dict() for camera_id, snapshot in self.plane.ingest.health().items()
            },
            "at": utc_iso(),
        }


def serve_health(node: IngestNode, listen: str) -> ThreadingHTTPServer:
    host, _, port = listen.rpartition(":")

    class Health(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            if self.path != "/health":
                self.send_error(404)
                return
            body = json.dumps(node.health(), ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer((host or "127.0.0.1", int(port)), Health)
    threading.Thread(target=server.serve_forever, name="node-health", daemon=True).start()
    return server


def _listen_address(listen: str) -> str:
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise UserError(f"--listen must be HOST:PORT, not {listen!r}")
    return listen


def node_command(args) -> int:
    settings = get_settings()
    require_cluster_backends(settings)
    listen = _listen_address(args.listen)
    url = settings.effective_database_url
    upgrade(url)
    engine = make_engine(url)
    leases = LeaseEngine(url, args.name, address=listen, county=args.county, max_cameras=args.max_cameras)
    leases.register()
    sink = RedisSink(settings.redis_url)

    def plane_factory(site, fence_for):
        return build_media_plane(
            site, settings, engine, sink, camera_ids=(), node=args.name, fence_for=fence_for
        )

    node = IngestNode(engine, load_site(args.site or settings.site), leases, plane_factory)
    node.plane.start()
    health = serve_health(node, listen)
    publisher = StatePublisher(
        settings.redis_url, LocalMediaView(node.plane.ingest, node.plane.live), args.name
    )
    publisher.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"WatchWall ingest node {args.name}: health on http://{listen}/health  (Ctrl-C stops)", flush=True)
    try:
        leases.run(node.cameras, node.on_tick, stop)
    except NodeSuperseded as exc:
        log.error("%s", exc)
        return exc.exit_code
    except KeyboardInterrupt:
        pass
    finally:
        publisher.stop()
        health.shutdown()
        node.plane.stop(recorder_timeout=10.0)  # every open segment closed, then the leases given up
        try:
            leases.close()
        except Exception:
            log.exception("node %s: leases not released (they expire by themselves)", args.name)
        engine.dispose()
    return 0
