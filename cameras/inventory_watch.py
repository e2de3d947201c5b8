"""Watching the inventory: when a camera is added, edited, enabled, disabled or deleted, hand on the new pull list.

The table is polled with one aggregate query (row count and latest ``updated_at``)
every ``interval_s``; only when that changes are the rows read and the merged
site handed to ``apply``. A failed poll or apply (database restarting, a camera
that cannot be started) is logged and tried again at the next tick.

Once a change is applied, ``cameras.changed`` goes to the room of every centre whose
camera list changed (through the event sink the ingest uses), so open pages reload
their camera lists; a page only hears of the centres its user may see.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from watchwall.cameras.pull_list import InventoryStamp, inventory_stamp, load_inventory, site_with_inventory
from watchwall.config.site import Site

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 3.0
CAMERAS_CHANGED = "cameras.changed"


def _database_reason(exc: SQLAlchemyError) -> str:
    """The driver's first line (no SQL, no parameters), as for the other database errors."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return f"{exc.__class__.__name__}: {text.splitlines()[0] if text else ''}"


def pull_list_now(site_file: Site, engine: Engine) -> tuple[InventoryStamp, Site]:
    """The stamp, then the merged site: a change made in between is seen again at the next poll."""
    stamp = inventory_stamp(engine)
    return stamp, site_with_inventory(site_file, load_inventory(engine))


def _camera_lists(site: Site) -> dict[str, tuple]:
    """Per centre, everything a page shows of its cameras: rooms, names, sources, enabled."""
    return {
        centre.code: tuple(
            (room.code, room.name.model_dump(), tuple(camera.model_dump_json() for camera in room.cameras))
            for room in centre.rooms
        )
        for centre in site.centres
    }


def changed_centres(old: Site | None, new: Site) -> list[str]:
    """The centres of ``new`` whose camera list differs from ``old`` (all of them when ``old`` is None)."""
    before = _camera_lists(old) if old is not None else {}
    return [code for code, cameras in _camera_lists(new).items() if before.get(code) != cameras]


def announce_changes(sink, old: Site | None, new: Site) -> list[str]:
    """Emit ``cameras.changed`` to each changed centre's room; a failed emit is logged, not raised."""
    centres = changed_centres(old, new)
    for code in centres:
        try:
            sink.emit(CAMERAS_CHANGED, {"centre": code}, room=code)
        except Exception:  # the change is applied; a page that misses the event shows it at its next load
            log.exception("inventory watch: announcing the change of centre %s failed", code)
    return centres


class InventoryWatcher:
    def __init__(
        self,
        engine: Engine,
        site_file: Site,
        apply: Callable[[Site], object],
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
        applied: InventoryStamp | None = None,
    ) -> None:
        """``applied`` is the stamp of the pull list already in use (None: apply at the first poll)."""
        self.engine = engine
        self.site_file = site_file
        self.apply = apply
        self.interval_s = interval_s
        self.applied = applied
        self.polls = 0
        self.changes = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="inventory-watch", daemon=True)

    def start(self) -> InventoryWatcher:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> bool:
        """True once the thread has ended (an apply in progress is waited for up to ``timeout``)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self.interval_s)

    def poll_once(self) -> bool:
        """Apply the inventory if it changed since the last apply; True if it was applied."""
        try:
            stamp = inventory_stamp(self.engine)
            self.polls += 1
            if stamp == self.applied:
                return False
            stamp, site = pull_list_now(self.site_file, self.engine)
            if self._stop.is_set():
                return False
            self.apply(site)
        except SQLAlchemyError as exc:  # the database is away: keep what is pulled, look again next tick
            self.last_error = _database_reason(exc)
            log.warning("inventory watch: %s", self.last_error)
            return False
        except Exception as exc:  # an apply that failed is tried again at the next tick
            log.exception("inventory watch: applying the inventory failed")
            self.last_error = str(exc)
            return False
        self.applied = stamp
        self.changes += 1
        self.last_error = None
        return True


def watch_inventory(
    engine: Engine,
    site_file: Site,
    ingest=None,
    *,
    on_site: Callable[[Site], object] | None = None,
    sink=None,
    site: Site | None = None,
    applied: InventoryStamp | None = None,
    interval_s: float = DEFAULT_INTERVAL_S,
) -> InventoryWatcher:
    """Start watching: each new pull list goes to ``ingest.sync`` (if any), then to ``on_site`` (the pages).

    With an event ``sink`` (``emit(event, payload, room)``), the centres whose cameras changed
    since ``site`` (the pull list in use) are announced after both.
    """
    shown = {"site": site}

    def apply(new_site: Site) -> None:
        if ingest is not None:
            ingest.sync(new_site)
        if on_site is not None:
            on_site(new_site)
        if sink is not None:
            announce_changes(sink, shown["site"], new_site)
        shown["site"] = new_site

    return InventoryWatcher(engine, site_file, apply, interval_s=interval_s, applied=applied).start()
