"""``watchwall serve``: the whole product in one process (web role and media plane) on the threading server."""

from __future__ import annotations

import logging
import signal
import sys
import threading

from watchwall.cameras.inventory_watch import pull_list_now
from watchwall.cameras.inventory_watch import watch_inventory as start_watching
from watchwall.config.database import make_engine, redact_database_url, upgrade
from watchwall.config.settings import get_settings
from watchwall.config.site import load_site
from watchwall.dashboard import checkin_video_worker, incident_service, rollcall_service
from watchwall.dashboard.accounts import count_users
from watchwall.dashboard.app import create_app
from watchwall.dashboard.context import AppContext
from watchwall.dashboard.push import watch_metrics
from watchwall.dashboard.web_security import BannerlessRequestHandler
from watchwall.metrics.demo_data import ensure_demo_data
from watchwall.reports.schedule import start_report_schedule
from watchwall.roles.media_plane import build_media_plane
from watchwall.video.state.events import SocketIOSink
from watchwall.video.state.view import LocalMediaView

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    serve = subparsers.add_parser("serve", help="run the dashboard (and the camera ingest) in one process")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8050, help="port (default 8050)")
    serve.add_argument("--site", help="site file (default: WATCHWALL_SITE or the shipped demo site)")
    serve.add_argument("--no-ingest", action="store_true", help="do not pull the cameras")
    serve.add_argument("--no-record", action="store_true", help="do not record the cameras")
    serve.set_defaults(func=serve_command)


def prepare(site_path=None):
    """Schema, demo data on a fresh default database, and the app context."""
    settings = get_settings()
    settings.ensure_data_dir()
    url = settings.effective_database_url
    upgrade(url)
    engine = make_engine(url)
    if settings.uses_default_database and ensure_demo_data(engine):
        print(f"loaded the demo case data into {redact_database_url(url)}", flush=True)
    site_file = load_site(site_path or settings.site)
    inventory_stamp, site = pull_list_now(site_file, engine)

    if count_users(engine) == 0:
        print(
            "No users yet. Create the first administrator with:\n"
            "  watchwall user add NAME --role admin          (prompts for the password)",
            flush=True,
        )
    context = AppContext(settings=settings, site=site, engine=engine, site_file=site_file)
    context.extras["inventory_stamp"] = inventory_stamp
    return context


def watch_inventory(context, ingest=None):
    """Apply inventory changes while serving: to the ingest (if any), then to the pages' site."""

    def publish(site) -> None:
        context.site = site

    watcher = start_watching(
        context.engine,
        context.site_file,
        ingest,
        on_site=publish,
        sink=SocketIOSink(context.socketio),  # open pages reload their camera lists
        site=context.site,
        applied=context.extras.get("inventory_stamp"),
    )
    context.extras["inventory_watch"] = watcher
    return watcher


def serve_command(args) -> int:
    context = prepare(args.site)
    app = create_app(context)
    stop = threading.Event()
    context.socketio.start_background_task(watch_metrics, context, 5.0, stop)
    # alarms become incidents: the ingest's sink hands them to the intake, whose own thread writes them
    intake = incident_service.start_intake(context)
    incident_service.start_watch(context)
    rollcall_service.start_worker(context)  # countdowns, verdicts, scheduled roll-calls
    checkin_video_worker.start_worker(context)
    plane = None
    if not args.no_ingest:
        plane = build_media_plane(
            context.site,
            context.settings,
            context.engine,
            intake.sink(SocketIOSink(context.socketio)),
            record=not args.no_record,
        )
        context.media = LocalMediaView(plane.ingest, plane.live)
        plane.start()
    watcher = watch_inventory(context, plane.ingest if plane is not None else None)
    reports = start_report_schedule(context.settings, context.site_file)
    # SIGTERM (systemd, kill) ends the server like Ctrl-C: open segments are closed, not left for recovery
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"WatchWall on http://{args.host}:{args.port}/wall  (Ctrl-C stops)", flush=True)
    try:
        context.socketio.run(
            app.server,
            host=args.host,
            port=args.port,
            allow_unsafe_werkzeug=True,
            use_reloader=False,
            log_output=False,
            request_handler=BannerlessRequestHandler,  # no "Werkzeug/x Python/y" in Server
        )
    finally:
        stop.set()
        watcher.stop()
        reports.stop()
        incident_service.stop(context)
        rollcall_service.stop(context)
        checkin_video_worker.stop_worker(context)
        if plane is not None:
            plane.stop(recorder_timeout=10.0)
    return 0
