"""The cluster's tables: the nodes that run, and who owns each camera under which epoch.

Every time here is written by the DATABASE clock (``clock_timestamp()`` on PostgreSQL) and
compared with it, never with a node's own clock: nodes disagree about the time, the database
is one clock for all of them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from watchwall.config.database import Base


class ClusterNode(Base):
    """One running node: its name is the operator's, its instance id the running process's."""

    __tablename__ = "cluster_nodes"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    instance_id: Mapped[str] = mapped_column(String(36), nullable=False)  # uuid4 of the running process
    address: Mapped[str] = mapped_column(String(255), nullable=False)  # host:port it listens on
    county: Mapped[str | None] = mapped_column(String(63))
    max_cameras: Mapped[int] = mapped_column(Integer, nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    renewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # renewed_at + the node's TTL: alive while the database clock is before it
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class CameraLease(Base):
    """A camera's lease. ``epoch`` grows by one at every claim; writers are fenced on it."""

    __tablename__ = "camera_leases"

    camera_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(63), index=True)  # a cluster_nodes.name, or free
    epoch: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    renewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pinned_to: Mapped[str | None] = mapped_column(String(63))  # only this node may ever claim it
