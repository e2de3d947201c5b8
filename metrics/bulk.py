"""Fast bulk inserts: COPY on PostgreSQL, executemany in large batches elsewhere."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from itertools import islice

from sqlalchemy import Connection, DateTime, Table

BATCH_ROWS = 20_000


def sqlite_datetime_text(value: datetime | None) -> str | None:
    """The text SQLAlchemy's SQLite DateTime writes (and compares against): UTC, microseconds."""
    if value is None:
        return None
    naive = value.astimezone(UTC).replace(tzinfo=None)
    text = naive.isoformat(sep=" ")
    return text if naive.microsecond else text + ".000000"


def _datetime_positions(table: Table, columns: Sequence[str]) -> list[int]:
    return [
        i for i, name in enumerate(columns) if isinstance(table.c[name].type.dialect_impl(_SQLITE), DateTime)
    ]


def _sqlite_dialect():
    from sqlalchemy.dialects import sqlite

    return sqlite.dialect()


_SQLITE = _sqlite_dialect()


def bulk_insert(connection: Connection, table: Table, columns: Sequence[str], rows: Iterable[tuple]) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``; return how many.

    Datetimes must be aware; they are written as UTC.
    """
    dialect = connection.dialect.name
    count = 0
    cursor = connection.connection.driver_connection.cursor()
    if dialect == "postgresql":
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    if dialect != "sqlite":
        raise NotImplementedError(f"bulk insert into {dialect}")
    positions = _datetime_positions(table, columns)
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    iterator = iter(rows)
    while batch := list(islice(iterator, BATCH_ROWS)):
        if positions:
            batch = [list(row) for row in batch]
            for row in batch:
                for position in positions:
                    row[position] = sqlite_datetime_text(row[position])
        cursor.executemany(sql, batch)
        count += len(batch)
    return count
