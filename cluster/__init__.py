"""Several ingest nodes on PostgreSQL: node registration, camera leases with a fencing epoch, placement.

- ``models.py``: the ``cluster_nodes`` and ``camera_leases`` tables.
- ``placement.py``: pure decisions (who claims and who releases what) from a snapshot.
- ``leases.py``: :class:`LeaseEngine`, one node's registration, renewals and claims.
- ``fencing.py``: the epoch check a writer makes before an index row lands.
- ``backends.py``: what a cluster needs (PostgreSQL, Redis), refused with one line.
- ``status.py`` / ``cli.py``: ``watchwall cluster status``.
"""
