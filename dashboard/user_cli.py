"""``watchwall user add|list``: dashboard accounts (no default password exists anywhere)."""

from __future__ import annotations

import getpass
import os
import sys

from watchwall.config.database import make_engine, upgrade
from watchwall.config.errors import UserError
from watchwall.config.settings import get_settings
from watchwall.config.site import load_site
from watchwall.dashboard.accounts import ROLES, AccountError, User, add_user


def register(subparsers) -> None:
    user = subparsers.add_parser("user", help="dashboard users and roles")
    actions = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="create a user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--county", action="append", default=[], help="county code (repeat for inspectors)")
    add.add_argument(
        "--password-env", metavar="VAR", help="read the password from this env var (else prompt)"
    )
    add.set_defaults(func=user_add)
    listing = actions.add_parser("list", help="list users")
    listing.set_defaults(func=user_list)


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


def user_add(args) -> int:
    settings, engine = _engine()
    counties = {centre.code for centre in load_site(settings.site).counties}
    add_user(engine, args.name, _password(args), args.role, args.county, counties)
    scope = f" for {', '.join(args.county)}" if args.county else ""
    print(f"user {args.name} added as {args.role}{scope}")
    return 0


def user_list(args) -> int:
    from sqlalchemy.orm import Session

    _settings, engine = _engine()
    with Session(engine) as session:
        for user in session.query(User).order_by(User.username):
            state = "" if user.active else "  (disabled)"
            print(f"{user.username}  {user.role}  {user.counties or '-'}{state}")
    return 0
