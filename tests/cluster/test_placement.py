"""Placement decisions without a database: fair share, county first and back, pins, capacity."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from tests.cluster.simulation import World
from watchwall.cluster.placement import (
    Allowance,
    CameraSpec,
    LeaseView,
    NodeView,
    allowances,
    plan_for,
    water_fill,
)


def node(name: str, county: str | None = None, max_cameras: int = 100, alive: bool = True) -> NodeView:
    return NodeView(name, county, max_cameras, alive)


def cameras(count: int, prefix: str = "c", county: str | None = None, pinned_to: str | None = None):
    return [CameraSpec(f"{prefix}{index:03d}", county, pinned_to) for index in range(count)]


def test_water_fill_levels_loads_to_the_ceiling_share():
    assert water_fill(10, {"a": 99, "b": 99}, {}) == {"a": 5, "b": 5}
    assert water_fill(10, {"a": 99, "b": 99, "c": 99}, {}) == {"a": 4, "b": 4, "c": 4}
    assert water_fill(10, {"a": 2, "b": 99}, {}) == {"a": 2, "b": 8}  # a cap is respected
    assert water_fill(6, {"a": 99, "b": 99}, {"a": 4}) == {"a": 1, "b": 5}  # loads level out
    assert water_fill(50, {"a": 3, "b": 4}, {}) == {"a": 3, "b": 4}  # more cameras than room
    assert water_fill(0, {"a": 3}, {}) == {"a": 0}


def test_allowance_of_a_county_node_covers_its_county_first():
    nodes = [node("q1", "qinzhou"), node("x")]
    every = allowances(nodes, cameras(4, "q", "qinzhou") + cameras(4, "o"))
    assert every == {"q1": Allowance(home=4, general=0), "x": Allowance(home=0, general=4)}


def test_a_node_above_the_ceiling_share_releases_only_the_excess():
    nodes = [node("a"), node("b"), node("c")]
    specs = cameras(10)
    leases = [
        LeaseView(spec.camera_id, "a" if index < 5 else "b", 1, True) for index, spec in enumerate(specs)
    ]
    plan_a = plan_for("a", nodes, specs, leases)
    assert len(plan_a.release) == 1  # ceil(10 / 3) = 4: one over
    assert plan_for("c", nodes, specs, leases).claim_general == ()  # nothing free yet: c waits


def test_a_joining_node_gets_its_share_with_the_fewest_moves():
    world = World([node("a"), node("b")], cameras(12))
    world.settle()
    assert world.loads() == {"a": 6, "b": 6}
    before = dict(world.owner)
    world.nodes.append(node("c"))
    world.releases = 0
    world.settle()
    assert world.loads() == {"a": 4, "b": 4, "c": 4}
    assert world.releases == 4  # the minimum: c's four, two from each
    moved = {camera_id for camera_id, owner in world.owner.items() if owner != before[camera_id]}
    assert moved == world.owned_by("c")  # nothing moved between a and b


def test_a_dead_node_s_cameras_go_to_the_others_and_nothing_else_moves():
    world = World([node("a"), node("b"), node("c")], cameras(9))
    world.settle()
    before = dict(world.owner)
    world.set_alive("b", False)
    world.settle()
    assert world.loads() == {"a": 5, "c": 4} or world.loads() == {"a": 4, "c": 5}
    assert all(world.owner[camera] == before[camera] for camera in before if before[camera] != "b")


def test_county_cameras_go_to_the_county_node_and_come_back_when_it_returns():
    specs = cameras(4, "q", "qinzhou") + cameras(4, "m", "maiji") + cameras(4, "o")
    world = World([node("qin", "qinzhou"), node("city1"), node("city2")], specs)
    world.settle()
    qinzhou = {spec.camera_id for spec in specs if spec.county == "qinzhou"}
    assert world.owned_by("qin") == qinzhou
    world.set_alive("qin", False)
    world.settle()
    assert all(world.owner[camera] in ("city1", "city2") for camera in qinzhou)
    world.set_alive("qin", True)
    world.settle()
    assert world.owned_by("qin") == qinzhou


def test_a_county_s_overflow_stays_where_it_is():
    specs = cameras(6, "q", "qinzhou")
    world = World([node("qin", "qinzhou", max_cameras=4), node("city")], specs)
    world.settle()
    assert world.loads() == {"qin": 4, "city": 2}
    world.releases = 0
    world.settle()
    assert world.releases == 0


def test_a_camera_of_a_county_held_elsewhere_is_released_when_the_county_node_has_room():
    nodes = [node("qin", "qinzhou"), node("city")]
    specs = cameras(2, "q", "qinzhou")
    leases = [LeaseView("q000", "city", 3, True), LeaseView("q001", "qin", 2, True)]
    assert plan_for("city", nodes, specs, leases).release == ("q000",)
    assert plan_for("qin", nodes, specs, leases).release == ()


def test_pinned_cameras_are_claimed_only_by_their_node_even_beyond_its_capacity():
    specs = cameras(3, "p", pinned_to="county-a") + cameras(2)
    world = World([node("county-a", max_cameras=2), node("b")], specs)
    world.settle()
    assert world.owned_by("county-a") >= {"p000", "p001", "p002"}
    world.set_alive("county-a", False)
    world.settle()
    assert not ({"p000", "p001", "p002"} & world.owned_by("b"))  # no failover for a pinned camera
    assert world.owned_by("b") == {"c000", "c001"}


def test_a_camera_pinned_elsewhere_or_no_longer_listed_is_released():
    nodes = [node("a"), node("b")]
    specs = [CameraSpec("c1", pinned_to="b")]
    leases = [LeaseView("c1", "a", 4, True), LeaseView("gone", "a", 1, True)]
    assert set(plan_for("a", nodes, specs, leases).release) == {"c1", "gone"}
    assert plan_for("b", nodes, specs, leases).claim_pinned == ()  # still held: b waits for the release


def test_no_node_takes_more_than_its_capacity():
    world = World([node("a", max_cameras=3), node("b", max_cameras=2)], cameras(10))
    world.settle()
    assert world.loads() == {"a": 3, "b": 2}
    assert sum(world.loads().values()) == 5  # five cameras wait for room


def test_camera_specs_come_from_tuples_and_bad_ones_are_refused():
    assert CameraSpec.of(("c1", "qinzhou", None)) == CameraSpec("c1", "qinzhou", None)
    assert CameraSpec.of("c2") == CameraSpec("c2")
    with pytest.raises(ValueError, match="camera_id, county, pinned_to"):
        CameraSpec.of(("", None))


@pytest.mark.parametrize("seed", range(40))
def test_random_clusters_settle_with_every_rule_kept_and_then_move_nothing(seed):
    rng = random.Random(seed)
    counties = ["qinzhou", "maiji", "gangu"]
    nodes = [
        node(f"n{index}", rng.choice(counties + [None, None]), rng.randint(3, 15))
        for index in range(rng.randint(1, 5))
    ]
    names = [entry.name for entry in nodes]
    specs = [
        CameraSpec(
            f"c{index:03d}",
            rng.choice(counties + [None]),
            rng.choice(names) if rng.random() < 0.1 else None,
        )
        for index in range(rng.randint(0, 40))
    ]
    world = World(nodes, specs, {spec.camera_id: rng.choice(names + [None]) for spec in specs})
    for _ in range(3):  # nodes die and return
        world.settle()
        pinned = Counter(spec.pinned_to for spec in specs if spec.pinned_to)
        for entry in world.nodes:
            if entry.alive:
                assert world.loads()[entry.name] <= max(entry.max_cameras, pinned[entry.name])
        for spec in specs:
            owner = world.owner.get(spec.camera_id)
            if spec.pinned_to:
                assert owner in (None, spec.pinned_to)
        room = {
            entry.name: entry.max_cameras - world.loads()[entry.name] for entry in world.nodes if entry.alive
        }
        for spec in specs:
            if spec.pinned_to or spec.county is None:
                continue
            owner = world.owner.get(spec.camera_id)
            home = [entry.name for entry in world.nodes if entry.alive and entry.county == spec.county]
            if home and owner not in home:
                assert all(room[name] <= 0 for name in home), (spec, owner, world.loads())
        unowned = [spec for spec in specs if not spec.pinned_to and world.free(spec.camera_id)]
        if unowned:  # a camera waits only when every alive node is full
            assert all(room[name] <= 0 for name in room), (unowned, world.loads())
        world.releases = 0
        world.settle()
        assert world.releases == 0  # steady: nothing moves without a change
        victim = rng.choice(names)
        world.set_alive(victim, not next(entry.alive for entry in world.nodes if entry.name == victim))
