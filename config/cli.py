"""``watchwall site check`` and ``watchwall db upgrade``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from watchwall.config.settings import get_settings
from watchwall.config.site import SiteError, format_loc, load_site
from watchwall.config.yaml_lines import line_of, load_with_lines


def register(subparsers) -> None:
    site = subparsers.add_parser("site", help="inspect the site file")
    site_sub = site.add_subparsers(dest="site_command", metavar="ACTION", required=True)
    check = site_sub.add_parser("check", help="validate a site file and list its centres, rooms and cameras")
    check.add_argument(
        "file", nargs="?", type=Path, help="site file (default: WATCHWALL_SITE or the demo site)"
    )
    check.add_argument("--json", action="store_true", help="print JSON")
    check.add_argument("--language", choices=["zh-CN", "en"], help="names in this language")
    check.add_argument(
        "--probe",
        action="store_true",
        help="also open both streams of each camera with a sub_rtsp and refuse a sub stream larger than the main",
    )
    check.set_defaults(func=site_check)

    db = subparsers.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply the schema migrations (Alembic)")
    upgrade.add_argument("--revision", default="head")
    upgrade.set_defaults(func=db_upgrade)


def site_check(args) -> int:
    settings = get_settings()
    path = args.file or settings.site
    site = load_site(path)
    if args.probe:
        _check_stream_pairs(path, site, settings.secrets_file)
    language = args.language or settings.language
    if args.json:
        print(json.dumps(_site_summary(site), ensure_ascii=False, indent=2))
        return 0
    cameras = 0
    print(f"{path}: valid")
    for centre in site.centres:
        print(f"{centre.code}  {centre.name.get(language)}  ({centre.level}, {len(centre.rooms)} rooms)")
        for room in centre.rooms:
            print(f"  {room.code}  {room.name.get(language)}")
            for camera in room.cameras:
                cameras += 1
                flags = "" if camera.enabled else "  [disabled]"
                user = f"  user={camera.credentials.username}" if camera.credentials else ""
                print(
                    f"    {camera.id}  {camera.name.get(language)}  {camera.redacted_source()}{user}{flags}"
                )
    print(f"{len(site.centres)} centres, {sum(len(c.rooms) for c in site.centres)} rooms, {cameras} cameras")
    return 0


def _check_stream_pairs(path: Path, site, secrets_file) -> None:
    """What only the network can tell: each sub stream's picture against its main one's.

    The ingest makes the same check on every camera once both streams have sent their
    parameter sets (video.ingest.stream_pair), and leaves a larger sub stream unused."""
    from watchwall.video.ingest.stream_pair import probe_stream_pairs  # opens RTSP: only with --probe

    _data, lines = load_with_lines(path)
    problems = probe_stream_pairs(site, secrets_file)
    for problem in problems:
        if not problem.refused:
            print(f"{path}:{line_of(lines, problem.at) or 1}: warning: {problem.message}", file=sys.stderr)
    refused = [
        f"{path}:{line_of(lines, problem.at) or 1}: {format_loc(problem.at)}: {problem.message}"
        for problem in problems
        if problem.refused
    ]
    if refused:
        raise SiteError("\n".join(refused))


def _site_summary(site) -> dict:
    return {
        "centres": [
            {
                "code": centre.code,
                "name": centre.name.model_dump(),
                "level": centre.level,
                "rooms": [
                    {
                        "code": room.code,
                        "name": room.name.model_dump(),
                        "cameras": [
                            {
                                "id": camera.id,
                                "name": camera.name.model_dump(),
                                "source": camera.redacted_source(),
                                "username": camera.credentials.username if camera.credentials else None,
                                "enabled": camera.enabled,
                            }
                            for camera in room.cameras
                        ],
                    }
                    for room in centre.rooms
                ],
            }
            for centre in site.centres
        ]
    }


def db_upgrade(args) -> int:
    from watchwall.config.database import redact_database_url, upgrade

    settings = get_settings()
    settings.ensure_data_dir()
    url = settings.effective_database_url
    upgrade(url, args.revision)
    print(f"{redact_database_url(url)}: schema at {args.revision}")
    return 0
