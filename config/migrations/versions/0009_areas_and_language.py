"""Subjects' assigned areas (a radius around home or a polygon) and each user's chosen language.

Revision ID: 0009_areas_and_language
Revises: 0010_bookmarks_locks
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_areas_and_language"
down_revision = "0010_bookmarks_locks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subject_areas",
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("home_latitude", sa.Float(), nullable=True),
        sa.Column("home_longitude", sa.Float(), nullable=True),
        sa.Column("radius_m", sa.Float(), nullable=True),
        sa.Column("polygon", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('radius', 'polygon')", name=op.f("ck_subject_areas_kind")),
        sa.CheckConstraint(
            "(kind = 'radius' AND radius_m > 0 AND home_latitude IS NOT NULL AND home_longitude IS NOT NULL)"
            " OR (kind = 'polygon' AND polygon IS NOT NULL)",
            name=op.f("ck_subject_areas_shape"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_subject_areas_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_subject_areas")),
    )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("language")
    op.drop_table("subject_areas")
