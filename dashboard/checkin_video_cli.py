"""``watchwall checkins show EXTERNAL_ID [--json]``: one location check with its linked video and verdict."""

from __future__ import annotations

import json

from watchwall.config.database import make_engine
from watchwall.config.errors import UserError
from watchwall.config.settings import get_settings
from watchwall.dashboard.checkin_video_query import checkin_with_video


def register(subparsers) -> None:
    checkins = subparsers.add_parser("checkins", help="look at location checks")
    actions = checkins.add_subparsers(dest="checkins_action", metavar="ACTION", required=True)
    show = actions.add_parser(
        "show", help="one check, with its recorded span and face verdict if it named a camera"
    )
    show.add_argument("external_id", help="the check's id on its source system")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=show_command)


def show_command(args) -> int:
    engine = make_engine(get_settings().effective_database_url)
    try:
        check = checkin_with_video(engine, args.external_id)
    finally:
        engine.dispose()
    if check is None:
        raise UserError(f"no check-in with external id {args.external_id!r}")
    if args.json:
        print(json.dumps(check, ensure_ascii=False, indent=2))
        return 0
    print(f"{check['external_id']}  {check['checked_at']}  {check['county']}  {check['subject_name']}")
    print(f"  method {check['method']}, result {check['result']}, slot {check['local_day']} {check['slot']}")
    video = check["video"]
    if video is None:
        print("  video: none")
        return 0
    print(f"  video: camera {video['camera_id']}, {video['from']} .. {video['to']}, {video['state']}")
    if video["state"] == "done":
        verdict = "face present" if video["face_present"] else "NO FACE"
        print(
            f"  {verdict}: {video['frames_with_face']} of {video['frames_sampled']} frames"
            + (f" ({video['reason']})" if video["reason"] else "")
        )
        for digest in video["segment_hashes"]:
            print(f"  segment sha256 {digest}")
    return 0
