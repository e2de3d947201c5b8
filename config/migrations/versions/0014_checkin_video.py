"""Video-verified check-ins: the method ``video`` and the table of linked spans and face verdicts.

Revision ID: 0014_checkin_video
Revises: 0008_incidents
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_checkin_video"
down_revision = "0008_incidents"
branch_labels = None
depends_on = None

OLD_METHODS = "method IN ('electronic', 'dingtalk', 'home_visit')"
NEW_METHODS = "method IN ('electronic', 'dingtalk', 'home_visit', 'video')"


def _big_key() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("location_checks") as batch:
        batch.drop_constraint(op.f("ck_location_checks_method"), type_="check")
        batch.create_check_constraint("method", NEW_METHODS)
    op.create_table(
        "checkin_video",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", _big_key(), nullable=False),
        sa.Column("check_external_id", sa.String(length=64), nullable=False),
        sa.Column("county", sa.String(length=32), nullable=False),
        sa.Column("camera_id", sa.String(length=63), nullable=False),
        sa.Column("span_start_utc", sa.Float(precision=53), nullable=False),
        sa.Column("span_end_utc", sa.Float(precision=53), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("due_utc", sa.Float(precision=53), nullable=False),
        sa.Column("give_up_utc", sa.Float(precision=53), nullable=False),
        sa.Column("claimed_utc", sa.Float(precision=53), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("checked_utc", sa.Float(precision=53), nullable=True),
        sa.Column("face_present", sa.Boolean(), nullable=True),
        sa.Column("frames_with_face", sa.Integer(), nullable=True),
        sa.Column("frames_sampled", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("segment_hashes", sa.Text(), nullable=True),
        sa.Column("snapshot_jpeg", sa.LargeBinary(), nullable=True),
        sa.Column("snapshot_utc", sa.Float(precision=53), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["location_checks.id"],
            name=op.f("fk_checkin_video_check_id_location_checks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_video")),
        sa.UniqueConstraint("check_id", name=op.f("uq_checkin_video_check_id")),
        sa.UniqueConstraint("check_external_id", name=op.f("uq_checkin_video_check_external_id")),
    )
    op.create_index("ix_checkin_video_state_due", "checkin_video", ["state", "due_utc"])
    op.create_index("ix_checkin_video_county_span", "checkin_video", ["county", "span_start_utc"])


def downgrade() -> None:
    op.drop_index("ix_checkin_video_county_span", table_name="checkin_video")
    op.drop_index("ix_checkin_video_state_due", table_name="checkin_video")
    op.drop_table("checkin_video")
    op.execute("DELETE FROM location_checks WHERE method = 'video'")
    with op.batch_alter_table("location_checks") as batch:
        batch.drop_constraint(op.f("ck_location_checks_method"), type_="check")
        batch.create_check_constraint("method", OLD_METHODS)
