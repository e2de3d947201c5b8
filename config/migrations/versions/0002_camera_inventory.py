"""The camera inventory (cameras/): cameras added by ONVIF address and their stream URIs.

Revision ID: 0002_camera_inventory
Revises: 0001_case_database
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_camera_inventory"
down_revision = "0001_case_database"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "camera_inventory",
        sa.Column("id", sa.String(length=63), nullable=False),
        sa.Column("centre", sa.String(length=63), nullable=False),
        sa.Column("room", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("onvif_host", sa.String(length=255), nullable=False),
        sa.Column("onvif_port", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=True),
        sa.Column("password_env", sa.String(length=128), nullable=True),
        sa.Column("password_secret", sa.String(length=128), nullable=True),
        sa.Column("manufacturer", sa.String(length=128), nullable=True),
        sa.Column("model", sa.String(length=128), nullable=True),
        sa.Column("serial_number", sa.String(length=128), nullable=True),
        sa.Column("main_stream_uri", sa.String(length=1024), nullable=True),
        sa.Column("sub_stream_uri", sa.String(length=1024), nullable=True),
        sa.Column("snapshot_uri", sa.String(length=1024), nullable=True),
        sa.Column("ptz_capable", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "onvif_port BETWEEN 1 AND 65535", name=op.f("ck_camera_inventory_onvif_port_range")
        ),
        sa.CheckConstraint(
            "NOT (password_env IS NOT NULL AND password_secret IS NOT NULL)",
            name=op.f("ck_camera_inventory_one_password_ref"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_camera_inventory")),
    )
    with op.batch_alter_table("camera_inventory", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_camera_inventory_centre"), ["centre"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("camera_inventory", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_camera_inventory_centre"))
    op.drop_table("camera_inventory")
