"""The county map on the wall and on a county page, in Chromium: drawn from the shipped outlines with
no request leaving the server, out-of-area checks (decided at intake) as red pins, 1080p screenshots."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from .conftest import ARTIFACTS, login_as

pytestmark = [pytest.mark.browser]

FIGURE_JS = "id => document.getElementById(id).querySelector('.js-plotly-plot')"


def _subject_at_home(db: Path) -> tuple[str, float, float, float]:
    """A qinzhou subject under supervision today with a radius area: (external id, lat, lon, radius)."""
    with sqlite3.connect(db) as connection:
        return connection.execute(
            "SELECT s.external_id, a.home_latitude, a.home_longitude, a.radius_m FROM subjects s"
            " JOIN subject_areas a ON a.subject_id = s.id WHERE s.county = 'qinzhou' AND a.kind = 'radius'"
            " AND s.end_date >= date('now') AND s.start_date <= date('now', '-1 day') ORDER BY s.id LIMIT 1"
        ).fetchone()


def _out_of_area_today(db: Path, county: str | None) -> int:
    """The demo data's own out-of-area checks of today (the site's day) that the map shows as pins."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    query = (
        "SELECT count(*) FROM location_checks WHERE result = 'out_of_area' AND local_day = ?"
        " AND latitude IS NOT NULL AND longitude IS NOT NULL"
    )
    arguments: list = [today]
    if county is not None:
        query += " AND county = ?"
        arguments.append(county)
    with sqlite3.connect(db) as connection:
        return connection.execute(query, arguments).fetchone()[0]


def _guard_network(context, server_url: str) -> list[str]:
    """Abort and record every request that would leave the server (any other host or scheme)."""
    own = urlsplit(server_url).netloc
    leaving: list[str] = []

    def route(route, request):
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != own:
            leaving.append(request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", route)
    context.on("websocket", lambda socket: urlsplit(socket.url).netloc != own and leaving.append(socket.url))
    return leaving


def _drawn(page, graph_id: str, timeout_ms: int = 60_000) -> dict:
    page.wait_for_selector(f"#{graph_id} .maplibregl-canvas", timeout=timeout_ms)
    page.wait_for_function(
        f"() => {{ const p = ({FIGURE_JS})('{graph_id}'); return p && p._fullLayout && p._fullLayout.map"
        " && p._fullLayout.map._subplot && p._fullLayout.map._subplot.map.loaded(); }",
        timeout=timeout_ms,
    )
    return page.evaluate(
        f"() => {{ const p = ({FIGURE_JS})('{graph_id}'); return {{"
        " style: p.layout.map.style, counties: p.layout.map.layers[0].source.features.map(f => f.id),"
        " points: p.data.map(t => t.lon.length) }; }"
    )


@pytest.mark.slow
def test_map_draws_offline_with_out_of_area_pins(served_factory, browser, tmp_path):
    (tmp_path / "srv").mkdir()
    server = served_factory(tmp_path / "srv", users=("command", "sup-qinzhou"))
    server.start("--no-ingest", timeout=360)  # loads the demo case data first: slow on a busy machine
    try:
        subject, lat, lon, radius = _subject_at_home(tmp_path / "srv" / "watchwall.db")
        now = datetime.now(UTC).replace(microsecond=0).isoformat()
        far = radius * 3 / 111_320  # three times the radius north or south of home, in degrees
        rows = tmp_path / "today.csv"
        rows.write_text(
            "external_id,subject,checked_at,method,result,latitude,longitude\n"
            f"map-in,{subject},{now},dingtalk,ok,{lat},{lon}\n"
            f"map-out-1,{subject},{now},dingtalk,ok,{lat + far},{lon}\n"
            f"map-out-2,{subject},{now},electronic,ok,{lat - far},{lon}\n",
            encoding="utf-8",
        )
        demo_out = {
            county: _out_of_area_today(tmp_path / "srv" / "watchwall.db", county)
            for county in (None, "qinzhou")
        }  # the demo's own pins of today: none in the small hours, some later in the day
        imported = server.cli("import", "checkins", str(rows))
        assert imported.returncode == 0, imported.stderr
        with sqlite3.connect(tmp_path / "srv" / "watchwall.db") as connection:
            results = dict(
                connection.execute(
                    "SELECT external_id, result FROM location_checks WHERE external_id LIKE 'map-%'"
                )
            )
        assert results == {"map-in": "ok", "map-out-1": "out_of_area", "map-out-2": "out_of_area"}

        shots = ARTIFACTS / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        for user, path, graph, counties, county in (
            ("command", "/wall", "wall-county-map", 7, None),
            ("sup-qinzhou", "/centres/qinzhou", "centre-county-map", 1, "qinzhou"),
        ):
            context = login_as(browser, server, user, viewport={"width": 1920, "height": 1080})
            leaving = _guard_network(context, server.url)
            page = context.new_page()
            try:
                assert page.goto(f"{server.url}{path}?lang=zh-CN").status == 200
                drawn = _drawn(page, graph)
                assert drawn["style"] == "white-bg"
                assert len(drawn["counties"]) == counties
                ok, _halo, out, _ring, centres = drawn["points"]
                assert out == demo_out[county] + 2 and ok >= 1 and centres >= 1
                page.locator(f"#{graph}").scroll_into_view_if_needed()
                page.wait_for_timeout(1500)  # let the map paint its layers before the picture
                name = f"county-map-{graph}-1080p.png"
                page.screenshot(path=str(tmp_path / name))
                page.locator(f"#{graph}").screenshot(path=str(tmp_path / f"county-map-{graph}-panel.png"))
                (shots / name).write_bytes((tmp_path / name).read_bytes())
                assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
            finally:
                context.close()
            assert leaving == [], f"requests left the server: {json.dumps(leaving)[:500]}"
    finally:
        server.stop()
