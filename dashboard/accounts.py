"""Users of the dashboard, their roles and counties, and password hashing (argon2id).

Changing a password, disabling or removing a user ends every session of that user
(:mod:`watchwall.dashboard.sessions`); sessions name the user by id, so a user created
later under a removed user's name never inherits a session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Boolean, DateTime, Integer, String, delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from watchwall.config.database import Base
from watchwall.config.errors import UserError
from watchwall.dashboard.sessions import WebSession, token_hash

ROLES = ("city_command", "county_supervisor", "inspector", "admin")
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()


class AccountError(UserError):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    counties: Mapped[str] = mapped_column(String(512), nullable=False, default="")  # comma-separated codes
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    language: Mapped[str | None] = mapped_column(String(8))  # the UI language last chosen; None: the site's


@dataclass(frozen=True)
class Principal:
    """Who is asking: what every access decision is made on."""

    username: str
    role: str
    counties: tuple[str, ...] = ()
    user_id: int | None = None

    @property
    def all_counties(self) -> bool:
        """City command and admins see every centre; so do inspectors with no assigned county."""
        return self.role in ("city_command", "admin") or (self.role == "inspector" and not self.counties)


def principal_of(user: User) -> Principal:
    counties = tuple(code for code in user.counties.split(",") if code)
    return Principal(user.username, user.role, counties, user.id)


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def check_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def validate_account(username: str, role: str, counties: list[str], known_counties: set[str]) -> None:
    if not USERNAME_PATTERN.match(username):
        raise AccountError(f"user name {username!r}: use 2-64 letters, digits or . _ @ -")
    if role not in ROLES:
        raise AccountError(f"role {role!r} is not one of {', '.join(ROLES)}")
    unknown = [code for code in counties if code not in known_counties]
    if unknown:
        raise AccountError(
            f"unknown county {', '.join(unknown)} (the site has {', '.join(sorted(known_counties))})"
        )
    if role == "county_supervisor" and len(counties) != 1:
        raise AccountError("a county_supervisor belongs to exactly one county: give --county CODE")
    if role in ("city_command", "admin") and counties:
        raise AccountError(f"a {role} sees every county; --county does not apply")


def add_user(
    engine: Engine, username: str, password: str, role: str, counties: list[str], known_counties: set[str]
) -> User:
    validate_account(username, role, counties, known_counties)
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        counties=",".join(counties),
        active=True,
        created_at=datetime.now(UTC),
    )
    with Session(engine, expire_on_commit=False) as session:
        session.add(user)
        try:
            session.commit()
        except IntegrityError as exc:
            raise AccountError(f"user {username!r} already exists") from exc
    return user


def authenticate(engine: Engine, username: str, password: str) -> Principal | None:
    """The user's principal if the password is right and the account active. The same argon2
    work is done for an unknown name, a disabled account and a wrong password, so the answer's
    time tells none of them apart."""
    with Session(engine) as session:
        user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        matches = check_password(user.password_hash if user is not None else _DUMMY_HASH, password)
        if user is None or not user.active or not matches:
            return None
        user.last_login_at = datetime.now(UTC)
        session.commit()
        return principal_of(user)


def _user(session: Session, username: str) -> User:
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise AccountError(f"no user {username!r}")
    return user


def set_password(engine: Engine, username: str, password: str) -> int:
    """A new password; every session of the user ends. Returns the number of sessions ended."""
    password_hash = hash_password(password)
    with Session(engine) as session:
        user = _user(session, username)
        user.password_hash = password_hash
        ended = end_user_sessions(session, user.id)
        session.commit()
    return ended


def set_active(engine: Engine, username: str, active: bool) -> int:
    """Enable or disable a user; disabling ends every session of the user."""
    with Session(engine) as session:
        user = _user(session, username)
        user.active = active
        ended = 0 if active else end_user_sessions(session, user.id)
        session.commit()
    return ended


def remove_user(engine: Engine, username: str) -> int:
    """Delete a user and every session of the user."""
    with Session(engine) as session:
        user = _user(session, username)
        ended = end_user_sessions(session, user.id)
        session.delete(user)
        session.commit()
    return ended


def end_user_sessions(session: Session, user_id: int) -> int:
    return session.execute(delete(WebSession).where(WebSession.user_id == user_id)).rowcount or 0


def principal_for_session(engine: Engine, token: str) -> Principal | None:
    """The active user of an unexpired session token, None otherwise."""
    with Session(engine) as session:
        user = session.execute(
            select(User)
            .join(WebSession, WebSession.user_id == User.id)
            .where(WebSession.token_hash == token_hash(token), WebSession.expires_at > datetime.now(UTC))
        ).scalar_one_or_none()
        return principal_of(user) if user is not None and user.active else None


def find_principal(engine: Engine, username: str) -> Principal | None:
    """The active account of that name, for commands that act as a dashboard user."""
    with Session(engine) as session:
        user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        return principal_of(user) if user is not None and user.active else None


def count_users(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.execute(select(User.id)).all())


_DUMMY_HASH = _hasher.hash("not a real password, only for timing")
