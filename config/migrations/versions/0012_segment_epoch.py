"""Recording segments carry the lease epoch they were written under and the node holding them.

Revision ID: 0012_segment_epoch
Revises: 0011_cluster
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_segment_epoch"
down_revision = "0011_cluster"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recording_segments") as batch:
        batch.add_column(sa.Column("epoch", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("node", sa.String(length=63), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recording_segments") as batch:
        batch.drop_column("node")
        batch.drop_column("epoch")
