"""Throwaway PostgreSQL databases on the real server at 127.0.0.1:5432, for every test package.

One server handle per test session (the root conftest's ``postgres`` fixture): it creates
databases (empty, or copied from a template migrated once), empties one by truncation, and drops
everything it created when the session ends.
"""

from __future__ import annotations

import itertools
import os

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine

from watchwall.config.database import make_engine, upgrade

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
ADMIN_URL = f"{PG_SERVER}/postgres"


class PostgresServer:
    def __init__(self) -> None:
        self.admin: Engine = create_engine(
            ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
        )
        self._names = itertools.count(1)
        self.created: list[str] = []
        self._template: str | None = None

    def check(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(text("SELECT 1"))

    def create(self, prefix: str = "ww_test", template: str | None = None) -> str:
        """A new database's URL: empty, or a copy of ``template``."""
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        clause = f' TEMPLATE "{template}"' if template else ""
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        self.created.append(name)
        return f"{PG_SERVER}/{name}"

    def migrated(self, prefix: str = "ww_test") -> str:
        """A fresh database with the whole schema, copied from a template migrated once a session."""
        if self._template is None:
            url = self.create("ww_template")
            upgrade(url)
            self._template = url.rsplit("/", 1)[1]
        return self.create(prefix, template=self._template)

    @staticmethod
    def empty(url: str) -> str:
        """Every table of a migrated database emptied (much faster than a new database)."""
        engine = make_engine(url)
        try:
            tables = [name for name in inspect(engine).get_table_names() if name != "alembic_version"]
            with engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        finally:
            engine.dispose()
        return url

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.created:
            self.created.remove(name)

    def drop_all(self) -> None:
        with self.admin.connect() as connection:
            for name in reversed(self.created):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.created.clear()
        self.admin.dispose()
