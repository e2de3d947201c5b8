"""Who should claim and who should release which camera, decided from one snapshot.

Plain functions with no database: every node runs them on the same snapshot (the nodes, the
camera list, the leases) and reaches the same answer, so no coordinator is needed. The lease
statements (``leases.py``) make the answer safe when two nodes act on it at once.

The rules, in order:

1. **Pinned** cameras are claimed only by the node they are pinned to, never by another, and
   count toward that node's load (even beyond ``max_cameras``: they have nowhere else to go).
2. **County first.** A node placed in county C (``--county C``) takes C's cameras first; C's
   cameras are shared among C's alive nodes (up to their capacity). A camera of C held by a node
   outside C is to be released as soon as a node of C is alive with room for it.
3. **Fair share without needless moves.** The other cameras (no county, a county with no alive
   node, a county's overflow beyond its nodes' capacity) are shared so that total loads level
   out: each node is allowed up to the smallest level that covers them, which is
   ``ceil(total / alive)`` in the plain case. A node above its allowance releases the excess,
   only the excess, and only then; a node below it claims free cameras. No node ever takes a
   camera another node holds: it waits for the holder to release it, or for the lease to expire.

Deterministic ties (sorted camera ids) make every node pick the same cameras to hand over; the
order a node *tries* claims in is rotated by its name so that racing nodes rarely want the same
camera first.
"""

from __future__ import annotations

import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CameraSpec:
    """A camera the cluster must record: its county (for placement) and the node it is pinned to."""

    camera_id: str
    county: str | None = None
    pinned_to: str | None = None

    @classmethod
    def of(cls, item: CameraSpec | str | Sequence[str | None]) -> CameraSpec:
        """From a ``CameraSpec``, a bare camera id, or a tuple ``(camera_id, county, pinned_to)``."""
        if isinstance(item, CameraSpec):
            return item
        if isinstance(item, str):
            return cls(item)
        values = tuple(item)
        if not 1 <= len(values) <= 3 or not isinstance(values[0], str) or not values[0]:
            raise ValueError(f"a camera is (camera_id, county, pinned_to), not {item!r}")
        return cls(*values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class NodeView:
    name: str
    county: str | None
    max_cameras: int
    alive: bool


@dataclass(frozen=True)
class LeaseView:
    camera_id: str
    owner: str | None
    epoch: int
    live: bool  # an owner, and not expired by the database clock


@dataclass(frozen=True)
class Allowance:
    """How many non-pinned cameras a node may hold: of its own county, and of the rest."""

    home: int
    general: int


@dataclass(frozen=True)
class Plan:
    """One node's decisions for one tick."""

    release: tuple[str, ...]  # held cameras to give up (the caller closes the segment, then releases)
    claim_pinned: tuple[str, ...]  # free cameras pinned to this node: claim them all
    claim_home: tuple[str, ...]  # free cameras of its county reserved for the county's nodes
    home_room: int  # claim at most this many of claim_home
    claim_general: tuple[str, ...]  # free cameras any node may take
    general_room: int  # claim at most this many of claim_general
    room: int  # and at most this many non-pinned cameras in all (max_cameras less what it holds)


def water_fill(count: int, caps: Mapping[str, int], base: Mapping[str, int]) -> dict[str, int]:
    """Each node's allowance so that ``count`` items level out the loads ``base``.

    The allowance of a node is ``min(cap, max(0, level - base))`` for the smallest integer level
    whose allowances cover ``count`` (or everything the caps allow). With equal bases and no caps
    that is ``ceil(count / nodes)`` each.
    """
    caps = {name: max(0, cap) for name, cap in caps.items()}
    count = min(max(0, count), sum(caps.values()))
    if count == 0:
        return dict.fromkeys(caps, 0)

    def allowances(level: int) -> dict[str, int]:
        return {name: min(cap, max(0, level - base.get(name, 0))) for name, cap in caps.items()}

    low, high = 0, max(base.get(name, 0) for name in caps) + count
    while low < high:
        middle = (low + high) // 2
        if sum(allowances(middle).values()) >= count:
            high = middle
        else:
            low = middle + 1
    return allowances(low)


def pinned_loads(nodes: Iterable[NodeView], cameras: Iterable[CameraSpec]) -> Counter[str]:
    alive = {node.name for node in nodes if node.alive}
    return Counter(camera.pinned_to for camera in cameras if camera.pinned_to in alive)


def allowances(nodes: Sequence[NodeView], cameras: Sequence[CameraSpec]) -> dict[str, Allowance]:
    """Every alive node's allowance of non-pinned cameras (rules 2 and 3)."""
    alive = [node for node in nodes if node.alive]
    pinned = pinned_loads(alive, cameras)
    caps = {node.name: max(0, node.max_cameras - pinned[node.name]) for node in alive}
    pool = [camera for camera in cameras if camera.pinned_to is None]
    per_county = Counter(camera.county for camera in pool if camera.county is not None)
    home: dict[str, int] = dict.fromkeys(caps, 0)
    home_used = 0
    for county, members in _county_members(alive).items():
        fill = water_fill(per_county[county], {name: caps[name] for name in members}, {})
        home.update(fill)
        home_used += min(per_county[county], sum(fill.values()))
    general = water_fill(
        len(pool) - home_used,
        {name: caps[name] - home[name] for name in caps},
        {name: pinned[name] + home[name] for name in caps},
    )
    return {name: Allowance(home[name], general[name]) for name in caps}


def plan_for(
    me: str, nodes: Sequence[NodeView], cameras: Sequence[CameraSpec], leases: Iterable[LeaseView]
) -> Plan:
    """What node ``me`` should release and claim now, given the snapshot."""
    nodes = [node if node.name != me else NodeView(me, node.county, node.max_cameras, True) for node in nodes]
    myself = next((node for node in nodes if node.name == me), None)
    if myself is None:
        raise ValueError(f"node {me!r} is not in the snapshot")
    listed = {camera.camera_id: camera for camera in cameras}
    holder = {lease.camera_id: lease.owner for lease in leases if lease.live and lease.owner}
    free = sorted(camera_id for camera_id in listed if camera_id not in holder)
    alive = [node for node in nodes if node.alive]
    every_allowance = allowances(nodes, list(listed.values()))
    allowance = every_allowance[me]
    reserved, returning, overflow = _county_hand_over(alive, listed, holder, free, every_allowance)

    release: list[str] = []
    home_held: list[str] = []
    other_held: list[str] = []
    for camera_id in sorted(camera_id for camera_id, owner in holder.items() if owner == me):
        spec = listed.get(camera_id)
        if spec is None or (spec.pinned_to is not None and spec.pinned_to != me) or camera_id in returning:
            release.append(camera_id)
        elif spec.pinned_to == me:
            continue
        elif myself.county is not None and spec.county == myself.county:
            home_held.append(camera_id)
        else:
            other_held.append(camera_id)
    home_kept = home_held[: allowance.home]
    general_held = home_held[allowance.home :][::-1] + other_held[::-1]  # the order they would be given up
    home_candidates = reserved.get(myself.county, []) if myself.county is not None else []
    # Home room this node is not using (the county's share rounds up) may hold general cameras,
    # except room that cameras of its county waiting for it need now.
    slack = max(0, allowance.home - len(home_kept) - len(home_candidates))
    excess = max(0, len(general_held) - allowance.general - slack)
    release.extend(general_held[:excess])
    cap = max(0, myself.max_cameras - pinned_loads(alive, listed.values())[me])
    kept = len(home_kept) + len(general_held) - excess

    claim_pinned = tuple(camera_id for camera_id in free if listed[camera_id].pinned_to == me)
    general_candidates = [
        camera_id
        for camera_id in free
        if listed[camera_id].pinned_to is None
        and (camera_id in overflow or not _has_county_node(listed[camera_id].county, alive))
    ]
    return Plan(
        release=tuple(release),
        claim_pinned=claim_pinned,
        claim_home=_rotated(home_candidates, me),
        home_room=max(0, min(allowance.home - len(home_kept), cap - kept)),
        claim_general=_rotated(general_candidates, me),
        general_room=max(0, min(allowance.general + slack - (len(general_held) - excess), cap - kept)),
        room=max(0, cap - kept),
    )


def _county_members(alive: Iterable[NodeView]) -> dict[str, list[str]]:
    members: dict[str, list[str]] = defaultdict(list)
    for node in alive:
        if node.county is not None:
            members[node.county].append(node.name)
    return members


def _has_county_node(county: str | None, alive: Iterable[NodeView]) -> bool:
    return county is not None and any(node.county == county for node in alive)


def _county_hand_over(
    alive: Sequence[NodeView],
    listed: Mapping[str, CameraSpec],
    holder: Mapping[str, str],
    free: Sequence[str],
    allowance: Mapping[str, Allowance],
) -> tuple[dict[str, list[str]], set[str], set[str]]:
    """Per county with alive nodes: free cameras reserved for them, held ones to hand back, overflow.

    The county's nodes should hold ``target`` of its cameras (all, or as many as they have room
    for). Free cameras are reserved for them first; if that is not enough, cameras held by nodes
    outside the county are to be returned (lowest ids first). Free cameras beyond the target are
    overflow that any node may claim.
    """
    reserved: dict[str, list[str]] = {}
    returning: set[str] = set()
    overflow: set[str] = set()
    free_set = set(free)
    for county, members in _county_members(alive).items():
        own = sorted(
            camera_id
            for camera_id, spec in listed.items()
            if spec.pinned_to is None and spec.county == county
        )
        target = min(len(own), sum(allowance[name].home for name in members))
        held_at_home = sum(1 for camera_id in own if holder.get(camera_id) in members)
        need = target - min(target, held_at_home)
        own_free = [camera_id for camera_id in own if camera_id in free_set]
        reserved[county] = own_free[:need]
        overflow.update(own_free[need:])
        away = [camera_id for camera_id in own if camera_id in holder and holder[camera_id] not in members]
        returning.update(away[: max(0, need - len(own_free))])
    return reserved, returning, overflow


def _rotated(candidates: Sequence[str], me: str) -> tuple[str, ...]:
    if not candidates:
        return ()
    start = zlib.crc32(me.encode()) % len(candidates)
    return tuple(candidates[start:]) + tuple(candidates[:start])
