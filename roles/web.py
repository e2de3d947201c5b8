"""``watchwall web``: the web role (pages, REST intake, socket.io push, /metrics) under gunicorn.

The web role pulls no camera: ingest processes (``watchwall ingest``, ingest nodes) emit camera
events through Flask-SocketIO's Redis message queue (``WATCHWALL_REDIS_URL``) and every web
process delivers them to its browsers, so restarting a web process never stops recording.

Why gunicorn's threaded worker and WebSocket-only socket.io: Flask-SocketIO's threading mode
runs on gunicorn's ``gthread`` worker with simple-websocket. Socket.IO's long-polling would
need every request of a session to reach the same worker (sticky sessions), which gunicorn's
own balancing does not give; WatchWall's pages open socket.io with the WebSocket transport
only (``assets/push.js``), so a session lives on one connection and any number of workers or
web processes behind any balancer serve it. ``--workers 1`` (the default) keeps per-process
caches (figures) warm; scale by more web processes, joined by Redis.
"""

from __future__ import annotations

import threading
from pathlib import Path

from gunicorn.app.base import BaseApplication

from watchwall.config.errors import UserError
from watchwall.dashboard import checkin_video_worker, incident_service, rollcall_service
from watchwall.dashboard.app import create_app
from watchwall.dashboard.push import watch_metrics
from watchwall.dashboard.recordings_source import SEGMENT_RELAY
from watchwall.roles.media_relay import RelayMediaView
from watchwall.roles.media_tokens import media_key
from watchwall.roles.segment_relay import SegmentRelay
from watchwall.roles.serve import prepare, watch_inventory
from watchwall.video.record.segments import default_recordings_dir

METRICS_WATCH_INTERVAL_S = 5.0


def register(subparsers) -> None:
    web = subparsers.add_parser(
        "web", help="run the web role (pages, API, push) under gunicorn; no camera ingest"
    )
    web.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    web.add_argument("--port", type=int, default=8050, help="port (default 8050)")
    web.add_argument("--threads", type=int, default=100, help="threads per worker (default 100)")
    web.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    web.add_argument("--site", help="site file (default: WATCHWALL_SITE or the shipped demo site)")
    web.set_defaults(func=web_command)


def build_web_app(site_path=None):
    """The Flask app of one web worker: the pages and sockets, the figures' push, the inventory watch."""
    context = prepare(site_path)
    settings = context.settings
    if settings.redis_url:  # camera states, alarms and thumbnails as the ingest nodes publish them
        key = media_key(settings.secret_key())
        # live video relayed from the node that pulls each camera, recordings from the nodes that hold them
        context.media = RelayMediaView(settings.redis_url, key)
        context.extras[SEGMENT_RELAY] = SegmentRelay(
            context.engine,
            key,
            Path(settings.data_dir) / "cache" / "segments",
            default_recordings_dir(settings),
        )
    dash_app = create_app(context)
    stop = threading.Event()
    context.socketio.start_background_task(watch_metrics, context, METRICS_WATCH_INTERVAL_S, stop)
    context.extras["inventory_watch"] = watch_inventory(context)
    incident_service.start_watch(context)  # deadlines and check-in incidents (each pass idempotent)
    rollcall_service.start_worker(context)  # each call decided once, whichever worker gets there first
    checkin_video_worker.start_worker(context)  # face checks of video check-ins (rows claimed one by one)
    return dash_app.server


class WebApplication(BaseApplication):
    """gunicorn run from the ``watchwall`` command, configured from its arguments alone."""

    def __init__(self, options: dict, site_path=None) -> None:
        self.options = options
        self.site_path = site_path
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return build_web_app(self.site_path)


def _positive(name: str, value: int) -> int:
    if value < 1:
        raise UserError(f"--{name} must be at least 1, got {value}")
    return value


def web_command(args) -> int:
    options = {
        "bind": f"{args.host}:{args.port}",
        "workers": _positive("workers", args.workers),
        "threads": _positive("threads", args.threads),
        "worker_class": "gthread",
        "timeout": 60,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "watchwall-web",
    }
    print(f"WatchWall web role on http://{args.host}:{args.port}/wall  (gunicorn, Ctrl-C stops)", flush=True)
    WebApplication(options, args.site).run()
    return 0
