"""LeaseEngines on the real PostgreSQL: ownership, fair share, takeover, fencing, counties, pins, names."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from tests.cluster.conftest import MARGIN_S, RENEW_S, TTL_S, settle, tick_until
from tests.cluster.tcp_proxy import TcpProxy
from watchwall.cluster.fencing import current_epoch, epoch_is_current, fence_ok, fenced_insert
from watchwall.cluster.leases import LeaseError, NodeSuperseded
from watchwall.config.database import make_engine
from watchwall.config.errors import UserError
from watchwall.video.record.models import RecordingGap

pytestmark = pytest.mark.postgres

CAMERAS = [(f"cam{index:02d}", None, None) for index in range(12)]


def leases(url: str) -> dict[str, tuple[str | None, int, bool]]:
    """camera -> (owner, epoch, live) as the database sees it now."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT camera_id, owner, epoch, owner IS NOT NULL AND expires_at > clock_timestamp() AS live"
                    " FROM camera_leases"
                )
            )
            return {row.camera_id: (row.owner, row.epoch, row.live) for row in rows}
    finally:
        engine.dispose()


def assert_owned_once(url: str, engines) -> None:
    seen: dict[str, str] = {}
    for engine in engines:
        for camera_id in engine.owned:
            assert camera_id not in seen, f"{camera_id} owned by {seen[camera_id]} and {engine.name}"
            seen[camera_id] = engine.name
    database = leases(url)
    for camera_id, name in seen.items():
        owner, epoch, live = database[camera_id]
        assert (owner, live) == (name, True)
        assert epoch == next(engine for engine in engines if engine.name == name).owned[camera_id]


def test_two_nodes_own_every_camera_exactly_once_and_both_own_some(nodes, cluster_url):
    a, b = nodes("a"), nodes("b")
    settle([a, b], CAMERAS)
    assert_owned_once(cluster_url, [a, b])
    assert len(a.owned) == len(b.owned) == 6
    assert set(a.owned) | set(b.owned) == {camera for camera, _, _ in CAMERAS}
    assert set(leases(cluster_url)) == {camera for camera, _, _ in CAMERAS}  # a row for every camera


def test_a_joining_node_gets_its_fair_share_with_the_fewest_moves(nodes, cluster_url):
    a, b = nodes("a"), nodes("b")
    settle([a, b], CAMERAS)
    before = {**a.owned, **b.owned}
    owner_before = {camera: engine.name for engine in (a, b) for camera in engine.owned}
    c = nodes("c")
    settle([a, b, c], CAMERAS)
    assert_owned_once(cluster_url, [a, b, c])
    assert (len(a.owned), len(b.owned), len(c.owned)) == (4, 4, 4)
    moved = {camera for engine in (a, b) for camera in engine.owned if owner_before[camera] != engine.name}
    assert moved == set()  # nothing moved between a and b
    assert all(c.owned[camera] == before[camera] + 1 for camera in c.owned)  # 4 moves, each a new epoch
    assert all(engine.owned[camera] == before[camera] for engine in (a, b) for camera in engine.owned)


def test_three_nodes_each_own_a_third_from_the_start(nodes, cluster_url):
    engines = [nodes("a"), nodes("b"), nodes("c")]
    settle(engines, CAMERAS)
    assert_owned_once(cluster_url, engines)
    assert sorted(len(engine.owned) for engine in engines) == [4, 4, 4]


def test_a_node_that_stops_renewing_loses_its_cameras_after_the_ttl_and_stops_writing_first(
    nodes, cluster_url
):
    a, b = nodes("a"), nodes("b")
    settle([a, b], CAMERAS)
    b_cameras = dict(b.owned)
    stopped = time.monotonic()  # b hangs from here: no more ticks
    assert all(b.may_write(camera) for camera in b_cameras)
    result = tick_until(a, CAMERAS, lambda result: set(b_cameras) <= set(result.owned))
    taken_at = time.monotonic()
    assert taken_at - stopped >= TTL_S - MARGIN_S - 1.0  # not before b's lease could expire
    assert all(result.owned[camera] == epoch + 1 for camera, epoch in b_cameras.items())
    assert b.safe_until() < taken_at  # b had stopped writing before a took over
    assert not any(b.may_write(camera) for camera in b_cameras)
    late = b.tick(CAMERAS)  # b wakes up: its leases are gone
    assert set(late.lost) == set(b_cameras)
    assert_owned_once(cluster_url, [a, b])


def test_a_clean_close_hands_over_at_once(nodes, cluster_url):
    a, b = nodes("a"), nodes("b")
    settle([a, b], CAMERAS)
    b.close()
    result = a.tick(CAMERAS)
    assert len(result.owned) == len(CAMERAS)  # no TTL to wait for


def test_a_stale_epoch_is_refused_by_the_fence(nodes, cluster_url):
    a, b = nodes("a"), nodes("b")
    settle([a, b], CAMERAS)
    camera, old_epoch = sorted(b.owned.items())[0]
    tick_until(a, CAMERAS, lambda result: camera in result.owned)  # b stopped: a takes over
    new_epoch = a.owned[camera]
    assert new_epoch == old_epoch + 1
    engine = make_engine(cluster_url)
    gap = {"camera_id": camera, "start_utc": 1.0, "end_utc": 2.0, "reason": "test"}
    try:
        with engine.begin() as connection:
            assert current_epoch(connection, camera) == new_epoch
            assert not fence_ok(connection, camera, old_epoch)
            assert fence_ok(connection, camera, new_epoch)
            assert not fence_ok(connection, "no-such-camera", 1)
            table = RecordingGap.__table__
            refused = connection.execute(fenced_insert(table, gap, camera_id=camera, epoch=old_epoch))
            accepted = connection.execute(
                fenced_insert(table, {**gap, "reason": "new"}, camera_id=camera, epoch=new_epoch)
            )
            assert (refused.rowcount, accepted.rowcount) == (0, 1)
            stale_update = connection.execute(
                table.update()
                .where(table.c.camera_id == camera, epoch_is_current(table.c.camera_id, old_epoch))
                .values(detail="stale")
            )
            assert stale_update.rowcount == 0
            reasons = connection.execute(text("SELECT reason FROM recording_gaps")).scalars().all()
        assert reasons == ["new"]
        with pytest.raises(ValueError, match="no column"):
            fenced_insert(RecordingGap.__table__, {"nope": 1}, camera_id=camera, epoch=new_epoch)
    finally:
        engine.dispose()


def test_the_owners_renewal_does_not_wait_for_writes_that_passed_the_fence(nodes, cluster_url):
    """A node's recorders hold fence locks in their index transactions; its renewal goes on beside them."""
    a = nodes("a")
    settle([a], CAMERAS)
    writer = make_engine(cluster_url)
    try:
        with writer.connect() as connection:
            transaction = connection.begin()
            assert all(fence_ok(connection, camera, epoch) for camera, epoch in a.owned.items())
            held = dict(a.owned)
            renewed = a.tick(CAMERAS)  # while every lease row is fence-locked: no wait on the locks
            assert renewed.database_ok, renewed.error
            assert renewed.owned == held and not renewed.lost
            assert fence_ok(connection, sorted(held)[0], held[sorted(held)[0]])  # still current
            transaction.commit()
    finally:
        writer.dispose()


def test_a_tick_renews_before_it_claims_and_stops_claiming_before_the_next_renewal_is_due(nodes, cluster_url):
    """Claims that wait (here on rows another transaction holds) neither hide the renewal from the
    recorders nor delay the next one: the tick stops claiming after half a renewal interval."""
    a = nodes("a", max_cameras=len(CAMERAS))
    owned_first = CAMERAS[:4]
    settle([a], owned_first)
    held = dict(a.owned)
    blocker = make_engine(cluster_url)
    try:
        locked = [camera for camera, _, _ in CAMERAS[4:]]
        with blocker.begin() as connection:
            connection.execute(
                text("INSERT INTO camera_leases (camera_id, epoch) VALUES (:camera_id, 0)"),
                [{"camera_id": camera} for camera in locked],
            )
        with blocker.connect() as connection:
            transaction = connection.begin()
            connection.execute(  # a claim of any of them waits for this transaction, up to lock_timeout
                text("SELECT camera_id FROM camera_leases WHERE camera_id = ANY(:ids) FOR UPDATE"),
                {"ids": locked},
            )
            before = a.safe_until()
            results: list = []
            ticking = threading.Thread(target=lambda: results.append(a.tick(CAMERAS)), daemon=True)
            started = time.monotonic()
            ticking.start()
            renewed_early = False
            for _ in range(100):  # bounded: the renewal is published while the claims still wait
                if a.safe_until() > before:
                    renewed_early = ticking.is_alive()
                    break
                time.sleep(0.01)
            ticking.join(timeout=30)
            took = time.monotonic() - started
            transaction.rollback()
        assert renewed_early
        assert results and results[0].owned == held and results[0].database_ok, results
        # one claim waited its lock_timeout (1 s), was skipped, and the tick stopped claiming there;
        # all eight in turn would take 8 s
        assert took < 3 * 1.0, took
        result = tick_until(a, CAMERAS, lambda r: len(r.owned) == len(CAMERAS))
        assert set(result.owned) == {camera for camera, _, _ in CAMERAS}
    finally:
        blocker.dispose()


def test_a_takeover_waits_for_a_write_that_passed_the_fence(nodes, cluster_url):
    a, b = nodes("a"), nodes("b")
    settle([a, b], CAMERAS)
    camera, old_epoch = sorted(b.owned.items())[0]
    time.sleep(TTL_S + 0.5)  # b hangs; its leases expire
    writer = make_engine(cluster_url)
    watcher = make_engine(cluster_url)
    try:
        with writer.connect() as connection:
            transaction = connection.begin()
            assert fence_ok(connection, camera, old_epoch)  # b's last write, checked before the takeover
            done: list = []
            thread = threading.Thread(target=lambda: done.append(a.claim(camera)), daemon=True)
            thread.start()
            waiting = False
            for _ in range(40):  # bounded: the claim must be seen waiting on the lease row's lock
                with watcher.connect() as watch:
                    waiting = bool(
                        watch.execute(
                            text(
                                "SELECT count(*) FROM pg_stat_activity"
                                " WHERE wait_event_type = 'Lock' AND query LIKE '%camera_leases%FOR UPDATE%'"
                            )
                        ).scalar()
                    )
                if waiting:
                    break
                time.sleep(0.025)
            assert waiting and not done
            transaction.commit()
            thread.join(timeout=10)
        assert done == [old_epoch + 1]  # the takeover came after b's write, never between check and write
    finally:
        writer.dispose()
        watcher.dispose()


def test_county_cameras_go_to_the_county_node_move_when_it_dies_and_come_back(nodes, cluster_url):
    cameras = [(f"qin{index}", "qinzhou", None) for index in range(4)] + [
        (f"city{index}", None, None) for index in range(4)
    ]
    qinzhou = {camera for camera, county, _ in cameras if county}
    q, x = nodes("q", county="qinzhou"), nodes("x")
    settle([q, x], cameras)
    assert set(q.owned) == qinzhou and set(x.owned) == {camera for camera, _, _ in cameras} - qinzhou
    epochs = dict(q.owned)
    result = tick_until(x, cameras, lambda result: qinzhou <= set(result.owned))  # q was killed
    assert all(result.owned[camera] == epochs[camera] + 1 for camera in qinzhou)
    q2 = nodes("q", county="qinzhou")  # q restarted: a new instance of the name
    x_result = x.tick(cameras)
    assert set(x_result.should_release) == qinzhou  # at x's next tick: x closes those segments ...
    for camera in x_result.should_release:
        assert x.release(camera)  # ... and releases them
    q_result = q2.tick(cameras)
    assert set(q_result.owned) == qinzhou
    assert all(q_result.owned[camera] == epochs[camera] + 2 for camera in qinzhou)
    settle([q2, x], cameras)
    assert_owned_once(cluster_url, [q2, x])


def test_pinned_cameras_never_move_and_stay_recorded_without_the_database(nodes, cluster_url, postgres):
    proxy = TcpProxy(5432)
    try:
        via_proxy = cluster_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
        cameras = [(f"pin{index}", "qinzhou", "a") for index in range(3)] + [
            (f"cam{index}", None, None) for index in range(4)
        ]
        pinned = {camera for camera, _, pin in cameras if pin}
        a = nodes("a", url=via_proxy, county="qinzhou")
        b = nodes("b")
        results = settle([a, b], cameras)
        assert pinned <= set(a.owned) and results["a"].pinned == pinned
        pinned_epochs = {camera: a.owned[camera] for camera in pinned}
        proxy.cut()  # a's link to the database goes down
        offline = a.tick(cameras)
        assert not offline.database_ok and set(offline.offline) == pinned and offline.error
        assert all(a.may_write(camera) for camera in pinned)
        time.sleep(TTL_S + 0.5)
        offline = a.tick(cameras)
        assert set(offline.owned) == pinned  # the rest was given up at safe_until
        assert set(offline.lost) and not set(offline.lost) & pinned
        assert all(a.may_write(camera) for camera in pinned)
        b_result = tick_until(b, cameras, lambda result: len(result.owned) == 4)
        assert not set(b_result.owned) & pinned  # no failover for a pinned camera
        assert all(leases(cluster_url)[camera][0] == "a" for camera in pinned)
        proxy.restore()
        back = tick_until(a, cameras, lambda result: result.database_ok)
        assert {
            camera: back.owned[camera] for camera in pinned
        } == pinned_epochs  # same epoch: the backlog passes
        engine = make_engine(cluster_url)
        try:
            with engine.begin() as connection:
                assert all(fence_ok(connection, camera, epoch) for camera, epoch in pinned_epochs.items())
        finally:
            engine.dispose()
        assert all(leases(cluster_url)[camera][2] for camera in pinned)  # live again
        settle([a, b], cameras)
        assert_owned_once(cluster_url, [a, b])
    finally:
        proxy.close()


def test_a_second_registration_of_a_live_name_is_refused_in_one_line(nodes):
    nodes("a", address="127.0.0.1:8765")
    with pytest.raises(LeaseError) as refused:
        nodes("a", address="127.0.0.1:9999")
    message = str(refused.value)
    assert "\n" not in message
    assert "'a'" in message and "127.0.0.1:8765" in message and "s ago" in message


def test_a_name_is_free_again_once_its_node_is_dead_and_the_old_instance_must_stop(nodes):
    old = nodes("a")
    old.tick(CAMERAS)
    time.sleep(TTL_S + 0.5)  # old hangs
    new = nodes("a")
    result = new.tick(CAMERAS)
    assert len(result.owned) == len(CAMERAS)
    with pytest.raises(NodeSuperseded, match="no longer holds its name"):
        old.tick(CAMERAS)
    assert old.owned == {} and not old.may_write("cam00")


def test_bad_camera_lists_and_settings_are_refused(nodes, cluster_url):
    a = nodes("a")
    with pytest.raises(LeaseError, match="twice"):
        a.tick([("c1", None, None), ("c1", None, None)])
    with pytest.raises(LeaseError, match="register"):
        nodes("b", register=False).tick(CAMERAS)
    with pytest.raises(LeaseError, match="node name"):
        nodes("bad name")
    with pytest.raises(UserError, match="a cluster needs PostgreSQL"):
        nodes("c", url="sqlite:///unused.db")


def test_registration_without_the_database_or_its_tables_is_refused_in_one_line(nodes, postgres):
    unmigrated = postgres.create("ww_cluster_empty")
    try:
        with pytest.raises(LeaseError, match="no cluster tables") as refused:
            nodes("a", url=unmigrated)
        assert "\n" not in str(refused.value)
    finally:
        postgres.drop(unmigrated)
    proxy = TcpProxy(5432)
    try:
        proxy.cut()
        with pytest.raises(LeaseError, match="the database does not answer") as refused:
            nodes("a", url=f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/postgres")
        assert "\n" not in str(refused.value)
    finally:
        proxy.close()


def test_a_tick_slower_than_the_interval_is_said_in_the_log_once_a_minute(nodes, caplog):
    node = nodes("slow")
    stop = threading.Event()
    calls = []

    def cameras():
        calls.append(time.monotonic())
        if len(calls) in (2, 3):
            time.sleep(RENEW_S * 1.3)  # the tick's own work, made slow
        if len(calls) == 4:
            stop.set()
        return CAMERAS

    runner = threading.Thread(target=node.run, args=(cameras, lambda result: None, stop), daemon=True)
    with caplog.at_level("WARNING", logger="watchwall.cluster.leases"):
        runner.start()
        runner.join(20)
    assert not runner.is_alive()
    slow = [record.getMessage() for record in caplog.records if "lease tick took" in record.getMessage()]
    assert len(slow) == 1, slow  # the second slow tick, within the minute, is counted, not said
    assert "node slow: a lease tick took 1." in slow[0] and "1 slow tick(s)" in slow[0]
    assert "camera list 1." in slow[0] and "renewal 0." in slow[0], slow[0]  # where the time went


def test_the_run_loop_publishes_the_renewal_before_it_reads_the_camera_list(nodes):
    """Reading the camera list (the inventory: on a loaded node, a second or more) never holds the
    renewal back from the recorders."""
    node = nodes("a", max_cameras=len(CAMERAS))
    settle([node], CAMERAS)
    stop = threading.Event()
    seen: list[tuple[float, dict]] = []
    before = node.safe_until()

    def cameras():
        seen.append((node.safe_until(), node.owned))
        if len(seen) == 2:
            stop.set()
        return CAMERAS

    runner = threading.Thread(target=node.run, args=(cameras, lambda result: None, stop), daemon=True)
    runner.start()
    runner.join(20)
    assert not runner.is_alive()
    assert seen[0][0] > before  # renewed (and published) when the list was asked for
    assert seen[1][0] > seen[0][0]
    assert set(seen[0][1]) == {camera for camera, _, _ in CAMERAS}


def test_a_tick_that_loses_the_database_after_its_renewal_keeps_what_it_renewed(nodes, cluster_url):
    proxy = TcpProxy(5432)
    try:
        node = nodes("a", url=cluster_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"))
        settle([node], CAMERAS[:4])
        held, before = dict(node.owned), node.safe_until()

        stop = threading.Event()
        results: list = []

        def cameras_then_the_link_goes():
            proxy.cut()
            stop.set()
            return CAMERAS[:4]

        runner = threading.Thread(target=node.run, args=(cameras_then_the_link_goes, results.append, stop))
        runner.start()
        runner.join(20)
        assert not runner.is_alive() and len(results) == 1
        result = results[0]
        assert not result.database_ok and result.error
        assert result.owned == held and not result.lost and not result.gained
        assert result.safe_until > before and node.safe_until() == result.safe_until
        assert all(node.may_write(camera) for camera in held)
        proxy.restore()
        back = tick_until(node, CAMERAS[:4], lambda tick: tick.database_ok)
        assert back.owned == held
    finally:
        proxy.close()
