"""One node's camera leases in PostgreSQL: registration, renewal, claims, releases, self-fencing.

A node calls :meth:`LeaseEngine.tick` every ``renew_interval_s`` (~2 s) with the full camera list.
A tick renews the node and its leases, reads a snapshot, lets ``placement.plan_for`` decide, and
claims what the plan says, one atomic statement per camera (``statements.CLAIM``). It returns
what the node owns (camera -> epoch), what it gained and lost, and what it should release: the
caller closes those cameras' segments cleanly and then calls :meth:`LeaseEngine.release`.

**Why self-fencing is safe.** A lease expires ``ttl_s`` after its last renewal *by the database
clock*; every other node judges expiry by that same clock, so no two machines' clocks are ever
compared. This node measures only elapsed time, on its local monotonic clock, from the moment it
*sent* its last successful renewal. The database stamped the renewal later than that moment, so
the lease's true expiry is at least ``ttl_s`` after it: ``safe_until() = renewal start + ttl_s -
safety_margin_s`` can only err early, never late. The margin covers a write already in flight when
the deadline passes and any drift between the two clocks' rates. Past ``safe_until()`` the caller
writes nothing for its non-pinned cameras; they are reported lost once. Pinned cameras are never
claimed by anyone else, so the node keeps recording them through an outage (``TickResult.offline``).
Claims made after the renewal expire later than the renewed leases, so one deadline covers all.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, ProgrammingError

from watchwall.cluster import statements
from watchwall.cluster.backends import require_postgresql
from watchwall.cluster.placement import CameraSpec, LeaseView, NodeView, Plan, plan_for
from watchwall.config.database import make_engine
from watchwall.config.errors import UserError

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
DEFAULT_TTL_S = 6.0
DEFAULT_RENEW_INTERVAL_S = 2.0
DEFAULT_SAFETY_MARGIN_S = 1.0
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL: lock_timeout passed
SLOW_TICK_LOG_EVERY_S = 60.0
NOTHING_PLANNED = Plan(
    release=(), claim_pinned=(), claim_home=(), home_room=0, claim_general=(), general_room=0, room=0
)

log = logging.getLogger(__name__)

CameraItem = CameraSpec | str | Sequence[str | None]


class LeaseError(UserError):
    pass


class NodeSuperseded(LeaseError):
    """Another instance took this node's name while this one could not renew: stop everything."""

    exit_code = 3


@dataclass(frozen=True)
class TickResult:
    owned: dict[str, int]  # camera_id -> epoch: what the node may write now (see LeaseEngine.may_write)
    # newly claimed this tick; a camera already owned before that shows up here changed epoch (its lease
    # lapsed and was claimed again): close its segment and go on under the new epoch
    gained: dict[str, int]
    lost: tuple[str, ...]  # no longer owned: expired, taken over, or past safe_until while offline
    should_release: tuple[str, ...]  # close their segments, then release(camera_id)
    released: tuple[str, ...] = ()  # released by the tick itself (tick(..., release_now=True))
    pinned: frozenset[str] = frozenset()  # owned cameras pinned to this node
    database_ok: bool = True
    offline: tuple[str, ...] = ()  # pinned cameras kept while the database cannot be reached
    safe_until: float = 0.0  # monotonic deadline for writing non-pinned cameras
    error: str | None = None  # why the database could not be reached


@dataclass
class _State:
    owned: dict[str, int] = field(default_factory=dict)
    pinned: frozenset[str] = frozenset()
    safe_until: float = 0.0


def lease_database(url: str, *, timeout_s: float = 2.0) -> Engine:
    """An engine for the lease engine: PostgreSQL only, short connect, statement and lock timeouts.

    The lock timeout is half the statement timeout, so that a claim waiting on a row a writer holds
    ends as a lock timeout (that camera is skipped this tick), not as a statement timeout (which
    reads as a database that went away)."""
    require_postgresql(url)
    milliseconds = int(timeout_s * 1000)
    return make_engine(
        url,
        check=False,
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": max(1, round(timeout_s)),
            "options": f"-c statement_timeout={milliseconds} -c lock_timeout={milliseconds // 2}",
        },
    )


def _unreachable(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _reason(exc: BaseException) -> str:
    origin = getattr(exc, "orig", None) or exc
    text = str(origin).strip()
    return text.splitlines()[0] if text else type(origin).__name__


class LeaseEngine:
    """The leases of one node (one instance of a name), on a PostgreSQL database."""

    def __init__(
        self,
        database: str | Engine,
        name: str,
        *,
        address: str,
        county: str | None = None,
        max_cameras: int = 50,
        ttl_s: float = DEFAULT_TTL_S,
        renew_interval_s: float = DEFAULT_RENEW_INTERVAL_S,
        safety_margin_s: float = DEFAULT_SAFETY_MARGIN_S,
        instance_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not NAME_PATTERN.match(name or ""):
            raise LeaseError(f"node name {name!r} must be 1-63 letters, digits, '.', '_' or '-'")
        if not address or ":" not in address:
            raise LeaseError(f"node address {address!r} must be HOST:PORT (where web nodes reach it)")
        if max_cameras < 0:
            raise LeaseError(f"--max-cameras must be 0 or more, not {max_cameras}")
        if not (0 < renew_interval_s and renew_interval_s * 2 <= ttl_s):
            raise LeaseError(
                f"a lease TTL of {ttl_s} s needs at least two renewals in it, not one every {renew_interval_s} s"
            )
        if not 0 <= safety_margin_s < ttl_s - renew_interval_s:
            raise LeaseError(f"the safety margin {safety_margin_s} s must be below TTL - renewal interval")
        self.engine = lease_database(database) if isinstance(database, str) else database
        require_postgresql(self.engine.url.render_as_string(hide_password=True))
        self.name = name
        self.address = address
        self.county = county
        self.max_cameras = max_cameras
        self.ttl_s = ttl_s
        self.renew_interval_s = renew_interval_s
        self.safety_margin_s = safety_margin_s
        self.instance_id = instance_id or str(uuid.uuid4())
        self._clock = clock
        self._state = _State()  # replaced whole, so readers need no lock
        self._lock = threading.RLock()  # one tick or release at a time
        self._pending_release: set[str] = set()  # released while the database could not be reached
        self._registered = False
        self._slow_ticks = 0  # ticks longer than renew_interval_s, since the last warning
        self.last_tick_parts: dict[str, float] = {}  # seconds the last tick spent in each part
        self._slow_said_at = float("-inf")

    # --- registration -------------------------------------------------------------------------

    def _params(self, **extra) -> dict:
        return {"name": self.name, "instance": self.instance_id, "ttl": self.ttl_s, **extra}

    def register(self) -> None:
        """Take the node's name; refused in one line while another instance of it is alive."""
        try:
            self._register()
        except DBAPIError as exc:
            if _unreachable(exc):
                raise LeaseError(
                    f"cannot register node {self.name!r}: the database does not answer ({_reason(exc)})"
                ) from exc
            if isinstance(exc, ProgrammingError):
                raise LeaseError(
                    f"cannot register node {self.name!r}: no cluster tables (run `watchwall db upgrade`)"
                ) from exc
            raise

    def _register(self) -> None:
        with self._lock:
            started = self._clock()
            with self.engine.begin() as connection:
                previous = connection.execute(statements.NODE_FOR_UPDATE, self._params()).one_or_none()
                if previous is not None and previous.alive and previous.instance_id != self.instance_id:
                    raise LeaseError(self._refusal(previous))
                taken = connection.execute(
                    statements.REGISTER,
                    self._params(address=self.address, county=self.county, max_cameras=self.max_cameras),
                ).one_or_none()
                if taken is None:  # a racing registration of the same name won
                    winner = connection.execute(statements.NODE_FOR_UPDATE, self._params()).one()
                    raise LeaseError(self._refusal(winner))
                if previous is None or previous.instance_id != self.instance_id:
                    connection.execute(statements.FREE_PREVIOUS_INSTANCE, self._params())
                    self._state = _State(safe_until=started + self.ttl_s - self.safety_margin_s)
            self._registered = True

    def _refusal(self, row) -> str:
        return (
            f"node {self.name!r} is already running at {row.address} "
            f"(instance {row.instance_id[:8]}, renewed {float(row.renewed_ago):.1f} s ago): "
            "stop it first or choose another --name"
        )

    def close(self) -> None:
        """A clean stop: release every lease and mark the node dead now, so others take over at once."""
        with self._lock:
            owned = list(self._state.owned) + sorted(self._pending_release)
            self._state = _State()
            with self.engine.begin() as connection:
                for camera_id in owned:
                    connection.execute(statements.RELEASE, self._params(camera_id=camera_id))
                connection.execute(statements.RETIRE_NODE, self._params())
            self._pending_release.clear()

    # --- what the caller may write ------------------------------------------------------------

    @property
    def owned(self) -> dict[str, int]:
        return dict(self._state.owned)

    def epoch(self, camera_id: str) -> int | None:
        return self._state.owned.get(camera_id)

    def safe_until(self) -> float:
        """Monotonic time until which writes of non-pinned cameras are safe (last renewal + TTL - margin)."""
        return self._state.safe_until

    def may_write(self, camera_id: str) -> bool:
        """Owned and pinned here, or owned and before :meth:`safe_until`."""
        state = self._state
        if camera_id not in state.owned:
            return False
        return camera_id in state.pinned or self._clock() < state.safe_until

    # --- releasing ----------------------------------------------------------------------------

    def release(self, camera_id: str) -> bool:
        """Give a camera up now (after closing its segment). False when this node did not own it.

        Without the database the camera is dropped here at once and released in the database at
        the next tick that reaches it (its lease would expire anyway).
        """
        with self._lock:
            state = self._state
            if camera_id not in state.owned:
                return False
            owned = {key: value for key, value in state.owned.items() if key != camera_id}
            self._state = _State(owned, state.pinned - {camera_id}, state.safe_until)
            try:
                with self.engine.begin() as connection:
                    connection.execute(statements.RELEASE, self._params(camera_id=camera_id))
            except DBAPIError as exc:
                if not _unreachable(exc):
                    raise
                self._pending_release.add(camera_id)
            return True

    # --- the tick -----------------------------------------------------------------------------

    def tick(self, cameras: Iterable[CameraItem], *, release_now: bool = False) -> TickResult:
        """Renew, decide and claim once. ``cameras`` is the full list of (camera_id, county, pinned_to)."""
        specs = self._specs(cameras)
        return self._tick(lambda: specs, release_now=release_now)

    def _specs(self, cameras: Iterable[CameraItem]) -> list[CameraSpec]:
        specs = [CameraSpec.of(item) for item in cameras]
        if len({spec.camera_id for spec in specs}) != len(specs):
            raise LeaseError("the camera list names a camera twice")
        return specs

    def _tick(self, list_specs: Callable[[], list[CameraSpec]], *, release_now: bool = False) -> TickResult:
        """The renewal first, committed and published; only then the camera list (``list_specs``,
        which may read the inventory), the snapshot and the claims. On a loaded node every step
        waits its turn, and none of them may make the recorders wait for the renewal."""
        if not self._registered:
            raise LeaseError(f"node {self.name!r} must register() before its first tick")
        with self._lock:
            before = self._state
            started = self._clock()
            pending = sorted(self._pending_release)
            try:
                with self.engine.begin() as connection:
                    renewed = self._renew(connection, pending)
                self._pending_release -= set(pending)
            except DBAPIError as exc:
                if not _unreachable(exc):
                    raise
                self.last_tick_parts = {"renewal": self._clock() - started}
                return self._offline(before, list_specs(), _reason(exc))
            renewal_done = self._clock()
            safe_until = started + self.ttl_s - self.safety_margin_s
            owned = dict(renewed)
            self._publish(owned, before.pinned, safe_until)  # pinned as the last tick found them
            specs = list_specs()
            listed = self._clock()
            pinned_here = {spec.camera_id for spec in specs if spec.pinned_to == self.name}
            try:
                with self.engine.begin() as connection:
                    nodes, leases = self._snapshot(connection, specs)
            except DBAPIError as exc:
                if not _unreachable(exc):
                    raise
                # renewed but not planned: hold what was renewed, claim nothing until the next tick
                self.last_tick_parts = self._parts(started, renewal_done, listed, self._clock())
                self._publish(owned, pinned_here, safe_until)
                return self._result(before, owned, NOTHING_PLANNED, (), safe_until, _reason(exc))
            snapshot_done = self._clock()
            plan = plan_for(self.name, nodes, specs, self._as_seen(leases, renewed))
            won, error = self._claim(plan, stop_at=started + self.renew_interval_s / 2)
            self.last_tick_parts = {
                **self._parts(started, renewal_done, listed, snapshot_done),
                "claims": self._clock() - snapshot_done,
            }
            owned.update(won)
            self._publish(owned, pinned_here, safe_until)
            released: list[str] = []
            if release_now:
                released = [camera_id for camera_id in plan.release if self.release(camera_id)]
            return self._result(before, owned, plan, released, safe_until, error)

    @staticmethod
    def _parts(started: float, renewal_done: float, listed: float, snapshot_done: float) -> dict[str, float]:
        return {
            "renewal": renewal_done - started,
            "camera list": listed - renewal_done,
            "snapshot": snapshot_done - listed,
        }

    def _result(
        self,
        before: _State,
        owned: dict[str, int],
        plan: Plan,
        released: Sequence[str],
        safe_until: float,
        error: str | None,
    ) -> TickResult:
        return TickResult(
            owned=dict(self._state.owned),
            gained={key: epoch for key, epoch in owned.items() if before.owned.get(key) != epoch},
            lost=tuple(sorted(set(before.owned) - set(owned))),
            should_release=tuple(camera_id for camera_id in plan.release if camera_id not in released),
            released=tuple(released),
            pinned=self._state.pinned,
            database_ok=error is None,
            safe_until=safe_until,
            error=error,
        )

    def _publish(self, owned: dict[str, int], pinned_here: AbstractSet[str], safe_until: float) -> None:
        """What the recorders read (``may_write``): the leases held now and until when writing is safe."""
        self._state = _State(dict(owned), frozenset(pinned_here & owned.keys()), safe_until)

    def _renew(self, connection: Connection, pending: Sequence[str]) -> dict[str, int]:
        for camera_id in pending:
            connection.execute(statements.RELEASE, self._params(camera_id=camera_id))
        if connection.execute(statements.RENEW_NODE, self._params()).one_or_none() is None:
            self._state = _State()
            raise NodeSuperseded(
                f"node {self.name!r} (instance {self.instance_id[:8]}) no longer holds its name: another "
                "instance registered while this one could not renew; this process must stop"
            )
        return {
            row.camera_id: row.epoch for row in connection.execute(statements.RENEW_LEASES, self._params())
        }

    def _snapshot(self, connection: Connection, specs: Sequence[CameraSpec]) -> tuple[list[NodeView], list]:
        nodes = [
            NodeView(row.name, row.county, row.max_cameras, bool(row.alive))
            for row in connection.execute(statements.NODES)
        ]
        leases = {row.camera_id: row for row in connection.execute(statements.LEASES)}
        stale = [
            {"camera_id": spec.camera_id, "pinned_to": spec.pinned_to}
            for spec in specs
            if spec.camera_id not in leases or leases[spec.camera_id].pinned_to != spec.pinned_to
        ]
        if stale:
            connection.execute(statements.SYNC_CAMERA, stale)
        return nodes, list(leases.values())

    def _as_seen(self, leases: Sequence, renewed: dict[str, int]) -> list[LeaseView]:
        """The snapshot's leases, with this node's own as its renewal just found them."""
        views = []
        for row in leases:
            if row.owner == self.name:
                views.append(LeaseView(row.camera_id, self.name, row.epoch, row.camera_id in renewed))
            else:
                views.append(LeaseView(row.camera_id, row.owner, row.epoch, bool(row.live)))
        return views

    def _claim(self, plan: Plan, stop_at: float) -> tuple[dict[str, int], str | None]:
        """Claim what the plan allows, one committed transaction a camera, stopping at the room left
        or at ``stop_at`` (the clock's time), so that the next renewal is never late: at start-up, on
        a loaded database, a hundred claims take seconds. The next tick claims the rest.

        Returns what was won, and why claiming stopped early when the database went away.
        """
        won: dict[str, int] = {}
        room = plan.room  # pinned cameras are claimed whatever the room: they have nowhere else to go
        try:
            with self.engine.connect() as connection:
                for candidates, group_room, pinned in (
                    (plan.claim_pinned, len(plan.claim_pinned), True),
                    (plan.claim_home, plan.home_room, False),
                    (plan.claim_general, plan.general_room, False),
                ):
                    taken = 0
                    for camera_id in candidates:
                        if taken >= group_room or (not pinned and room <= 0) or self._clock() >= stop_at:
                            break
                        epoch = self._claim_or_skip(connection, camera_id, pinned=pinned)
                        if epoch is not None:
                            won[camera_id] = epoch
                            taken += 1
                            room -= 0 if pinned else 1
        except DBAPIError as exc:
            if not _unreachable(exc):
                raise
            return won, _reason(exc)
        return won, None

    def _claim_or_skip(self, connection: Connection, camera_id: str, *, pinned: bool) -> int | None:
        """A claim, skipped when the lease row stays locked past lock_timeout (a writer's fence check)."""
        try:
            return self._claim_one(connection, camera_id, pinned=pinned)
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                return None
            raise

    def claim(self, camera_id: str, *, pinned: bool = False) -> int | None:
        """Claim one camera now, outside the plan: its new epoch, or None when it is not free.

        The plan's claims go through here too; two nodes racing for one camera never both win.
        """
        with self.engine.connect() as connection:
            epoch = self._claim_one(connection, camera_id, pinned=pinned)
        if epoch is not None:
            with self._lock:
                state = self._state
                pinned_set = state.pinned | {camera_id} if pinned else state.pinned
                self._state = _State({**state.owned, camera_id: epoch}, pinned_set, state.safe_until)
        return epoch

    def _claim_one(self, connection: Connection, camera_id: str, *, pinned: bool) -> int | None:
        with connection.begin():
            connection.execute(statements.LOCK_FOR_CLAIM, {"camera_id": camera_id})
            row = connection.execute(
                statements.CLAIM,
                self._params(camera_id=camera_id, pinned_to=self.name if pinned else None),
            ).one_or_none()
        return None if row is None else int(row.epoch)

    def _offline(self, before: _State, specs: Sequence[CameraSpec], reason: str) -> TickResult:
        """The database cannot be reached: keep pinned cameras; the rest only until safe_until."""
        pinned_here = {spec.camera_id for spec in specs if spec.pinned_to == self.name}
        if self._clock() < before.safe_until:
            owned = dict(before.owned)
        else:
            owned = {key: epoch for key, epoch in before.owned.items() if key in pinned_here}
        lost = tuple(sorted(set(before.owned) - set(owned)))
        pinned = frozenset(pinned_here & owned.keys())
        self._state = _State(owned, pinned, before.safe_until)
        return TickResult(
            owned=dict(owned),
            gained={},
            lost=lost,
            should_release=(),
            pinned=pinned,
            database_ok=False,
            offline=tuple(sorted(pinned)),
            safe_until=before.safe_until,
            error=reason,
        )

    # --- a loop for a node process ------------------------------------------------------------

    def run(
        self,
        cameras: Callable[[], Iterable[CameraItem]],
        on_tick: Callable[[TickResult], None],
        stop: threading.Event,
    ) -> None:
        """Tick every ``renew_interval_s`` until ``stop`` is set; ``on_tick`` acts on each result.

        A tick that takes longer than the interval is said in the log (at most once a minute, with
        how many there were): the node's writes stop when its renewals fall ``ttl_s -
        safety_margin_s`` behind, and the log should tell why before that happens."""
        while not stop.is_set():
            began = self._clock()
            result = self._tick(lambda: self._specs(cameras()))
            acted_at = self._clock()
            on_tick(result)
            took = self._clock() - began
            if took > self.renew_interval_s:
                self._slow_tick(took, {**self.last_tick_parts, "acting on it": self._clock() - acted_at})
            stop.wait(max(0.0, self.renew_interval_s - took))

    def _slow_tick(self, took: float, parts: dict[str, float]) -> None:
        self._slow_ticks += 1
        now = self._clock()
        if now < self._slow_said_at + SLOW_TICK_LOG_EVERY_S:
            return
        spent = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in parts.items())
        log.warning(
            "node %s: a lease tick took %.1f s (%s; one is due every %.1f s, and writing stops %.1f s "
            "after the last renewal began; %d slow tick(s) since the last such line): the node or its "
            "database is overloaded",
            self.name,
            took,
            spent,
            self.renew_interval_s,
            self.ttl_s - self.safety_margin_s,
            self._slow_ticks,
        )
        self._slow_ticks, self._slow_said_at = 0, now
