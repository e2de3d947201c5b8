"""``watchwall db upgrade`` (Alembic) produces exactly the tables the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from watchwall.config.database import import_all_models
from watchwall.metrics.models import METRICS_TABLE_NAMES


def _metrics_only(obj, name, type_, reflected, compare_to) -> bool:
    table = name if type_ == "table" else obj.table.name
    return table in METRICS_TABLE_NAMES


def test_migrated_schema_equals_the_models(empty_url, engine_for):
    engine = engine_for(empty_url)
    assert METRICS_TABLE_NAMES <= set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": _metrics_only}
        )
        differences = compare_metadata(context, import_all_models())
    assert differences == []
