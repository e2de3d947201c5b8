"""``watchwall onvif``, ``watchwall camera add|enable|disable|move|list`` and ``watchwall discover``.

Passwords are taken from an env var (``--password-env``) or the secrets file
(``--password-secret``), never from the command line, and never printed.
"""

from __future__ import annotations

import argparse
import json

from watchwall.cameras.credentials import credentials_reference, resolve
from watchwall.cameras.describe import CameraDescription, describe_camera
from watchwall.cameras.device import DEFAULT_TIMEOUT_S
from watchwall.cameras.discovery import DiscoveredDevice, discover
from watchwall.cameras.parsers import parse_address
from watchwall.config.redaction import redact_url
from watchwall.config.site import Credentials


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 300:
        raise argparse.ArgumentTypeError("give a timeout between 0 and 300 s")
    return value


def _add_credential_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", help="ONVIF user name")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--password-env", metavar="VAR", help="env var holding the password")
    group.add_argument("--password-secret", metavar="KEY", help="key of the password in the secrets file")
    parser.add_argument(
        "--timeout", type=_positive_seconds, default=DEFAULT_TIMEOUT_S, help="seconds per camera request"
    )


def _credentials(args) -> Credentials | None:
    return credentials_reference(args.user, args.password_env, args.password_secret)


def _secrets_file():
    from watchwall.config.settings import get_settings

    return get_settings().secrets_file


def _format_profile(role: str, item) -> str:
    profile = item.profile
    size = f"{profile.width}x{profile.height}" if profile.width and profile.height else "?"
    fps = f"{profile.fps:g} fps" if profile.fps else "? fps"
    bitrate = f"{profile.bitrate_kbps} kbit/s" if profile.bitrate_kbps else "? kbit/s"
    uri = redact_url(item.stream_uri) if item.stream_uri else "(no stream URI)"
    return (
        f"  {role:<5} {profile.token:<16} {profile.codec or '?':<6} {size:<10} {fps:<8} {bitrate:<12} {uri}"
    )


def print_description(description: CameraDescription) -> None:
    device = description.device
    print(f"camera    {description.host}:{description.port}")
    print(
        f"device    {device.manufacturer} {device.model} (firmware {device.firmware_version}, serial {device.serial_number})"
    )
    drift = description.clock_drift_s
    if drift is not None:
        side = "ahead of" if drift > 0 else "behind" if drift < 0 else "in step with"
        print(f"clock     {drift:+.1f} s (camera {side} this machine)")
    print(f"ptz       {'yes' if description.ptz_capable else 'no'}")
    print(f"snapshot  {redact_url(description.snapshot_uri) if description.snapshot_uri else '(none)'}")
    print("profiles")
    for index, item in enumerate(description.profiles):
        print(_format_profile("main" if index == 0 else "sub", item))
    for warning in description.warnings:
        print(f"warning   {warning}")


def run_onvif(args) -> int:
    host, port = parse_address(args.address)
    resolved = resolve(_credentials(args), _secrets_file())
    description = describe_camera(
        host,
        port,
        resolved.username if resolved else None,
        resolved.password if resolved else None,
        timeout=args.timeout,
    )
    if args.json:
        print(json.dumps(description.as_dict(), ensure_ascii=False, indent=2))
    else:
        print_description(description)
    return 0


def _inventory_engine():
    from watchwall.config.database import make_engine, upgrade
    from watchwall.config.settings import get_settings

    settings = get_settings()
    if settings.uses_default_database:
        settings.ensure_data_dir()
    url = settings.effective_database_url
    upgrade(url)
    return make_engine(url)


def _site_file():
    from watchwall.config.settings import get_settings
    from watchwall.config.site import load_site

    return load_site(get_settings().site)


def run_camera_add(args) -> int:
    from watchwall.cameras.inventory import NewCamera, add_camera

    host, port = parse_address(args.onvif)
    new = NewCamera(
        camera_id=args.id,
        centre=args.centre,
        room=args.room,
        name=args.name,
        host=host,
        port=port,
        username=args.user,
        password_env=args.password_env,
        password_secret=args.password_secret,
        transport=args.transport,
    )
    engine = _inventory_engine()
    try:
        row, _description = add_camera(
            engine, new, secrets_file=_secrets_file(), timeout=args.timeout, site=_site_file()
        )
    finally:
        engine.dispose()
    print(f"added camera {row.id} ({row.centre}/{row.room}) at {row.onvif_host}:{row.onvif_port}")
    print(f"  main      {redact_url(row.main_stream_uri) if row.main_stream_uri else '(none)'}")
    print(f"  sub       {redact_url(row.sub_stream_uri) if row.sub_stream_uri else '(none)'}")
    print(f"  snapshot  {redact_url(row.snapshot_uri) if row.snapshot_uri else '(none)'}")
    print(f"  ptz       {'yes' if row.ptz_capable else 'no'}")
    return 0


def run_camera_enable(args) -> int:
    from watchwall.cameras.inventory import set_enabled

    enabled = args.camera_command == "enable"
    engine = _inventory_engine()
    try:
        row = set_enabled(engine, args.id, enabled)
    finally:
        engine.dispose()
    print(f"camera {row.id} {'enabled' if enabled else 'disabled (its recordings stay)'}")
    return 0


def run_camera_move(args) -> int:
    from watchwall.cameras.inventory import move_camera

    host, port = parse_address(args.onvif)
    engine = _inventory_engine()
    try:
        row, _description = move_camera(
            engine, args.id, host=host, port=port, secrets_file=_secrets_file(), timeout=args.timeout
        )
    finally:
        engine.dispose()
    print(f"camera {row.id} now at {row.onvif_host}:{row.onvif_port}")
    print(f"  main      {redact_url(row.main_stream_uri) if row.main_stream_uri else '(none)'}")
    return 0


def run_camera_list(args) -> int:
    from watchwall.cameras.inventory import list_cameras

    engine = _inventory_engine()
    try:
        rows = list_cameras(engine, centre=args.centre)
    finally:
        engine.dispose()
    if args.json:
        fields = ("id", "centre", "room", "name", "onvif_host", "onvif_port", "username", "password_env")
        fields += (
            "password_secret",
            "main_stream_uri",
            "sub_stream_uri",
            "snapshot_uri",
            "ptz_capable",
            "transport",
            "enabled",
        )
        print(
            json.dumps(
                [
                    {
                        **{name: getattr(row, name) for name in fields},
                        "password_stored": bool(row.password_sealed),
                    }
                    for row in rows
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    for row in rows:
        state = "" if row.enabled else "  (disabled)"
        main = redact_url(row.main_stream_uri) if row.main_stream_uri else "-"
        print(f"{row.id:<20} {row.centre}/{row.room:<16} {row.onvif_host}:{row.onvif_port:<6} {main}{state}")
    return 0


def _format_found(device: DiscoveredDevice) -> str:
    name = device.name or "(no name)"
    hardware = ",".join(device.hardware) or "-"
    location = ",".join(device.locations) or "-"
    return f"{name:<24} {hardware:<16} {location:<20} {' '.join(device.xaddrs)}"


def run_discover(args) -> int:
    devices = discover(timeout=args.timeout, interface=args.interface)
    if args.json:
        print(json.dumps([device.as_dict() for device in devices], ensure_ascii=False, indent=2))
        return 0
    if not devices:
        print(f"no ONVIF camera answered within {args.timeout:g} s")
        return 0
    for device in devices:
        print(_format_found(device))
    return 0


def register(subparsers) -> None:
    onvif = subparsers.add_parser("onvif", help="show a camera's ONVIF device info, profiles and stream URIs")
    onvif.add_argument("address", metavar="HOST[:PORT]", help="ONVIF address (port 80 if omitted)")
    _add_credential_options(onvif)
    onvif.add_argument("--json", action="store_true", help="machine-readable output")
    onvif.set_defaults(func=run_onvif)

    camera = subparsers.add_parser("camera", help="the camera inventory")
    camera_commands = camera.add_subparsers(dest="camera_command", metavar="ACTION", required=True)
    add = camera_commands.add_parser("add", help="add a camera by ONVIF address (resolves its stream URIs)")
    add.add_argument("--centre", required=True, help="centre code, e.g. qinzhou")
    add.add_argument("--room", required=True, help="room code, e.g. checkin")
    add.add_argument("--id", required=True, help="camera id (lower-case code, unique)")
    add.add_argument("--name", required=True, help="display name")
    add.add_argument("--onvif", required=True, metavar="HOST[:PORT]", help="ONVIF address")
    add.add_argument(
        "--transport",
        choices=("auto", "tcp", "udp"),
        default="auto",
        help="how RTP comes from the camera: auto (TCP, then UDP if refused; default), tcp or udp",
    )
    _add_credential_options(add)
    add.set_defaults(func=run_camera_add)
    for action, text in (
        ("enable", "pull the camera again"),
        ("disable", "stop pulling it (recordings stay)"),
    ):
        toggle = camera_commands.add_parser(action, help=text)
        toggle.add_argument("id", help="camera id in the inventory")
        toggle.set_defaults(func=run_camera_enable)
    move = camera_commands.add_parser(
        "move", help="give a camera a new ONVIF address (stream URIs asked again)"
    )
    move.add_argument("id", help="camera id in the inventory")
    move.add_argument("--onvif", required=True, metavar="HOST[:PORT]", help="the new ONVIF address")
    move.add_argument(
        "--timeout", type=_positive_seconds, default=DEFAULT_TIMEOUT_S, help="seconds per camera request"
    )
    move.set_defaults(func=run_camera_move)
    listing = camera_commands.add_parser("list", help="list the inventory")
    listing.add_argument("--centre", help="only this centre")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=run_camera_list)

    scan = subparsers.add_parser("discover", help="WS-Discovery scan for ONVIF cameras on the local network")
    scan.add_argument("--timeout", type=_positive_seconds, default=3.0, help="seconds to wait for answers")
    scan.add_argument("--interface", help="interface name or IPv4 address to probe from")
    scan.add_argument("--json", action="store_true", help="machine-readable output")
    scan.set_defaults(func=run_discover)
