"""Self-service terminal figures: transactions by kind and by county over local days."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from watchwall.metrics.models import TerminalTransaction

Executor = Session | Connection


def _count_by(executor: Executor, column, first: date, last: date) -> dict[str, int]:
    query = (
        select(column, func.count())
        .where(TerminalTransaction.local_day.between(first, last))
        .group_by(column)
        .order_by(column)
    )
    return {key: int(count) for key, count in executor.execute(query)}


def transactions_by_kind(executor: Executor, first: date, last: date) -> dict[str, int]:
    return _count_by(executor, TerminalTransaction.kind, first, last)


def transactions_by_county(executor: Executor, first: date, last: date) -> dict[str, int]:
    return _count_by(executor, TerminalTransaction.county, first, last)
