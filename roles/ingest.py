"""``watchwall ingest``: the media plane of a site, headless, for a fixed time, then a report."""

from __future__ import annotations

import json
import signal
import threading
from contextlib import contextmanager
from pathlib import Path

from watchwall.cameras.inventory_watch import pull_list_now, watch_inventory
from watchwall.config.database import make_engine, upgrade
from watchwall.config.errors import UserError
from watchwall.config.settings import get_settings
from watchwall.config.site import load_site
from watchwall.roles.media_plane import build_media_plane


def register(subparsers) -> None:
    ingest = subparsers.add_parser("ingest", help="run the ingest of the site's cameras headless and report")
    ingest.add_argument("--site", type=Path, help="site file (default: the configured site)")
    ingest.add_argument("--seconds", type=float, default=10.0, help="how long to run (default 10)")
    ingest.add_argument("--json", action="store_true", help="print one JSON object")
    ingest.add_argument("--camera", action="append", help="only this camera id (repeatable)")
    ingest.add_argument("--no-record", action="store_true", help="do not record (recording is on by default)")
    ingest.add_argument("--no-thumbnails", action="store_true", help="do not decode keyframes")
    ingest.set_defaults(func=run_ingest)


def _positive(seconds: float) -> float:
    if not seconds > 0:
        raise UserError(f"--seconds must be positive, got {seconds}")
    return seconds


def run_ingest(args) -> int:
    settings = get_settings()
    seconds = _positive(args.seconds)
    site_file = load_site(args.site or settings.site)
    engine = _migrated_engine(settings)
    stamp, site = pull_list_now(site_file, engine)
    unknown = sorted(set(args.camera or ()) - {place.camera.id for place in site.cameras()})
    if unknown:
        engine.dispose()
        raise UserError(f"no camera {', '.join(unknown)} in {args.site or settings.site} or the inventory")
    # recording into <data_dir>/recordings, indexed in the configured database
    plane = build_media_plane(
        site,
        settings,
        engine,
        record=not args.no_record,
        camera_ids=args.camera,
        keyframes=not args.no_thumbnails,
    )
    service, recording = plane.ingest, plane.recording
    if not service.places:
        plane.stop()
        engine.dispose()
        raise UserError(
            "no enabled camera to ingest" + (f" among {', '.join(args.camera)}" if args.camera else "")
        )
    finished = threading.Event()
    watcher = None
    try:
        plane.start()
        watcher = watch_inventory(engine, site_file, service, applied=stamp)
        with _stopped_by_sigterm(finished):
            finished.wait(seconds)
        snapshots = service.health()  # before stop(), after which every camera says "stopped"
    finally:
        if watcher is not None:
            watcher.stop()
        plane.stop(recorder_timeout=10.0)
        engine.dispose()
    figures = recording.figures() if recording is not None else {}
    report = {
        camera_id: {
            "state": snapshot.state,
            "error_kind": snapshot.error_kind,
            "detail": snapshot.detail,
            "packets": snapshot.packets,
            "keyframes": snapshot.keyframes,
            "bytes": snapshot.bytes,
            "fps": snapshot.fps,
            "reconnects": snapshot.reconnects,
            "errors": snapshot.errors,
            "malformed_packets": snapshot.malformed_packets,
            "path": snapshot.path,
            "transport": snapshot.transport,
            "retry": snapshot.retry,
            "recorder": snapshot.recorder,
            "gaps": snapshot.gaps,
            "alarms": service.alarm_log(camera_id),
            "recording": figures.get(camera_id),
            "streams": snapshot.streams,  # "main", and "sub" when the camera has one
        }
        for camera_id, snapshot in snapshots.items()
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    for camera_id, row in report.items():
        state = row["state"] + (f" ({row['error_kind']}: {row['detail']})" if row["error_kind"] else "")
        print(
            f"{camera_id}: {state}; packets {row['packets']}, keyframes {row['keyframes']}, bytes {row['bytes']}, "
            f"reconnects {row['reconnects']}, errors {row['errors']}"
        )
        sub = row["streams"].get("sub")
        if sub is not None:
            size = f"{sub['width']}x{sub['height']}" if sub["width"] else "-"
            print(f"    sub stream: {sub['state']}; {sub['codec'] or '-'} {size}, packets {sub['packets']}")
        recorded = row["recording"]
        if recorded is not None:
            print(
                f"    recorded: segments {recorded['segments']}, bytes {recorded['bytes']}, "
                f"dropped {recorded['dropped']}, write errors {recorded['errors']}"
            )
        for gap in row["gaps"]:
            print(f"    gap {gap['start']} .. {gap['end'] or 'now'}")
        for alarm in row["alarms"]:
            print(f"    alarm {alarm['kind']} {alarm['start']} .. {alarm['end'] or 'active'}")
    return 0


def _migrated_engine(settings):
    """The configured database (migrated first): the inventory, and the recording index."""
    settings.ensure_data_dir()
    url = settings.effective_database_url
    upgrade(url)
    return make_engine(url)


@contextmanager
def _stopped_by_sigterm(finished: threading.Event):
    """SIGTERM (systemd, docker stop) ends the run like its time running out: segments closed cleanly."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda *_: finished.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
