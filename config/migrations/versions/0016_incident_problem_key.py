"""One incident not closed per problem: a partial unique index on incidents.problem_key.

Two openers racing on the same problem (two web workers' watch, the intake and a roll-call) used to
be able to insert two rows; the second now fails on the index and the store returns the first
(``incidents.store``). Rows that already broke the rule are merged first: for each problem the
newest not-closed incident stays, older ones are closed as ``other`` with a note naming it.

Revision ID: 0016_incident_problem_key
Revises: 0013_rollcall
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0016_incident_problem_key"
down_revision = "0013_rollcall"
branch_labels = None
depends_on = None

INDEX = "uq_incidents_open_problem_key"
NOT_CLOSED = "state <> 'closed'"


def _close_duplicates() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            f"SELECT id, problem_key FROM incidents WHERE {NOT_CLOSED}"
            " AND problem_key IN (SELECT problem_key FROM incidents WHERE "
            f"{NOT_CLOSED} GROUP BY problem_key HAVING count(*) > 1) ORDER BY problem_key, id DESC"
        )
    ).all()
    kept: dict[str, int] = {}
    # stored as the models store times: naive UTC on SQLite, aware on PostgreSQL
    now = datetime.now(UTC)
    at = now.replace(tzinfo=None) if connection.dialect.name == "sqlite" else now
    for incident_id, key in rows:
        if key not in kept:
            kept[key] = incident_id
            continue
        connection.execute(
            sa.text(
                "UPDATE incidents SET state = 'closed', closed_at = :at,"
                " closed_by = 'system:migration', close_reason = 'other', close_note = :note,"
                " version = version + 1 WHERE id = :id"
            ),
            {"id": incident_id, "at": at, "note": f"duplicate of incident {kept[key]} (migration 0016)"},
        )


def upgrade() -> None:
    _close_duplicates()
    op.create_index(
        INDEX,
        "incidents",
        ["problem_key"],
        unique=True,
        postgresql_where=sa.text(NOT_CLOSED),
        sqlite_where=sa.text(NOT_CLOSED),
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="incidents")
