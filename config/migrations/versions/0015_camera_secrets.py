"""Camera passwords typed into /admin, sealed under the data dir's camera key (never in clear text).

Revision ID: 0015_camera_secrets
Revises: 0016_incident_problem_key
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_camera_secrets"
down_revision = "0016_incident_problem_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("camera_inventory") as batch:
        batch.add_column(sa.Column("password_sealed", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("camera_inventory") as batch:
        batch.drop_column("password_sealed")
