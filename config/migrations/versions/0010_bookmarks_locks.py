"""Inspectors' evidence: bookmarks (with links from incidents and roll-call results) and evidence locks.

Revision ID: 0010_bookmarks_locks
Revises: 0007_sessions (the brief said 0005_api_clients; chained onto main's head after rebasing)
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_bookmarks_locks"
down_revision = "0007_sessions"
branch_labels = None
depends_on = None

EPOCH = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "bookmarks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("camera_id", sa.String(length=63), nullable=False),
        sa.Column("centre", sa.String(length=63), nullable=False),
        sa.Column("start_utc", EPOCH, nullable=False),
        sa.Column("end_utc", EPOCH, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("created_utc", EPOCH, nullable=False),
        sa.Column("updated_utc", EPOCH, nullable=True),
        sa.Column("updated_by", sa.String(length=128), nullable=True),
        sa.Column("deleted_utc", EPOCH, nullable=True),
        sa.Column("deleted_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookmarks")),
    )
    op.create_index("ix_bookmarks_camera_start", "bookmarks", ["camera_id", "start_utc"])
    op.create_index("ix_bookmarks_centre_start", "bookmarks", ["centre", "start_utc"])
    op.create_table(
        "bookmark_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bookmark_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=128), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_utc", EPOCH, nullable=False),
        sa.ForeignKeyConstraint(
            ["bookmark_id"], ["bookmarks.id"], name=op.f("fk_bookmark_links_bookmark_id_bookmarks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookmark_links")),
        sa.UniqueConstraint("bookmark_id", "kind", "ref", name="uq_bookmark_links_target"),
    )
    op.create_index("ix_bookmark_links_kind_ref", "bookmark_links", ["kind", "ref"])
    op.create_table(
        "evidence_locks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("start_utc", EPOCH, nullable=False),
        sa.Column("end_utc", EPOCH, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("expires_utc", EPOCH, nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_utc", EPOCH, nullable=False),
        sa.Column("released_utc", EPOCH, nullable=True),
        sa.Column("released_by", sa.String(length=128), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_locks")),
    )
    op.create_table(
        "evidence_lock_cameras",
        sa.Column("lock_id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.String(length=63), nullable=False),
        sa.Column("centre", sa.String(length=63), nullable=False),
        sa.ForeignKeyConstraint(
            ["lock_id"], ["evidence_locks.id"], name=op.f("fk_evidence_lock_cameras_lock_id_evidence_locks")
        ),
        sa.PrimaryKeyConstraint("lock_id", "camera_id", name=op.f("pk_evidence_lock_cameras")),
    )
    op.create_index("ix_evidence_lock_cameras_camera", "evidence_lock_cameras", ["camera_id"])


def downgrade() -> None:
    op.drop_index("ix_evidence_lock_cameras_camera", table_name="evidence_lock_cameras")
    op.drop_table("evidence_lock_cameras")
    op.drop_table("evidence_locks")
    op.drop_index("ix_bookmark_links_kind_ref", table_name="bookmark_links")
    op.drop_table("bookmark_links")
    op.drop_index("ix_bookmarks_centre_start", table_name="bookmarks")
    op.drop_index("ix_bookmarks_camera_start", table_name="bookmarks")
    op.drop_table("bookmarks")
