"""``watchwall probe`` and ``watchwall ingest``: the media plane from the command line."""

from __future__ import annotations

import json
import signal
import threading
from contextlib import contextmanager
from pathlib import Path

from watchwall.config.errors import UserError


class StreamProblem(UserError):
    """A stream that could not be probed; the message names the kind and the (redacted) URL."""

    exit_code = 3


def register(subparsers) -> None:
    probe = subparsers.add_parser("probe", help="open a stream once and measure it (codec, fps, keyframes)")
    probe.add_argument("url", help="rtsp://[user:password@]host[:port]/path, or a video file")
    probe.add_argument("--seconds", type=float, default=5.0, help="how long to read (default 5)")
    probe.add_argument("--json", action="store_true", help="print one JSON object")
    probe.add_argument(
        "--transport",
        choices=("auto", "tcp", "udp"),
        default="auto",
        help="RTP over the RTSP connection (tcp), over UDP, or auto: TCP, then UDP if refused (default)",
    )
    probe.set_defaults(func=run_probe)

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


def run_probe(args) -> int:
    from watchwall.video.ingest.probe import probe
    from watchwall.video.ingest.source_url import source_for_url
    from watchwall.video.ingest.stream_errors import StreamFailure

    source = source_for_url(args.url, transport=args.transport)
    try:
        result = probe(source, _positive(args.seconds))
    except StreamFailure as failure:
        raise StreamProblem(f"{failure.kind}: {failure.detail}") from failure
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
        return 0
    playable = "yes" if result.browser_playable else "no (needs transcoding for the browser)"
    lines = [
        ("url", result.url),
        ("read by", _route(result.path, result.transport)),
        ("codec", f"{result.codec} ({result.profile or 'unknown profile'})"),
        ("size", f"{result.width}x{result.height}"),
        ("fps", _number(result.fps)),
        ("bitrate", "-" if result.bitrate_bps is None else f"{result.bitrate_bps / 1000:.0f} kbit/s"),
        (
            "keyframe interval",
            _keyframe_interval(result.keyframe_interval_s, result.keyframe_interval_frames),
        ),
        ("open", f"{result.open_s:.2f} s"),
        (
            "first keyframe",
            "-" if result.time_to_first_keyframe_s is None else f"{result.time_to_first_keyframe_s:.2f} s",
        ),
        ("packets", f"{result.packets} in {result.seconds:.1f} s ({result.malformed_packets} malformed)"),
        ("browser playable", playable),
    ]
    for name, value in lines:
        print(f"{name + ':':<19}{value}")
    return 0


def _route(path: str | None, transport: str | None) -> str:
    name = {"native": "WatchWall's RTSP client", "ffmpeg": "FFmpeg"}.get(path or "", path or "-")
    return f"{name} over {transport.upper()}" if transport else name


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _keyframe_interval(seconds: float | None, frames: int | None) -> str:
    if seconds is None:
        return "- (fewer than two keyframes seen)"
    return f"{seconds:g} s ({frames} frames)"


def run_ingest(args) -> int:
    from watchwall.cameras.inventory_watch import pull_list_now, watch_inventory
    from watchwall.config.settings import get_settings
    from watchwall.config.site import load_site
    from watchwall.video.ingest.supervisor import IngestService

    settings = get_settings()
    seconds = _positive(args.seconds)
    site_file = load_site(args.site or settings.site)
    engine = _migrated_engine(settings)
    stamp, site = pull_list_now(site_file, engine)
    unknown = sorted(set(args.camera or ()) - {place.camera.id for place in site.cameras()})
    if unknown:
        engine.dispose()
        raise UserError(f"no camera {', '.join(unknown)} in {args.site or settings.site} or the inventory")
    service = IngestService(site, settings=settings, camera_ids=args.camera, keyframes=not args.no_thumbnails)
    if not service.places:
        engine.dispose()
        raise UserError(
            "no enabled camera to ingest" + (f" among {', '.join(args.camera)}" if args.camera else "")
        )
    recording = None
    if not args.no_record:  # into <data_dir>/recordings, indexed in the configured database
        from watchwall.video.record.recording_service import start_site_recording

        recording = start_site_recording(service, engine, settings, sink=service.sink)
    finished = threading.Event()
    watcher = None
    try:
        service.start()
        watcher = watch_inventory(engine, site_file, service, applied=stamp)
        with _stopped_by_sigterm(finished):
            finished.wait(seconds)
        snapshots = service.health()  # before stop(), after which every camera says "stopped"
    finally:
        if watcher is not None:
            watcher.stop()
        service.stop()
        if recording is not None:
            recording.stop()  # after the ingest: what was published is written, the open segments closed
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
    from watchwall.config.database import make_engine, upgrade

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
