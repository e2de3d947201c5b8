"""A cluster simulated without a database: nodes apply their plans to a shared ownership map in turn.

Each round, every alive node plans from the current world, releases what its plan says, and claims
free cameras as the engine would (all pinned ones, then up to the home room, then up to the
general room). Moves are counted as releases of a camera another node then takes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from watchwall.cluster.placement import CameraSpec, LeaseView, NodeView, plan_for


@dataclass
class World:
    nodes: list[NodeView]
    cameras: list[CameraSpec]
    owner: dict[str, str | None] = field(default_factory=dict)
    releases: int = 0

    def leases(self) -> list[LeaseView]:
        alive = {node.name for node in self.nodes if node.alive}
        # a dead node's leases have expired (the simulation skips the TTL)
        return [
            LeaseView(camera_id, owner, 0, owner is not None and owner in alive)
            for camera_id, owner in self.owner.items()
        ]

    def free(self, camera_id: str) -> bool:
        owner = self.owner.get(camera_id)
        return owner is None or owner not in {node.name for node in self.nodes if node.alive}

    def round(self) -> bool:
        changed = False
        for node in sorted(self.nodes, key=lambda node: node.name):
            if not node.alive:
                continue
            plan = plan_for(node.name, self.nodes, self.cameras, self.leases())
            for camera_id in plan.release:
                self.owner[camera_id] = None
                self.releases += 1
                changed = True
            room = plan.room
            for candidates, group_room in (
                (plan.claim_pinned, len(plan.claim_pinned)),
                (plan.claim_home, plan.home_room),
                (plan.claim_general, plan.general_room),
            ):
                pinned = candidates is plan.claim_pinned
                taken = 0
                for camera_id in candidates:
                    if taken >= group_room or (not pinned and room <= 0):
                        break
                    if self.free(camera_id):
                        self.owner[camera_id] = node.name
                        taken += 1
                        room -= 0 if pinned else 1
                        changed = True
        return changed

    def settle(self, rounds: int = 20) -> int:
        """Rounds until nothing changes (fails the test if it never settles)."""
        for number in range(1, rounds + 1):
            if not self.round():
                return number
        raise AssertionError(f"no steady state after {rounds} rounds: {self.loads()}")

    def loads(self) -> Counter[str]:
        alive = {node.name for node in self.nodes if node.alive}
        return Counter(owner for owner in self.owner.values() if owner in alive)

    def owned_by(self, name: str) -> set[str]:
        return {camera_id for camera_id, owner in self.owner.items() if owner == name}

    def set_alive(self, name: str, alive: bool) -> None:
        self.nodes = [
            NodeView(node.name, node.county, node.max_cameras, alive) if node.name == name else node
            for node in self.nodes
        ]
