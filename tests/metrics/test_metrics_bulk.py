"""Bulk-inserted rows read and compare exactly like rows written through SQLAlchemy."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import insert, select

from watchwall.metrics.bulk import bulk_insert
from watchwall.metrics.models import LocationCheck

COLUMNS = ("external_id", "subject_id", "county", "checked_at", "local_day", "slot", "method", "result")


def test_bulk_rows_match_rows_written_by_sqlalchemy(subjects_url, engine_for):
    engine = engine_for(subjects_url)
    moments = [datetime(2024, 5, 1, 0, 12, tzinfo=UTC), datetime(2024, 5, 1, 0, 12, 30, 250000, tzinfo=UTC)]
    with engine.begin() as connection:
        subject_id = connection.exec_driver_sql("SELECT min(id) FROM subjects").scalar_one()
        for n, moment in enumerate(moments):
            values = (
                f"orm-{n}",
                subject_id,
                "qinzhou",
                moment,
                date(2024, 5, 1),
                "morning",
                "dingtalk",
                "ok",
            )
            connection.execute(insert(LocationCheck), [dict(zip(COLUMNS, values, strict=True))])
            bulk_insert(connection, LocationCheck.__table__, COLUMNS, [(f"bulk-{n}", *values[1:])])
    with engine.connect() as connection:
        raw = dict(
            connection.exec_driver_sql(
                "SELECT external_id, CAST(checked_at AS TEXT) || CAST(local_day AS TEXT) FROM location_checks"
            ).all()
        )
        for n, moment in enumerate(moments):
            assert raw[f"bulk-{n}"] == raw[f"orm-{n}"]  # same stored form, so text comparisons agree
            read = (
                connection.execute(
                    select(LocationCheck.external_id)
                    .where(LocationCheck.checked_at == moment)
                    .order_by(LocationCheck.external_id)
                )
                .scalars()
                .all()
            )
            assert read == [f"bulk-{n}", f"orm-{n}"]
