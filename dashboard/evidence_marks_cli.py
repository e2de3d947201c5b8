"""``watchwall bookmark add|list|edit|delete`` and ``watchwall lock add|list|remove``.

The CLI acts as a dashboard account (``--user``, default the login name) under the same rules
as the page (dashboard/evidence_marks.py): the account must exist and see the camera's centre,
only an admin unlocks. Every change is audited with the address ``cli``.
"""

from __future__ import annotations

import getpass
import json
import time

from watchwall.audit.log import AuditLog
from watchwall.cameras.pull_list import cameras_to_pull
from watchwall.config.database import make_engine
from watchwall.config.errors import UserError
from watchwall.config.settings import get_settings
from watchwall.config.site import load_site
from watchwall.config.timestamps import local_text
from watchwall.dashboard import evidence_marks
from watchwall.dashboard.accounts import find_principal
from watchwall.video.record.bookmarks import CATEGORIES
from watchwall.video.record.evidence_cli import parse_instant

CLI_ADDRESS = "cli"


def register(subparsers) -> None:
    bookmark = subparsers.add_parser("bookmark", help="bookmarks on the recordings (what an inspector found)")
    actions = bookmark.add_subparsers(dest="bookmark_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="mark an instant (--at) or a span (--from/--to) of one camera")
    add.add_argument("--camera", required=True)
    add.add_argument("--at", help="ISO 8601 instant (without an offset: site-local time)")
    add.add_argument("--from", dest="start", help="ISO 8601 start of a span")
    add.add_argument("--to", dest="end", help="ISO 8601 end of a span")
    add.add_argument("--title", required=True)
    add.add_argument("--note", default="")
    add.add_argument("--category", required=True, choices=CATEGORIES)
    _user_argument(add)
    add.set_defaults(func=bookmark_add)

    listing = actions.add_parser("list", help="search bookmarks by county, camera, author, category, dates")
    listing.add_argument("--county", help="centre code")
    listing.add_argument("--camera")
    listing.add_argument("--author")
    listing.add_argument("--category", choices=CATEGORIES)
    listing.add_argument("--from", dest="start", help="ISO 8601: bookmarks ending at or after it")
    listing.add_argument("--to", dest="end", help="ISO 8601: bookmarks starting before it")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    _user_argument(listing)
    listing.set_defaults(func=bookmark_list)

    edit = actions.add_parser("edit", help="change a bookmark's title, note or category")
    edit.add_argument("id")
    edit.add_argument("--title")
    edit.add_argument("--note")
    edit.add_argument("--category", choices=CATEGORIES)
    _user_argument(edit)
    edit.set_defaults(func=bookmark_edit)

    delete = actions.add_parser("delete", help="take a bookmark off the timeline (its record stays)")
    delete.add_argument("id")
    _user_argument(delete)
    delete.set_defaults(func=bookmark_delete)

    lock = subparsers.add_parser("lock", help="evidence locks: spans retention never deletes")
    lock_actions = lock.add_subparsers(dest="lock_command", metavar="ACTION", required=True)
    lock_add = lock_actions.add_parser("add", help="lock a span of one or more cameras")
    lock_add.add_argument("--camera", action="append", required=True, help="camera id (repeatable)")
    lock_add.add_argument("--from", dest="start", required=True, help="ISO 8601 start")
    lock_add.add_argument("--to", dest="end", required=True, help="ISO 8601 end")
    lock_add.add_argument("--reason", required=True)
    lock_add.add_argument("--expires", help="ISO 8601 expiry (default: until an admin unlocks)")
    _user_argument(lock_add)
    lock_add.set_defaults(func=lock_add_command)

    lock_list = lock_actions.add_parser("list", help="the active locks (--all: with unlocked and expired)")
    lock_list.add_argument("--all", action="store_true")
    lock_list.add_argument("--camera")
    lock_list.add_argument("--json", action="store_true", help="one JSON object per line")
    _user_argument(lock_list)
    lock_list.set_defaults(func=lock_list_command)

    lock_remove = lock_actions.add_parser("remove", help="unlock (administrators only, with a reason)")
    lock_remove.add_argument("id")
    lock_remove.add_argument("--reason", required=True)
    _user_argument(lock_remove)
    lock_remove.set_defaults(func=lock_remove_command)


def _user_argument(parser) -> None:
    parser.add_argument("--user", help="the dashboard account acting (default: the login name)")


class _Run:
    """Settings, database, site (with the inventory) and the acting account of one command."""

    def __init__(self, args) -> None:
        self.settings = get_settings()
        self.engine = make_engine(self.settings.effective_database_url)
        try:
            self.site = cameras_to_pull(load_site(self.settings.site), self.engine)
            username = args.user or getpass.getuser()
            principal = find_principal(self.engine, username)
            if principal is None:
                raise UserError(f"no active dashboard account {username!r}: give --user NAME")
        except BaseException:
            self.engine.dispose()
            raise
        self.principal = principal
        self.audit = AuditLog(self.engine)

    def instant(self, text: str | None) -> float | None:
        return None if text is None else parse_instant(text, self.settings.zone)

    def local(self, epoch: float | None) -> str:
        if epoch is None:
            return "-"
        return local_text(epoch, self.settings.zone)

    def __enter__(self) -> _Run:
        return self

    def __exit__(self, *_exc) -> None:
        self.engine.dispose()


def bookmark_add(args) -> int:
    with _Run(args) as run:
        if args.at is not None and (args.start or args.end):
            raise UserError("give either --at or --from/--to")
        if args.at is None and not (args.start and args.end):
            raise UserError("give --at for an instant, or both --from and --to for a span")
        start = run.instant(args.at if args.at is not None else args.start)
        end = None if args.at is not None else run.instant(args.end)
        bookmark = evidence_marks.add_bookmark(
            run.engine,
            run.site,
            run.principal,
            camera_id=args.camera,
            start_utc=start,
            end_utc=end,
            title=args.title,
            note=args.note,
            category=args.category,
            audit=run.audit,
            address=CLI_ADDRESS,
        )
        print(f"bookmark {bookmark.id} on {bookmark.camera_id} at {run.local(bookmark.start_utc)}")
    return 0


def bookmark_list(args) -> int:
    with _Run(args) as run:
        found = evidence_marks.search_bookmarks(
            run.engine,
            run.site,
            run.principal,
            county=args.county,
            camera_id=args.camera,
            author=args.author,
            category=args.category,
            from_utc=run.instant(args.start),
            to_utc=run.instant(args.end),
        )
        for bookmark in found:
            if args.json:
                print(json.dumps(bookmark.as_dict(), ensure_ascii=False, sort_keys=True))
                continue
            span = run.local(bookmark.start_utc)
            if not bookmark.is_instant:
                span += f" .. {run.local(bookmark.end_utc)}"
            print(
                f"{bookmark.id}  {bookmark.centre}/{bookmark.camera_id}  {span}  [{bookmark.category}]"
                f"  {bookmark.title}  ({bookmark.author})"
            )
        if not found and not args.json:
            print("no bookmarks")
    return 0


def bookmark_edit(args) -> int:
    with _Run(args) as run:
        bookmark = evidence_marks.edit_bookmark(
            run.engine,
            run.principal,
            args.id,
            title=args.title,
            note=args.note,
            category=args.category,
            audit=run.audit,
            address=CLI_ADDRESS,
        )
        print(f"bookmark {bookmark.id} changed")
    return 0


def bookmark_delete(args) -> int:
    with _Run(args) as run:
        bookmark = evidence_marks.delete_bookmark(
            run.engine, run.principal, args.id, audit=run.audit, address=CLI_ADDRESS
        )
        print(f"bookmark {bookmark.id} deleted")
    return 0


def lock_add_command(args) -> int:
    with _Run(args) as run:
        lock = evidence_marks.add_lock(
            run.engine,
            run.site,
            run.principal,
            camera_ids=args.camera,
            start_utc=run.instant(args.start),
            end_utc=run.instant(args.end),
            reason=args.reason,
            expires_utc=run.instant(args.expires),
            audit=run.audit,
            address=CLI_ADDRESS,
        )
        print(
            f"lock {lock.id} on {', '.join(lock.cameras)}: {run.local(lock.start_utc)} .. "
            f"{run.local(lock.end_utc)}, expires {run.local(lock.expires_utc) if lock.expires_utc else 'never'}"
        )
    return 0


def lock_list_command(args) -> int:
    with _Run(args) as run:
        found = evidence_marks.list_locks(
            run.engine, run.site, run.principal, camera_id=args.camera, include_inactive=args.all
        )
        for lock in found:
            if args.json:
                print(json.dumps({**lock.__dict__, "cameras": list(lock.cameras)}, ensure_ascii=False))
                continue
            state = "locked" if lock.active(time.time()) else "expired"
            if lock.released_utc:
                state = f"unlocked by {lock.released_by}: {lock.release_reason}"
            print(
                f"{lock.id}  {','.join(lock.cameras)}  {run.local(lock.start_utc)} .. {run.local(lock.end_utc)}"
                f"  expires {run.local(lock.expires_utc) if lock.expires_utc else 'never'}  {state}"
                f"  ({lock.created_by}: {lock.reason})"
            )
        if not found and not args.json:
            print("no locks")
    return 0


def lock_remove_command(args) -> int:
    with _Run(args) as run:
        lock = evidence_marks.remove_lock(
            run.engine, run.principal, args.id, reason=args.reason, audit=run.audit, address=CLI_ADDRESS
        )
        print(f"lock {lock.id} removed; its span is subject to retention again")
    return 0
