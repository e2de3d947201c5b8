"""Fast bulk inserts: COPY on PostgreSQL, executemany in large batches elsewhere."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from itertools import islice

from sqlalchemy import Connection, Date, DateTime, Table, TypeDecorator

BATCH_ROWS = 20_000


def sqlite_datetime_text(value: datetime | None) -> str | None:
    """The text SQLAlchemy's SQLite DateTime writes (and compares against): UTC, microseconds."""
    if value is None:
        return None
    naive = value.astimezone(UTC).replace(tzinfo=None)
    text = naive.isoformat(sep=" ")
    return text if naive.microsecond else text + ".000000"


def _sqlite_converters(table: Table, columns: Sequence[str]) -> list[tuple[int, Callable]]:
    """(position, converter) for the date and datetime columns, written as SQLAlchemy writes them."""
    converters = []
    for position, name in enumerate(columns):
        column_type = table.c[name].type
        if isinstance(column_type, TypeDecorator):
            column_type = column_type.impl_instance
        if isinstance(column_type, DateTime):
            converters.append((position, sqlite_datetime_text))
        elif isinstance(column_type, Date):
            converters.append((position, lambda day: None if day is None else day.isoformat()))
    return converters


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
    converters = _sqlite_converters(table, columns)
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    iterator = iter(rows)
    while batch := list(islice(iterator, BATCH_ROWS)):
        if converters:
            batch = [list(row) for row in batch]
            for row in batch:
                for position, convert in converters:
                    row[position] = convert(row[position])
        cursor.executemany(sql, batch)
        count += len(batch)
    return count
