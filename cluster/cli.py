"""``watchwall cluster status [--json]``: the nodes and who owns each camera, from PostgreSQL."""

from __future__ import annotations

import json

from sqlalchemy.exc import OperationalError, ProgrammingError

from watchwall.cluster.backends import require_postgresql
from watchwall.cluster.status import read_status, status_json, status_lines
from watchwall.config.database import make_engine
from watchwall.config.errors import UserError
from watchwall.config.settings import get_settings


def register(subparsers) -> None:
    cluster = subparsers.add_parser("cluster", help="several ingest nodes on PostgreSQL: leases and nodes")
    cluster_sub = cluster.add_subparsers(dest="cluster_command", metavar="ACTION", required=True)
    status = cluster_sub.add_parser(
        "status", help="every node (alive, address, last renewal, cameras) and every camera's owner and epoch"
    )
    status.add_argument("--json", action="store_true", help="one JSON document")
    status.set_defaults(func=status_command)


def status_command(args) -> int:
    settings = get_settings()
    url = settings.effective_database_url
    require_postgresql(url)
    engine = make_engine(url)
    try:
        status = read_status(engine)
    except (OperationalError, ProgrammingError) as exc:
        raise UserError(
            f"no cluster tables in this database (run `watchwall db upgrade`): {exc.orig}"
        ) from exc
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(status_json(status), ensure_ascii=False, indent=2))
    else:
        print("\n".join(status_lines(status, settings.zone)))
    return 0
