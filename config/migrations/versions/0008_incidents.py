"""Incidents: one row per continuing problem, its notes log and its linked evidence.

Revision ID: 0008_incidents
Revises: 0009_areas_and_language
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_incidents"
# chained after main's head when main was merged into this branch (asked: 0005_api_clients)
down_revision = "0009_areas_and_language"
branch_labels = None
depends_on = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("county", sa.String(length=32), nullable=False),
        sa.Column("centre", sa.String(length=32), nullable=True),
        sa.Column("room", sa.String(length=64), nullable=True),
        sa.Column("camera_id", sa.String(length=128), nullable=True),
        sa.Column("subject_ref", sa.String(length=64), nullable=True),
        sa.Column("problem_key", sa.String(length=200), nullable=False),
        sa.Column("opened_at", _utc(), nullable=False),
        sa.Column("last_seen_at", _utc(), nullable=False),
        sa.Column("acknowledged_at", _utc(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("handling_at", _utc(), nullable=True),
        sa.Column("closed_at", _utc(), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("close_reason", sa.String(length=32), nullable=True),
        sa.Column("close_note", sa.Text(), nullable=True),
        sa.Column("ack_deadline_at", _utc(), nullable=True),
        sa.Column("close_deadline_at", _utc(), nullable=True),
        sa.Column("escalated_at", _utc(), nullable=True),
        sa.Column("recovered_at", _utc(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index("ix_incidents_problem_key_opened", "incidents", ["problem_key", "opened_at"])
    op.create_index("ix_incidents_state_county", "incidents", ["state", "county"])
    op.create_index(op.f("ix_incidents_kind"), "incidents", ["kind"])
    op.create_index(op.f("ix_incidents_camera_id"), "incidents", ["camera_id"])
    op.create_index(op.f("ix_incidents_opened_at"), "incidents", ["opened_at"])
    op.create_table(
        "incident_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_notes_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_notes")),
    )
    op.create_index(op.f("ix_incident_notes_incident_id"), "incident_notes", ["incident_id"])
    op.create_table(
        "incident_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("camera_id", sa.String(length=128), nullable=True),
        sa.Column("start_at", _utc(), nullable=True),
        sa.Column("end_at", _utc(), nullable=True),
        sa.Column("ref", sa.String(length=512), nullable=True),
        sa.Column("added_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_evidence_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_evidence")),
    )
    op.create_index(op.f("ix_incident_evidence_incident_id"), "incident_evidence", ["incident_id"])


def downgrade() -> None:
    op.drop_table("incident_evidence")
    op.drop_table("incident_notes")
    op.drop_table("incidents")
