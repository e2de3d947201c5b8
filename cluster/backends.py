"""What several nodes need: PostgreSQL (leases, index, audit) and Redis (state and push across processes).

``watchwall serve`` runs on SQLite and an in-process bus; a cluster role refuses to start
without both, with one line naming what is missing.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import redis
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from watchwall.config.database import redact_database_url
from watchwall.config.errors import UserError, first_line
from watchwall.config.settings import Settings

REDIS_TIMEOUT_S = 2.0


class ClusterBackendError(UserError):
    pass


def is_postgresql(database_url: str) -> bool:
    try:
        return make_url(database_url).get_backend_name() == "postgresql"
    except ArgumentError:
        return False


def require_postgresql(database_url: str) -> None:
    """Refuse a database that cannot hold leases (anything but PostgreSQL), in one line."""
    if not is_postgresql(database_url):
        raise ClusterBackendError(
            f"a cluster needs PostgreSQL, and the database is {redact_database_url(database_url)} "
            "(set WATCHWALL_DATABASE_URL=postgresql+psycopg://HOST/DB)"
        )


def redact_redis_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def redis_problem(url: str | None) -> str | None:
    """Why Redis at ``url`` cannot serve the cluster, or None when it answers PING."""
    if not url:
        return "no Redis URL is set (WATCHWALL_REDIS_URL=redis://HOST:6379/0)"
    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S
        )
    except ValueError as exc:
        return f"the Redis URL {redact_redis_url(url)!r} is not usable ({exc})"
    try:
        client.ping()
    except redis.RedisError as exc:
        reason = first_line(exc)
        return f"Redis at {redact_redis_url(url)} does not answer ({reason})"
    finally:
        client.close()
    return None


def require_cluster_backends(settings: Settings) -> None:
    """Refuse to run a cluster role unless the database is PostgreSQL and Redis answers."""
    problems: list[str] = []
    if not is_postgresql(settings.effective_database_url):
        problems.append(
            f"the database is {redact_database_url(settings.effective_database_url)}, not PostgreSQL "
            "(set WATCHWALL_DATABASE_URL=postgresql+psycopg://HOST/DB)"
        )
    redis_reason = redis_problem(settings.redis_url)
    if redis_reason:
        problems.append(redis_reason)
    if problems:
        raise ClusterBackendError("several nodes need PostgreSQL and Redis: " + "; ".join(problems))
