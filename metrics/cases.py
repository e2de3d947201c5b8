"""Case-volume figures: cases from the cross-department platform by type, month, agency, county."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from watchwall.metrics.localtime import month_key
from watchwall.metrics.models import Case

Executor = Session | Connection


def _count_by(executor: Executor, column, *conditions) -> dict[str, int]:
    query = select(column, func.count()).where(*conditions).group_by(column).order_by(column)
    return {key: int(count) for key, count in executor.execute(query)}


def cases_total(executor: Executor, case_type: str | None = None) -> int:
    query = select(func.count()).select_from(Case)
    if case_type is not None:
        query = query.where(Case.case_type == case_type)
    return int(executor.execute(query).scalar_one())


def cases_by_type(executor: Executor) -> dict[str, int]:
    return _count_by(executor, Case.case_type)


def cases_by_agency(executor: Executor) -> dict[str, int]:
    return _count_by(executor, Case.source_agency)


def cases_by_county(executor: Executor) -> dict[str, int]:
    return _count_by(executor, Case.county)


def cases_by_month(
    executor: Executor, first_month: str | None = None, last_month: str | None = None
) -> dict[str, int]:
    """Cases per local month ``YYYY-MM`` (inclusive bounds, optional)."""
    conditions = []
    if first_month is not None:
        conditions.append(Case.received_month >= first_month)
    if last_month is not None:
        conditions.append(Case.received_month <= last_month)
    return _count_by(executor, Case.received_month, *conditions)


def cases_this_month(executor: Executor, today: date) -> int:
    query = select(func.count()).select_from(Case).where(Case.received_month == month_key(today))
    return int(executor.execute(query).scalar_one())


def cases_by_month_and_type(
    executor: Executor, months: tuple[str, str], county: str | None = None
) -> dict[str, dict[str, int]]:
    """{case_type: {"YYYY-MM": n}} for local months in ``months`` (inclusive), of one county or all."""
    first_month, last_month = months
    query = (
        select(Case.case_type, Case.received_month, func.count())
        .where(Case.received_month >= first_month, Case.received_month <= last_month)
        .group_by(Case.case_type, Case.received_month)
    )
    if county is not None:
        query = query.where(Case.county == county)
    table: dict[str, dict[str, int]] = {}
    for case_type, month, count in executor.execute(query):
        table.setdefault(case_type, {})[month] = int(count)
    return table
