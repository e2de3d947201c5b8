"""Clients of the data-intake API and their tokens.

A token is ``ww_<token id>_<secret>``. The token id (random, 16 hex digits) finds the client's
row; the row keeps only the SHA-256 of the whole token, compared in constant time. The token
itself is shown once, when the client is added, and stored nowhere.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, Integer, String, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from watchwall.config.database import Base
from watchwall.config.errors import UserError

SCOPES = ("checkins", "cases")
TOKEN_PREFIX = "ww_"
TOKEN_PATTERN = re.compile(r"^ww_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")


class ApiClientError(UserError):
    pass


class ApiClient(Base):
    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    token_id: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)  # hex SHA-256 of the whole token
    scopes: Mapped[str] = mapped_column(String(128), nullable=False)  # comma-separated
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    use_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def scope_list(self) -> tuple[str, ...]:
        return tuple(scope for scope in self.scopes.split(",") if scope)


@dataclass(frozen=True)
class ApiCaller:
    """The client behind a request's token: what every scope decision is made on."""

    name: str
    scopes: tuple[str, ...]

    def may(self, scope: str) -> bool:
        return scope in self.scopes


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, str]:
    """(token id, token): a fresh random token and the id that finds its row."""
    token_id = secrets.token_hex(8)
    return token_id, f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"


def token_id_of(token: str) -> str | None:
    match = TOKEN_PATTERN.match(token)
    return match.group(1) if match else None


def token_matches(stored_hash: str, token: str) -> bool:
    return hmac.compare_digest(stored_hash, hash_token(token))


def _checked_scopes(scopes: list[str]) -> list[str]:
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise ApiClientError(f"unknown scope {', '.join(unknown)} (use {', '.join(SCOPES)})")
    if not scopes:
        raise ApiClientError(f"give at least one --scope ({', '.join(SCOPES)})")
    return [scope for scope in SCOPES if scope in scopes]


def add_client(engine: Engine, name: str, scopes: list[str]) -> tuple[ApiClient, str]:
    """Create a client; returns it and its token (the only time the token exists in clear)."""
    if not NAME_PATTERN.match(name):
        raise ApiClientError(f"client name {name!r}: use 2-64 letters, digits or . _ @ -")
    token_id, token = new_token()
    client = ApiClient(
        name=name,
        token_id=token_id,
        token_hash=hash_token(token),
        scopes=",".join(_checked_scopes(scopes)),
        active=True,
        created_at=datetime.now(UTC),
        use_count=0,
    )
    with Session(engine, expire_on_commit=False) as session:
        session.add(client)
        try:
            session.commit()
        except IntegrityError as exc:
            raise ApiClientError(f"API client {name!r} already exists") from exc
    return client, token


def list_clients(engine: Engine) -> list[ApiClient]:
    with Session(engine, expire_on_commit=False) as session:
        return list(session.execute(select(ApiClient).order_by(ApiClient.name)).scalars())


def revoke_client(engine: Engine, name: str) -> ApiClient:
    with Session(engine, expire_on_commit=False) as session:
        client = session.execute(select(ApiClient).where(ApiClient.name == name)).scalar_one_or_none()
        if client is None:
            raise ApiClientError(f"no API client named {name!r}")
        if client.active:
            client.active = False
            client.revoked_at = datetime.now(UTC)
            session.commit()
    return client


def authenticate_token(engine: Engine, token: str) -> ApiCaller | None:
    """The active client holding ``token`` (its use recorded), or None."""
    token_id = token_id_of(token)
    if token_id is None:
        return None
    with Session(engine) as session:
        client = session.execute(select(ApiClient).where(ApiClient.token_id == token_id)).scalar_one_or_none()
        if client is None or not client.active or not token_matches(client.token_hash, token):
            return None
        session.execute(
            update(ApiClient)
            .where(ApiClient.id == client.id)
            .values(last_used_at=datetime.now(UTC), use_count=ApiClient.use_count + 1)
        )
        session.commit()
        return ApiCaller(client.name, client.scope_list)
