"""The SQL of the lease engine (PostgreSQL), each statement atomic on its own.

Every time is the database's ``clock_timestamp()`` (the real time of the statement, not the
start of its transaction), so all nodes are judged by one clock. ``:ttl`` is in seconds.
"""

from __future__ import annotations

from sqlalchemy import text

TTL = "(CAST(:ttl AS double precision) * interval '1 second')"

# The node's row, locked: who holds the name now, and is it alive by the database clock.
NODE_FOR_UPDATE = text(
    """
    SELECT instance_id, address, expires_at > clock_timestamp() AS alive,
           EXTRACT(EPOCH FROM clock_timestamp() - renewed_at) AS renewed_ago
      FROM cluster_nodes WHERE name = :name FOR UPDATE
    """
)

# Take the name unless another instance holds it alive (two fresh registrations racing: one wins).
REGISTER = text(
    f"""
    INSERT INTO cluster_nodes AS node
           (name, instance_id, address, county, max_cameras, started_at, renewed_at, expires_at)
    VALUES (:name, :instance, :address, :county, :max_cameras,
            clock_timestamp(), clock_timestamp(), clock_timestamp() + {TTL})
    ON CONFLICT (name) DO UPDATE
       SET instance_id = EXCLUDED.instance_id, address = EXCLUDED.address, county = EXCLUDED.county,
           max_cameras = EXCLUDED.max_cameras, started_at = EXCLUDED.started_at,
           renewed_at = EXCLUDED.renewed_at, expires_at = EXCLUDED.expires_at
     WHERE node.expires_at <= clock_timestamp() OR node.instance_id = EXCLUDED.instance_id
    RETURNING name
    """
)

# A new instance starts with nothing: leases a previous instance of the name held are freed (their
# epochs stay, so the next claim of each, this instance's included, gets a new epoch).
FREE_PREVIOUS_INSTANCE = text(
    """
    UPDATE camera_leases SET owner = NULL, expires_at = LEAST(expires_at, clock_timestamp())
     WHERE owner = :name
    """
)

RENEW_NODE = text(
    f"""
    UPDATE cluster_nodes SET renewed_at = clock_timestamp(), expires_at = clock_timestamp() + {TTL}
     WHERE name = :name AND instance_id = :instance
    RETURNING name
    """
)

# Only a lease still alive is renewed: once expired, only a new claim (a new epoch) gives it back.
# The exception is a camera pinned to this node: nobody else may claim it, so its lease survives an
# outage with its epoch, and what the node wrote meanwhile passes the fence when the database returns.
RENEW_LEASES = text(
    f"""
    UPDATE camera_leases SET renewed_at = clock_timestamp(), expires_at = clock_timestamp() + {TTL}
     WHERE owner = :name AND (expires_at > clock_timestamp() OR pinned_to = :name)
    RETURNING camera_id, epoch
    """
)

NODES = text(
    """
    SELECT name, county, max_cameras, expires_at > clock_timestamp() AS alive FROM cluster_nodes
    """
)

LEASES = text(
    """
    SELECT camera_id, owner, epoch, pinned_to,
           (owner IS NOT NULL AND expires_at > clock_timestamp()) AS live
      FROM camera_leases
    """
)

# Make a row for every listed camera (so status shows free ones) and keep its pin current.
SYNC_CAMERA = text(
    """
    INSERT INTO camera_leases AS lease (camera_id, owner, epoch, pinned_to)
    VALUES (:camera_id, NULL, 0, :pinned_to)
    ON CONFLICT (camera_id) DO UPDATE SET pinned_to = EXCLUDED.pinned_to
     WHERE lease.pinned_to IS DISTINCT FROM EXCLUDED.pinned_to
    """
)

# Before a claim, in its transaction: the row locked FOR UPDATE, which waits for every writer
# that passed the fence (FOR KEY SHARE) under the old epoch. The upsert alone would lock it FOR NO
# KEY UPDATE, which a key-share lock does not hold up.
LOCK_FOR_CLAIM = text("SELECT 1 FROM camera_leases WHERE camera_id = :camera_id FOR UPDATE")

# The claim: one statement. The row is locked by ON CONFLICT; the WHERE is judged on the newest
# committed version, so of two nodes racing for the same free or expired camera exactly one gets a
# row back, and the epoch grows by one for it. A pinned camera is claimable only by its node, and
# only an instance that still holds its name may claim.
CLAIM = text(
    f"""
    INSERT INTO camera_leases AS lease
           (camera_id, owner, epoch, claimed_at, renewed_at, expires_at, pinned_to)
    SELECT claim.camera_id, claim.name, 1, clock_timestamp(), clock_timestamp(), clock_timestamp() + {TTL},
           claim.pinned_to
      FROM (SELECT CAST(:camera_id AS varchar) AS camera_id, CAST(:name AS varchar) AS name,
                   CAST(:pinned_to AS varchar) AS pinned_to) AS claim
     WHERE EXISTS (SELECT 1 FROM cluster_nodes WHERE name = claim.name AND instance_id = :instance)
       AND COALESCE(claim.pinned_to, claim.name) = claim.name
    ON CONFLICT (camera_id) DO UPDATE
       SET owner = EXCLUDED.owner, epoch = lease.epoch + 1, claimed_at = EXCLUDED.claimed_at,
           renewed_at = EXCLUDED.renewed_at, expires_at = EXCLUDED.expires_at,
           pinned_to = EXCLUDED.pinned_to
     WHERE (lease.owner IS NULL OR lease.expires_at IS NULL OR lease.expires_at <= clock_timestamp())
       AND COALESCE(lease.pinned_to, EXCLUDED.owner) = EXCLUDED.owner
    RETURNING epoch
    """
)

# Give a camera up now (its epoch stays; the next claim makes a new one).
RELEASE = text(
    """
    UPDATE camera_leases SET owner = NULL, expires_at = clock_timestamp()
     WHERE camera_id = :camera_id AND owner = :name
    RETURNING camera_id
    """
)

# A clean stop: the node is dead from now on, so others need not wait for its TTL.
RETIRE_NODE = text(
    """
    UPDATE cluster_nodes SET expires_at = clock_timestamp()
     WHERE name = :name AND instance_id = :instance
    """
)
