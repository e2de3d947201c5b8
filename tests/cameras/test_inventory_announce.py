"""``cameras.changed``: the inventory watcher tells each changed centre's room, after the pages have the new list.

Real parts: PostgreSQL (the inventory), the project's own in-memory event sink.
"""

from __future__ import annotations

import time

import pytest

from tests.support.rtsp_process import wait_until
from watchwall.cameras.inventory import set_enabled
from watchwall.cameras.inventory_watch import CAMERAS_CHANGED, changed_centres, pull_list_now, watch_inventory
from watchwall.cameras.models import InventoryCamera
from watchwall.cameras.parsers import parse_address
from watchwall.config.database import make_engine, session_scope, upgrade
from watchwall.config.errors import UserError
from watchwall.config.site import LocalizedName, Site
from watchwall.video.state.events import MemorySink


def site_file() -> Site:
    rooms = [
        {
            "code": "checkin",
            "name": "报到登记室",
            "cameras": [{"id": "qz-site", "name": "入口", "demo": True}],
        }
    ]
    return Site.model_validate(
        {
            "centres": [
                {"code": "qinzhou", "name": "秦州区", "level": "county", "rooms": rooms},
                {"code": "gangu", "name": "甘谷县", "level": "county"},
                {"code": "maiji", "name": "麦积区", "level": "county"},
            ]
        }
    )


def inventory_row(camera_id: str, centre: str) -> InventoryCamera:
    return InventoryCamera(
        id=camera_id,
        centre=centre,
        room="checkin",
        name=f"{camera_id} 摄像机",
        onvif_host="127.0.0.1",
        onvif_port=8080,
        main_stream_uri="rtsp://127.0.0.1:8554/video_main",
        ptz_capable=False,
        enabled=True,
    )


@pytest.fixture
def inventory_engine(scratch_database_url):
    upgrade(scratch_database_url)
    engine = make_engine(scratch_database_url)
    yield engine
    engine.dispose()


def test_changed_centres_names_only_the_centres_whose_camera_list_moved():
    site = site_file()
    assert changed_centres(site, site) == []
    assert changed_centres(None, site) == ["qinzhou", "gangu", "maiji"]
    centre = site.centres[0]
    room = centre.rooms[0]
    disabled = room.cameras[0].model_copy(update={"enabled": False})
    renamed = room.cameras[0].model_copy(update={"name": LocalizedName(zh="大门", en="Gate")})
    for camera in (disabled, renamed):
        changed = site.model_copy(
            update={
                "centres": [
                    centre.model_copy(update={"rooms": [room.model_copy(update={"cameras": [camera]})]}),
                    *site.centres[1:],
                ]
            }
        )
        assert changed_centres(site, changed) == ["qinzhou"]


class PagesSink(MemorySink):
    """Records, with each event, which cameras the pages were showing when it was sent."""

    def __init__(self, pages: dict) -> None:
        super().__init__()
        self.pages = pages
        self.shown_at_emit: list[dict[str, bool]] = []

    def emit(self, event: str, payload: dict, room: str | None = None) -> None:
        site = self.pages["site"]
        self.shown_at_emit.append({p.camera.id: p.camera.enabled for p in site.cameras()})
        super().emit(event, payload, room)


def test_a_disabled_camera_is_announced_to_its_centre_only_after_the_pages_have_it(inventory_engine):
    with session_scope(inventory_engine) as session:
        session.add_all([inventory_row("qz-inv", "qinzhou"), inventory_row("mj-inv", "maiji")])
    stamp, site = pull_list_now(site_file(), inventory_engine)
    pages = {"site": site}
    sink = PagesSink(pages)
    watcher = watch_inventory(
        inventory_engine,
        site_file(),
        on_site=lambda new: pages.update(site=new),
        sink=sink,
        site=site,
        applied=stamp,
        interval_s=0.1,
    )
    try:
        time.sleep(0.5)
        assert sink.events == []  # nothing changed: nothing said
        set_enabled(inventory_engine, "qz-inv", False)
        wait_until(lambda: sink.events, 10, what="cameras.changed")
        time.sleep(0.5)  # a second poll must not repeat it
        assert sink.events == [(CAMERAS_CHANGED, {"centre": "qinzhou"}, "qinzhou")]
        assert sink.shown_at_emit == [{"qz-site": True, "qz-inv": False, "mj-inv": True}]

        sink.clear()
        with session_scope(inventory_engine) as session:
            session.add(inventory_row("gg-new", "gangu"))
        set_enabled(inventory_engine, "mj-inv", False)
        wait_until(lambda: len({room for _, _, room in sink.events}) == 2, 10, what="both centres announced")
        assert sorted(room for _, _, room in sink.events) == ["gangu", "maiji"]
        assert all(payload == {"centre": room} for _, payload, room in sink.events)
    finally:
        assert watcher.stop(timeout=5)


def test_an_address_with_port_zero_or_out_of_range_is_refused():
    assert parse_address("127.0.0.1:8080") == ("127.0.0.1", 8080)
    for text in ("127.0.0.1:0", "127.0.0.1:70000", "127.0.0.1:http", ""):
        with pytest.raises(UserError):
            parse_address(text)
