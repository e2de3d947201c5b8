"""The cluster (cluster/): running nodes and camera leases with a fencing epoch.

Revision ID: 0011_cluster
Revises: 0005_api_clients
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_cluster"
down_revision = "0005_api_clients"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cluster_nodes",
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("county", sa.String(length=63), nullable=True),
        sa.Column("max_cameras", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cluster_nodes")),
    )
    op.create_table(
        "camera_leases",
        sa.Column("camera_id", sa.String(length=63), nullable=False),
        sa.Column("owner", sa.String(length=63), nullable=True),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pinned_to", sa.String(length=63), nullable=True),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_camera_leases")),
    )
    op.create_index(op.f("ix_camera_leases_owner"), "camera_leases", ["owner"])


def downgrade() -> None:
    op.drop_index(op.f("ix_camera_leases_owner"), table_name="camera_leases")
    op.drop_table("camera_leases")
    op.drop_table("cluster_nodes")
