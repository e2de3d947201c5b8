"""Inventory cameras say how RTP comes from them: auto (TCP, then UDP), tcp or udp.

Revision ID: 0006_camera_transport
Revises: 0012_segment_epoch
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_camera_transport"
down_revision = "0012_segment_epoch"  # chained after main's migrations in this merge
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("camera_inventory", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("transport", sa.String(length=8), nullable=False, server_default="auto")
        )
        batch_op.create_check_constraint(
            op.f("ck_camera_inventory_transport_known"), "transport IN ('auto', 'tcp', 'udp')"
        )


def downgrade() -> None:
    with op.batch_alter_table("camera_inventory", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_camera_inventory_transport_known"), type_="check")
        batch_op.drop_column("transport")
