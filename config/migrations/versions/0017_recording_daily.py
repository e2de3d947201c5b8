"""Per camera and day, the recorded seconds, bytes and segments: recording_daily.

The monthly report summed ~2 M segment rows; it now reads one row per camera and closed day,
computed once from the segments and kept. Triggers on recording_segments forget the rows of every
day a written, changed or deleted segment touches (the recorder, recovery and retention alike),
so a kept row always equals the direct sum and is computed again when next asked for.

Revision ID: 0017_recording_daily
Revises: 0015_camera_secrets
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_recording_daily"
down_revision = "0015_camera_secrets"
branch_labels = None
depends_on = None

# the days a segment row counts towards: those its [start, end) overlaps (end NULL: still open)
_FORGET = (
    "DELETE FROM recording_daily WHERE camera_id = {row}.camera_id"
    " AND day_end_utc > {row}.start_utc"
    " AND ({row}.end_utc IS NULL OR day_start_utc < {row}.end_utc)"
)
_COLUMNS = "camera_id, start_utc, end_utc, status, bytes"

SQLITE_TRIGGERS = (
    "CREATE TRIGGER recording_daily_forget_insert AFTER INSERT ON recording_segments"
    f" BEGIN {_FORGET.format(row='NEW')}; END",
    f"CREATE TRIGGER recording_daily_forget_update AFTER UPDATE OF {_COLUMNS} ON recording_segments"
    f" BEGIN {_FORGET.format(row='OLD')}; {_FORGET.format(row='NEW')}; END",
    "CREATE TRIGGER recording_daily_forget_delete AFTER DELETE ON recording_segments"
    f" BEGIN {_FORGET.format(row='OLD')}; END",
)
POSTGRES_FUNCTION = f"""
CREATE FUNCTION recording_daily_forget() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {_FORGET.format(row="OLD")};
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {_FORGET.format(row="NEW")};
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
POSTGRES_TRIGGER = (
    f"CREATE TRIGGER recording_daily_forget AFTER INSERT OR DELETE OR UPDATE OF {_COLUMNS}"
    " ON recording_segments FOR EACH ROW EXECUTE FUNCTION recording_daily_forget()"
)


def upgrade() -> None:
    op.create_table(
        "recording_daily",
        sa.Column("camera_id", sa.String(63), nullable=False),
        sa.Column("day_start_utc", sa.Float(precision=53), nullable=False),
        sa.Column("day_end_utc", sa.Float(precision=53), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("seconds", sa.Float(precision=53), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("camera_id", "day_start_utc"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS recording_daily_forget ON recording_segments")
        op.execute("DROP FUNCTION IF EXISTS recording_daily_forget()")
    else:
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS recording_daily_forget_{name}")
    op.drop_table("recording_daily")
