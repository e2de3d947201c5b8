"""Migration 0003 (recording index and audit log) goes up, down and up again, and matches the models."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from watchwall.config.database import alembic_config, import_all_models, make_engine, upgrade

OURS = {"recording_segments", "recording_gaps", "recording_holds", "audit_log", "audit_head"}


def test_up_down_up_and_no_drift(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "0002_camera_inventory")
    engine = make_engine(url)
    assert not OURS & set(inspect(engine).get_table_names())
    upgrade(url)
    assert OURS <= set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        drift = compare_metadata(MigrationContext.configure(connection), import_all_models())
    assert [d for d in drift if any(name in str(d) for name in OURS)] == []
    engine.dispose()
