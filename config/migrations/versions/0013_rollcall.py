"""Roll-calls (视频点名): roll-calls, their calls per centre, and the scheduled plan of each day.

Revision ID: 0013_rollcall
Revises: 0014_checkin_video
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_rollcall"
# asked: 0008_incidents; chained after facecheck's 0014_checkin_video when that branch was merged in
down_revision = "0014_checkin_video"
branch_labels = None
depends_on = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "rollcalls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("countdown_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollcalls")),
    )
    op.create_index(op.f("ix_rollcalls_started_at"), "rollcalls", ["started_at"])
    op.create_table(
        "rollcall_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rollcall_id", sa.Integer(), nullable=False),
        sa.Column("county", sa.String(length=32), nullable=False),
        sa.Column("room", sa.String(length=64), nullable=True),
        sa.Column("camera_id", sa.String(length=128), nullable=False),
        sa.Column("called_at", _utc(), nullable=False),
        sa.Column("deadline_at", _utc(), nullable=False),
        sa.Column("answered_at", _utc(), nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.Column("clip_start_at", _utc(), nullable=False),
        sa.Column("clip_end_at", _utc(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=True),
        sa.Column("face_present", sa.Boolean(), nullable=True),
        sa.Column("frames_checked", sa.Integer(), nullable=True),
        sa.Column("frames_with_face", sa.Integer(), nullable=True),
        sa.Column("verdict_at", _utc(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("bookmark_id", sa.String(length=32), nullable=True),
        sa.Column("bookmark_tries", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rollcall_id"],
            ["rollcalls.id"],
            name=op.f("fk_rollcall_calls_rollcall_id_rollcalls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollcall_calls")),
    )
    op.create_index(op.f("ix_rollcall_calls_rollcall_id"), "rollcall_calls", ["rollcall_id"])
    op.create_index(op.f("ix_rollcall_calls_county"), "rollcall_calls", ["county"])
    op.create_index(op.f("ix_rollcall_calls_called_at"), "rollcall_calls", ["called_at"])
    op.create_index("ix_rollcall_calls_state_deadline", "rollcall_calls", ["state", "deadline_at"])
    op.create_table(
        "rollcall_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county", sa.String(length=32), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("due_at", _utc(), nullable=False),
        sa.Column("fired_at", _utc(), nullable=True),
        sa.Column("rollcall_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=200), nullable=True),
        sa.Column("skipped", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollcall_plans")),
        sa.UniqueConstraint("county", "day", "slot", name="uq_rollcall_plans_county_day_slot"),
    )
    op.create_index(op.f("ix_rollcall_plans_due_at"), "rollcall_plans", ["due_at"])


def downgrade() -> None:
    op.drop_table("rollcall_plans")
    op.drop_table("rollcall_calls")
    op.drop_table("rollcalls")
