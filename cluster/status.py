"""The cluster as the database sees it now: nodes (alive by the database clock) and camera leases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.engine import Engine

from watchwall.cluster.backends import require_postgresql
from watchwall.config.timestamps import local_text, optional_utc_iso, utc_iso

NODES = text(
    """
    SELECT name, instance_id, address, county, max_cameras, started_at, renewed_at,
           expires_at > clock_timestamp() AS alive
      FROM cluster_nodes ORDER BY name
    """
)
LEASES = text(
    """
    SELECT camera_id, owner, epoch, pinned_to, expires_at,
           (owner IS NOT NULL AND expires_at > clock_timestamp()) AS live
      FROM camera_leases ORDER BY camera_id
    """
)

OWNED, EXPIRED, FREE, PINNED = "owned", "expired", "free", "pinned"


@dataclass(frozen=True)
class NodeStatus:
    name: str
    instance_id: str
    address: str
    county: str | None
    max_cameras: int
    alive: bool
    started_at: datetime
    last_renewal: datetime
    cameras: tuple[str, ...]


@dataclass(frozen=True)
class CameraStatus:
    camera_id: str
    owner: str | None
    epoch: int
    state: str  # owned / expired / free / pinned
    live: bool  # the lease has not expired by the database clock
    pinned_to: str | None
    expires_at: datetime | None


@dataclass(frozen=True)
class ClusterStatus:
    nodes: tuple[NodeStatus, ...]
    cameras: tuple[CameraStatus, ...]


def camera_state(owner: str | None, live: bool, pinned_to: str | None) -> str:
    """``pinned`` (recorded only by its node, even through an outage), else owned / expired / free."""
    if pinned_to is not None:
        return PINNED
    if owner is None:
        return FREE
    return OWNED if live else EXPIRED


def read_status(engine: Engine) -> ClusterStatus:
    require_postgresql(engine.url.render_as_string(hide_password=True))
    with engine.connect() as connection:
        node_rows = connection.execute(NODES).all()
        lease_rows = connection.execute(LEASES).all()
    cameras = tuple(
        CameraStatus(
            row.camera_id,
            row.owner,
            row.epoch,
            camera_state(row.owner, bool(row.live), row.pinned_to),
            bool(row.live),
            row.pinned_to,
            row.expires_at,
        )
        for row in lease_rows
    )
    nodes = tuple(
        NodeStatus(
            row.name,
            row.instance_id,
            row.address,
            row.county,
            row.max_cameras,
            bool(row.alive),
            row.started_at,
            row.renewed_at,
            tuple(
                camera.camera_id
                for camera in cameras
                if camera.owner == row.name and (camera.live or camera.pinned_to == row.name)
            ),
        )
        for row in node_rows
    )
    return ClusterStatus(nodes, cameras)


def status_json(status: ClusterStatus) -> dict:
    return {
        "nodes": [
            {
                "name": node.name,
                "alive": node.alive,
                "address": node.address,
                "county": node.county,
                "max_cameras": node.max_cameras,
                "instance_id": node.instance_id,
                "started_at": utc_iso(node.started_at),
                "last_renewal": utc_iso(node.last_renewal),
                "cameras": list(node.cameras),
            }
            for node in status.nodes
        ],
        "cameras": {
            camera.camera_id: {
                "owner": camera.owner,
                "epoch": camera.epoch,
                "state": camera.state,
                "live": camera.live,
                "pinned_to": camera.pinned_to,
                "expires_at": optional_utc_iso(camera.expires_at),
            }
            for camera in status.cameras
        },
    }


def status_lines(status: ClusterStatus, zone: ZoneInfo) -> list[str]:
    """The status for people: one line a node, then one line a camera."""
    lines = [f"nodes ({sum(node.alive for node in status.nodes)} alive of {len(status.nodes)}):"]
    for node in status.nodes:
        lines.append(
            f"  {node.name:<16} {'alive' if node.alive else 'DEAD ':<5} {node.address:<21} "
            f"county {node.county or '-':<10} renewed {local_text(node.last_renewal, zone)}  "
            f"{len(node.cameras)}/{node.max_cameras} cameras"
        )
    lines.append(f"cameras ({len(status.cameras)}):")
    for camera in status.cameras:
        pinned = f" (pinned to {camera.pinned_to})" if camera.pinned_to else ""
        lines.append(
            f"  {camera.camera_id:<24} {camera.state:<8} {camera.owner or '-':<16} epoch {camera.epoch}{pinned}"
        )
    return lines
