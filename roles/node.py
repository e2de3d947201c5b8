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
process imports neither Dash nor the socket.io server. ``--listen`` serves the node's health, and
the live video and recorded segments of its cameras to web nodes that hold a token signed with the
cluster's shared secret (``watchwall.roles.media_server``).
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from watchwall.cameras.inventory_watch import pull_list_now
from watchwall.cameras.pull_list import inventory_stamp
from watchwall.cluster.backends import require_cluster_backends
from watchwall.cluster.fencing import fence_ok
from watchwall.cluster.leases import LeaseEngine, NodeSuperseded, TickResult
from watchwall.cluster.placement import CameraSpec
from watchwall.config.database import make_engine, session_scope, upgrade
from watchwall.config.errors import UserError, first_line
from watchwall.config.settings import get_settings
from watchwall.config.site import Site, load_site
from watchwall.config.timestamps import utc_iso
from watchwall.incidents.intake import IncidentIntake, places_in, publish_through
from watchwall.incidents.store import report_callback
from watchwall.roles.long_lived import freeze_startup_objects
from watchwall.roles.media_plane import MediaPlane, build_media_plane
from watchwall.roles.media_server import MediaServer
from watchwall.roles.media_tokens import media_key
from watchwall.video.ingest.keyframes import opencv_on_the_calling_thread
from watchwall.video.record import pending_samples
from watchwall.video.record.models import supersede_open_segments
from watchwall.video.record.segments import default_recordings_dir
from watchwall.video.rtsp import hot_path
from watchwall.video.state.events import RedisSink
from watchwall.video.state.shared_state import StatePublisher
from watchwall.video.state.view import LocalMediaView

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    node = subparsers.add_parser("node", help="run an ingest node of a cluster (PostgreSQL + Redis)")
    node.add_argument("--name", required=True, help="this node's name, unique in the cluster")
    node.add_argument("--max-cameras", type=int, default=50, help="most cameras to record (default 50)")
    node.add_argument(
        "--listen",
        default="127.0.0.1:8060",
        help="HOST:PORT where the node serves its health, live video and segments (port 0: any free one)",
    )
    node.add_argument("--advertise", help="HOST:PORT web nodes use to reach it (default: --listen)")
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
        self.fences: dict[str, LeaseFence] = {}  # each camera's current fence, as the lease ticks set them
        # The fences whose take-over the sync thread has done: the only ones a recorder is given. A
        # tick may replace a camera's fence while a sync pass runs; the pass starts the camera under
        # the fence it took over with, never under one whose take-over is still to come.
        self._ready: dict[str, LeaseFence] = {}
        self.last_tick: TickResult | None = None
        self._plan_lock = threading.Lock()
        self._plan_changed = threading.Event()
        self._stopping = threading.Event()
        self._sync_thread: threading.Thread | None = None
        self._wanted: set[str] = set()
        self._restart: set[str] = set()
        self._release: set[str] = set()
        self._taken: dict[str, int] = {}
        self._stamp, self.site = pull_list_now(site_file, engine)
        self.plane: MediaPlane = plane_factory(self.site, self.fence_for)
        self.plane.ingest.pull_only(())

    def fence_for(self, camera_id: str) -> LeaseFence | None:
        """The fence a new recorder of the camera gets (the sync pass starts only cameras that have one)."""
        return self._ready.get(camera_id) or self.fences.get(camera_id)

    def cameras(self) -> list[CameraSpec]:
        """The cameras to hold leases on, asked every lease tick: the inventory is read again only
        when its stamp (one aggregate query) says it changed."""
        try:
            if inventory_stamp(self.engine) != self._stamp:
                self._stamp, self.site = pull_list_now(self.site_file, self.engine)
        except (UserError, SQLAlchemyError) as exc:  # the inventory's database is away: keep the last list
            log.warning(
                "node: camera list not refreshed: %s",
                first_line(exc),
            )
        return camera_specs(self.site)

    def on_tick(self, result: TickResult) -> None:
        """Act on a lease tick; the cameras are started and stopped by the sync thread, so that a
        burst of camera starts never makes the next renewal late."""
        self.last_tick = result
        if result.error:
            log.warning(
                "node %s: database unreachable (%s); pinned cameras kept", self.leases.name, result.error
            )
        restart: set[str] = set()
        taken: dict[str, int] = {}  # new fences: the sync thread takes their cameras over
        for camera_id, epoch in result.gained.items():
            fence = self.fences.get(camera_id)
            if fence is not None and epoch == fence.epoch + 1:
                # this node's own lease lapsed and it claimed the camera straight back: no other node
                # held it in between, so the recorder goes on under the new epoch
                fence.epoch = epoch
                continue
            if fence is not None:
                restart.add(camera_id)  # another node held it meanwhile: a new recorder, a new fence
            self.fences[camera_id] = LeaseFence(self.leases, camera_id, epoch)
            taken[camera_id] = epoch
        with self._plan_lock:
            self._wanted = set(result.owned) - set(result.should_release)
            self._restart |= restart
            self._taken.update(taken)
            self._release = set(result.should_release)
        self._plan_changed.set()
        if result.gained or result.lost:
            log.info(
                "node %s: owns %d camera(s); gained %s, lost %s",
                self.leases.name,
                len(result.owned),
                ", ".join(result.gained) or "-",
                ", ".join(result.lost) or "-",
            )

    def start_sync(self) -> None:
        self._sync_thread = threading.Thread(target=self._sync_loop, name="node-sync", daemon=True)
        self._sync_thread.start()

    def stop_sync(self, timeout: float = 15.0) -> None:
        self._stopping.set()
        self._plan_changed.set()
        if self._sync_thread is not None:
            self._sync_thread.join(timeout)

    def _sync_loop(self) -> None:
        while not self._stopping.is_set():
            self._plan_changed.wait(1.0)
            self._plan_changed.clear()
            if self._stopping.is_set():
                break
            self.sync_once()

    def sync_once(self) -> None:
        """Apply the last lease plan: take the new cameras over, then start and stop cameras."""
        with self._plan_lock:
            wanted, restart, release = set(self._wanted), self._restart, self._release
            taken, self._taken = self._taken, {}
            self._restart, self._release = set(), set()
        # here rather than in the lease tick: a database transaction a camera, a hundred of them
        # at start-up, must not make the next renewal late; a recorder starts only below
        for camera_id in taken:
            fence = self.fences.get(camera_id)
            if fence is None:
                self._ready.pop(camera_id, None)
            elif self._ready.get(camera_id) is not fence:
                fence.failover_from = self._take_over(camera_id, fence.epoch)
                self._ready[camera_id] = fence
        # a camera whose fence is still to be taken over (a tick came after the plan was read)
        # starts at the next pass, which takes it over first
        startable = {camera_id for camera_id in wanted if camera_id in self._ready}
        # a recorder that found its epoch gone stops for good; one of a camera still owned here
        # (claimed back meanwhile) starts again under the current fence
        restart |= {
            camera_id
            for camera_id, recorder in list(self.plane.ingest.recorders.items())
            if getattr(recorder, "fenced", False) and camera_id in wanted
        }
        try:
            if restart:  # their recorders (old fences) close first, then new ones start
                self.plane.ingest.pull_only(startable - restart)
                self.plane.ingest.sync(self.site)
            self.plane.ingest.pull_only(startable)
            self.plane.ingest.sync(self.site)  # removed cameras' segments are closed here
            for camera_id in release:
                if camera_id not in self.plane.ingest.places:
                    self.leases.release(camera_id)
                    self.fences.pop(camera_id, None)
                    self._ready.pop(camera_id, None)
        except Exception:  # the next tick plans again
            log.exception("node %s: applying the lease plan failed", self.leases.name)

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


def _listen_address(listen: str) -> str:
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise UserError(f"--listen must be HOST:PORT, not {listen!r}")
    return listen


def _bind(listen: str, settings) -> MediaServer:
    host, _, port = listen.rpartition(":")
    try:
        return MediaServer(
            (host, int(port)),
            key=media_key(settings.secret_key()),
            recordings_dir=default_recordings_dir(settings),
        )
    except OSError as exc:
        raise UserError(f"cannot listen on {listen}: {exc.strerror or exc}") from None


def _advertised(server: MediaServer, advertise: str | None) -> str:
    if advertise:
        return _listen_address(advertise)
    host, port = server.server_address[:2]
    if host in ("0.0.0.0", "::", ""):  # every interface: name this machine
        host = socket.gethostname()
    return f"{host}:{port}"


def node_command(args) -> int:
    settings = get_settings()
    require_cluster_backends(settings)
    opencv_on_the_calling_thread()
    if settings.secret_key_file is None:
        raise UserError(
            "a node serves its cameras' video to web nodes under the cluster's shared secret: "
            "set WATCHWALL_SECRET_KEY_FILE to the secret key file every role of the cluster shares"
        )
    listen = _listen_address(args.listen)
    server = _bind(listen, settings)
    address = _advertised(server, args.advertise)
    url = settings.effective_database_url
    upgrade(url)
    engine = make_engine(url)
    leases = LeaseEngine(url, args.name, address=address, county=args.county, max_cameras=args.max_cameras)
    try:
        leases.register()
    except BaseException:
        server.server_close()
        raise
    sink = RedisSink(settings.redis_url)
    # the node's alarms become incidents, written in batches on the intake's own thread
    planned = {"site": load_site(args.site or settings.site)}
    intake = IncidentIntake(
        report_callback(engine, settings.incidents),
        places_in(lambda: planned["site"]),
        publish_through(sink),
        batch_s=settings.incidents.batch_s,
        push_every_s=settings.incidents.push_every_s,
    ).start()

    def plane_factory(site, fence_for):
        planned["site"] = site
        return build_media_plane(
            site, settings, engine, intake.sink(sink), camera_ids=(), node=args.name, fence_for=fence_for
        )

    node = IngestNode(engine, load_site(args.site or settings.site), leases, plane_factory)
    node.plane.start()
    node.start_sync()
    view = LocalMediaView(node.plane.ingest, node.plane.live)
    server.start(view, node.health)
    publisher = StatePublisher(settings.redis_url, view, args.name, address=address)
    publisher.start()
    freeze_startup_objects()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"WatchWall ingest node {args.name}: health on http://{address}/health  (Ctrl-C stops)", flush=True)
    print(f"RTSP per-packet path: {hot_path.describe()}", flush=True)
    print(f"Recording per-packet path: {pending_samples.describe()}", flush=True)
    try:
        leases.run(node.cameras, node.on_tick, stop)
    except NodeSuperseded as exc:
        log.error("%s", exc)
        return exc.exit_code
    except KeyboardInterrupt:
        pass
    finally:
        publisher.stop()
        server.stop()
        node.stop_sync()
        node.plane.stop(recorder_timeout=10.0)  # every open segment closed, then the leases given up
        intake.stop()
        sink.close(timeout=5.0)  # the last events (cameras stopped, incidents) go out before exit
        try:
            leases.close()
        except Exception:
            log.exception("node %s: leases not released (they expire by themselves)", args.name)
        engine.dispose()
    return 0
