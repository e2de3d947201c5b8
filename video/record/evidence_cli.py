"""``watchwall export``, ``watchwall verify`` and ``watchwall keys``: evidence for inspectors."""

from __future__ import annotations

import getpass
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.exc import OperationalError, ProgrammingError

from watchwall.config.errors import UserError
from watchwall.config.settings import get_settings
from watchwall.config.timestamps import local_text


def register(subparsers) -> None:
    export = subparsers.add_parser(
        "export", help="export a camera's recording over a time span as a signed evidence zip"
    )
    export.add_argument("--camera", required=True, help="camera id")
    export.add_argument(
        "--from", dest="start", required=True, help="ISO 8601 start; without an offset it is site-local time"
    )
    export.add_argument(
        "--to", dest="end", required=True, help="ISO 8601 end; without an offset it is site-local time"
    )
    export.add_argument("--out", required=True, type=Path, help="the zip to write (must not exist)")
    export.add_argument("--reason", help="why it is exported (kept in the manifest and the audit log)")
    export.add_argument("--user", help="who exports it (default: the login name)")
    export.set_defaults(func=export_command)

    verify = subparsers.add_parser(
        "verify", help="verify an evidence zip, or the recordings' hash chain on disk"
    )
    verify.add_argument(
        "package", nargs="?", type=Path, help="evidence zip made by `watchwall export`, or a report PDF"
    )
    verify.add_argument(
        "--trust-key",
        action="append",
        type=Path,
        default=[],
        metavar="PEM",
        help="also accept packages signed by this public key (repeatable)",
    )
    verify.add_argument("--recordings", action="store_true", help="walk the recordings' chain instead")
    verify.add_argument("--camera", help="with --recordings: only this camera")
    verify.add_argument(
        "--node",
        help="with --recordings on an ingest node of a cluster: the node's name (its files are checked)",
    )
    verify.set_defaults(func=verify_command)

    keys = subparsers.add_parser("keys", help="print the installation's evidence-signing public key")
    keys.set_defaults(func=keys_command)


def parse_instant(text: str, zone: ZoneInfo) -> float:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            f"{text!r} is not an ISO 8601 date and time (e.g. 2026-11-26T09:30:00+08:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.timestamp()


def camera_place(settings, camera_id: str) -> dict:
    """Centre and room of the camera from the site file; empty when the site does not know it."""
    from watchwall.config.site import load_site

    try:
        place = load_site(settings.site).camera(camera_id)
    except (KeyError, UserError, OSError, ValueError):
        return {}
    return {
        "name": place.camera.name.model_dump(),
        "centre": place.centre.code,
        "centre_name": place.centre.name.model_dump(),
        "room": place.room.code,
        "room_name": place.room.name.model_dump(),
    }


def _engine(settings):
    from watchwall.config.database import make_engine

    return make_engine(settings.effective_database_url)


def _schema_hint(exc: Exception) -> UserError:
    return UserError(f"the database has no recording index yet (run `watchwall db upgrade`): {exc.orig}")


def export_command(args) -> int:
    from watchwall.audit.listing import AuditLog  # the CLI is where the media plane meets the audit log
    from watchwall.video.record.export import export_clip
    from watchwall.video.record.segments import default_recordings_dir
    from watchwall.video.record.signing import load_or_create_signing_key

    settings = get_settings()
    zone = settings.zone
    start, end = parse_instant(args.start, zone), parse_instant(args.end, zone)
    out = args.out.expanduser()
    if out.exists():
        raise UserError(f"{out} exists; choose another --out")
    if not out.parent.is_dir():
        raise UserError(f"folder {out.parent} does not exist")
    engine = _engine(settings)
    try:
        result = export_clip(
            engine,
            default_recordings_dir(settings),
            args.camera,
            start,
            end,
            out,
            signing_key=load_or_create_signing_key(settings.ensure_data_dir()),
            zone=zone,
            user=args.user or getpass.getuser(),
            reason=args.reason,
            place=camera_place(settings, args.camera),
            audit=AuditLog(engine),
            address="cli",
            progress=None,
        )
    except (OperationalError, ProgrammingError) as exc:
        raise _schema_hint(exc) from exc
    finally:
        engine.dispose()
    actual = result.manifest["actual"]
    print(
        f"wrote {out}: {args.camera} {actual['start']['local']} .. {actual['end']['local']}, clip SHA-256 {result.clip_sha256}"
    )
    return 0


def verify_command(args) -> int:
    if args.recordings:
        return _verify_recordings(args)
    if args.package is None:
        raise UserError("give an evidence zip, or --recordings")
    if args.package.suffix.lower() == ".pdf":  # a supervision report and its signature beside it
        from watchwall.reports.cli import verify_report_command

        return verify_report_command(args)
    return _verify_package(args)


def _verify_package(args) -> int:
    from watchwall.video.record.signing import print_verdict, trusted_fingerprints
    from watchwall.video.record.verify import verify_package

    trusted = trusted_fingerprints(get_settings().data_dir, args.trust_key)
    if not args.package.is_file():
        raise UserError(f"{args.package} is not a file")
    return print_verdict(args.package, verify_package(args.package, trusted))


def _verify_recordings(args) -> int:
    from watchwall.video.record.segments import default_recordings_dir
    from watchwall.video.record.verify import verify_locks, verify_recordings

    settings = get_settings()
    engine = _engine(settings)
    recordings_dir = default_recordings_dir(settings)
    try:
        problems = verify_recordings(engine, recordings_dir, args.camera, node=args.node)
        locks = verify_locks(engine, recordings_dir, problems, args.camera)
    except (OperationalError, ProgrammingError) as exc:
        raise _schema_hint(exc) from exc
    finally:
        engine.dispose()
    scope = f"camera {args.camera}" if args.camera else "all cameras"
    if problems:
        print(f"recordings NOT intact ({scope}): {len(problems)} problem(s)")
        for problem in problems:
            print(f"  {problem}")
    else:
        print(f"recordings intact ({scope})")
    for check in locks:
        span = f"{local_text(check.start_utc, settings.zone)} .. {local_text(check.end_utc, settings.zone)}"
        if check.intact:
            print(f"locked span {check.lock_id} {check.camera_id} {span}: intact ({check.segments} segments)")
            continue
        print(f"locked span {check.lock_id} {check.camera_id} {span}: NOT intact")
        for problem in check.problems:
            print(f"  {problem}")
    return 1 if problems or not all(check.intact for check in locks) else 0


def keys_command(args) -> int:
    from watchwall.video.record.signing import (
        fingerprint,
        key_path,
        load_or_create_signing_key,
        public_key_pem,
    )

    settings = get_settings()
    key = load_or_create_signing_key(settings.ensure_data_dir())
    sys.stdout.write(public_key_pem(key).decode())
    print(f"SHA-256 fingerprint: {fingerprint(key)}")
    print(f"(private key: {key_path(settings.data_dir)})", file=sys.stderr)
    return 0
