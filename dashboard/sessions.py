"""Server-side login sessions: the cookie carries a random token, the database its SHA-256.

A session names its user by id and ends at logout, at a password change, when the user is
disabled or removed (:mod:`watchwall.dashboard.accounts`), and after ``session_hours``. Only
the token's hash is stored, so a copy of the table logs no one in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, ForeignKey, Integer, String, delete
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from watchwall.config.database import Base

TOKEN_BYTES = 32


class WebSession(Base):
    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    address: Mapped[str | None] = mapped_column(String(64))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def open_session(engine: Engine, user_id: int, hours: float, address: str | None) -> str:
    """A new session of ``user_id``; returns the token for the cookie (never stored)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = datetime.now(UTC)
    with Session(engine) as session:
        session.execute(delete(WebSession).where(WebSession.expires_at <= now))
        session.add(
            WebSession(
                token_hash=token_hash(token),
                user_id=user_id,
                created_at=now,
                expires_at=now + timedelta(hours=hours),
                address=(address or "")[:64] or None,
            )
        )
        session.commit()
    return token


def end_session(engine: Engine, token: str) -> None:
    with Session(engine) as session:
        session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))
        session.commit()
