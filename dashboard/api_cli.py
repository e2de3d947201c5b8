"""``watchwall api-client add|list|revoke``: clients of the data-intake API and their tokens."""

from __future__ import annotations

import json

from sqlalchemy.exc import OperationalError, ProgrammingError

from watchwall.config.errors import UserError
from watchwall.config.settings import get_settings
from watchwall.dashboard.api_clients import SCOPES, ApiClient


def register(subparsers) -> None:
    clients = subparsers.add_parser("api-client", help="clients of the REST data-intake API and their tokens")
    actions = clients.add_subparsers(dest="api_client_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a client and print its token (shown this once only)")
    add.add_argument("name", help="client name, e.g. terminal-qinzhou-1 or platform")
    add.add_argument(
        "--scope",
        action="append",
        choices=SCOPES,
        required=True,
        help="what the client may post; repeat for several",
    )
    add.set_defaults(func=add_command)
    listing = actions.add_parser("list", help="clients, scopes, state and last use (never tokens)")
    listing.add_argument("--json", action="store_true", help="one JSON object a line")
    listing.set_defaults(func=list_command)
    revoke = actions.add_parser("revoke", help="disable a client's token for good")
    revoke.add_argument("name")
    revoke.set_defaults(func=revoke_command)


def _engine():
    from watchwall.config.database import make_engine

    return make_engine(get_settings().effective_database_url)


def _run(action):
    engine = _engine()
    try:
        return action(engine)
    except (OperationalError, ProgrammingError) as exc:
        raise UserError(
            f"no API client table in this database (run `watchwall db upgrade`): {exc.orig}"
        ) from exc
    finally:
        engine.dispose()


def add_command(args) -> int:
    from watchwall.dashboard.api_clients import add_client

    client, token = _run(lambda engine: add_client(engine, args.name, args.scope))
    print(f"API client {client.name!r} added with scope(s) {', '.join(client.scope_list)}.")
    print("Its token (shown this once; only its hash is stored):")
    print(token)
    print("Send it as the header  Authorization: Bearer <token>")
    return 0


def _as_dict(client: ApiClient) -> dict:
    def moment(value):
        return value.isoformat() if value else None

    return {
        "name": client.name,
        "scopes": list(client.scope_list),
        "active": client.active,
        "created_at": moment(client.created_at),
        "last_used_at": moment(client.last_used_at),
        "use_count": client.use_count,
        "revoked_at": moment(client.revoked_at),
    }


def list_command(args) -> int:
    from watchwall.dashboard.api_clients import list_clients

    rows = [_as_dict(client) for client in _run(list_clients)]
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    if not rows:
        print("no API clients (add one with `watchwall api-client add NAME --scope checkins`)")
        return 0
    for row in rows:
        state = "active" if row["active"] else f"revoked {row['revoked_at']}"
        used = (
            f"last used {row['last_used_at']} ({row['use_count']} requests)"
            if row["last_used_at"]
            else "never used"
        )
        print(f"{row['name']}: {','.join(row['scopes'])}; {state}; created {row['created_at']}; {used}")
    return 0


def revoke_command(args) -> int:
    from watchwall.dashboard.api_clients import revoke_client

    client = _run(lambda engine: revoke_client(engine, args.name))
    print(f"API client {client.name!r} revoked; its token no longer works.")
    return 0
