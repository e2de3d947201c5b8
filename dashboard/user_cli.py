"""``watchwall user add|list|passwd|disable|enable|remove``: dashboard accounts (no default password
exists anywhere). A new password, disabling and removing end every session of the user at once;
every change is written to the audit log as ``user_change`` by ``cli:<login name>``."""

from __future__ import annotations

import getpass
import os
import sys

from sqlalchemy.orm import Session

from watchwall.audit.listing import append
from watchwall.config.database import make_engine, upgrade
from watchwall.config.errors import UserError
from watchwall.config.settings import get_settings
from watchwall.config.site import load_site
from watchwall.dashboard.accounts import (
    ROLES,
    AccountError,
    User,
    add_user,
    remove_user,
    set_active,
    set_password,
)


def register(subparsers) -> None:
    user = subparsers.add_parser("user", help="dashboard users and roles")
    actions = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="create a user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--county", action="append", default=[], help="county code (repeat for inspectors)")
    _password_option(add)
    add.set_defaults(func=user_add)
    listing = actions.add_parser("list", help="list users")
    listing.set_defaults(func=user_list)
    passwd = actions.add_parser("passwd", help="set a user's password (ends the user's sessions)")
    passwd.add_argument("name")
    _password_option(passwd)
    passwd.set_defaults(func=user_passwd)
    for action, text in (
        ("disable", "disable a user (ends the user's sessions)"),
        ("enable", "enable a disabled user"),
        ("remove", "delete a user (ends the user's sessions)"),
    ):
        parser = actions.add_parser(action, help=text)
        parser.add_argument("name")
        parser.set_defaults(func=user_change, change=action)


def _password_option(parser) -> None:
    parser.add_argument(
        "--password-env", metavar="VAR", help="read the password from this env var (else prompt)"
    )


def _engine():
    settings = get_settings()
    settings.ensure_data_dir()
    url = settings.effective_database_url
    upgrade(url)
    return settings, make_engine(url)


def _password(args) -> str:
    if args.password_env:
        value = os.environ.get(args.password_env)
        if value is None:
            raise UserError(f"env var {args.password_env} is not set")
        return value
    if not sys.stdin.isatty():
        raise UserError("no terminal to prompt for the password: use --password-env VAR")
    first = getpass.getpass(f"password for {args.name}: ")
    if first != getpass.getpass("again: "):
        raise AccountError("the two passwords differ")
    return first


def _audit(engine, name: str, detail: dict) -> None:
    append(engine, actor=f"cli:{getpass.getuser()}"[:128], action="user_change", target=name, detail=detail)


def user_add(args) -> int:
    settings, engine = _engine()
    counties = {centre.code for centre in load_site(settings.site).counties}
    add_user(engine, args.name, _password(args), args.role, args.county, counties)
    _audit(engine, args.name, {"added": args.role, "county": ",".join(args.county) or None})
    scope = f" for {', '.join(args.county)}" if args.county else ""
    print(f"user {args.name} added as {args.role}{scope}")
    return 0


def user_passwd(args) -> int:
    _settings, engine = _engine()
    ended = set_password(engine, args.name, _password(args))
    _audit(engine, args.name, {"password": "changed", "sessions_ended": ended})
    print(f"password of {args.name} changed; {ended} session(s) ended")
    return 0


def user_change(args) -> int:
    _settings, engine = _engine()
    if args.change == "remove":
        ended = remove_user(engine, args.name)
    else:
        ended = set_active(engine, args.name, args.change == "enable")
    _audit(engine, args.name, {args.change + "d": True, "sessions_ended": ended})
    print(f"user {args.name} {args.change}d; {ended} session(s) ended")
    return 0


def user_list(args) -> int:
    _settings, engine = _engine()
    with Session(engine) as session:
        for user in session.query(User).order_by(User.username):
            state = "" if user.active else "  (disabled)"
            print(f"{user.username}  {user.role}  {user.counties or '-'}{state}")
    return 0
