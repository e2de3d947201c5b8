"""What a recorder asks before it writes, when an ingest node records under a camera lease.

A recorder of ``watchwall serve`` or ``ingest`` has no fence and writes freely. An ingest node
gives each recorder a fence for its camera (``watchwall.roles.node``): ``may_write`` is the
node's local, cheap judgement (the lease is held and its self-fencing deadline not passed),
asked before every packet; ``check`` is the database's, asked inside the transaction that
enters or closes a segment in the index, and refuses a row from an older epoch.
"""

from __future__ import annotations

from typing import Protocol


class RecordingFence(Protocol):
    node: str
    epoch: int
    took_over: bool  # the lease was taken from another node (its recording ends in a failover gap)
    failover_from: float | None  # where the old owner's indexed video ends (its open segment's start)

    def may_write(self) -> bool: ...

    def check(self, session) -> bool: ...


class Fenced(Exception):
    """The camera's lease moved on: this recorder must write nothing more."""
