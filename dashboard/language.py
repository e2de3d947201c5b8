"""The language a page speaks, remembered per user across pages and logins.

A page asked for with ``?lang=`` (the header's language switch) speaks that language, and the choice is
stored with the user (``users.language``); a page asked for without it speaks the user's stored choice,
else the site's default (``WATCHWALL_LANGUAGE``, zh-CN).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from watchwall.dashboard.accounts import User
from watchwall.dashboard.auth import current_principal
from watchwall.dashboard.context import current
from watchwall.dashboard.i18n import normalise


def stored_language(engine: Engine, username: str) -> str | None:
    with engine.connect() as connection:
        value = connection.execute(
            select(User.language).where(User.username == username)
        ).scalar_one_or_none()
    return normalise(value) if value else None


def remember_language(engine: Engine, username: str, language: str) -> None:
    """Store ``language`` as ``username``'s choice (no write when it is already stored)."""
    language = normalise(language)
    with engine.begin() as connection:
        connection.execute(
            update(User)
            .where(User.username == username, (User.language.is_(None)) | (User.language != language))
            .values(language=language)
        )


def page_language(requested: str | None) -> str:
    """The language of the page being built (see the module's docstring)."""
    context = current()
    principal = current_principal()
    if requested:
        language = normalise(requested)
        if principal is not None:
            remember_language(context.engine, principal.username, language)
        return language
    if principal is not None:
        stored = stored_language(context.engine, principal.username)
        if stored:
            return stored
    return normalise(context.settings.language)
