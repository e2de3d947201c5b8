"""The county map panel: on the wall (every county) and on a county's page (that county only).

The figure is :func:`watchwall.dashboard.county_map_figure.county_map_figure`; this module gathers
its inputs (the shipped outlines, today's located checks, the centres' camera states), lays out the
panel and refreshes it with the page's push (``push-refresh`` on the wall, ``centre-refresh`` on a
centre page). Access is checked in every callback as for the rest of each page.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from dash import Input, Output, State, dcc, html

from watchwall.dashboard import access, figure_cache
from watchwall.dashboard.auth import current_principal
from watchwall.dashboard.context import AppContext, current
from watchwall.dashboard.county_map_figure import MapCentre, MapCheck, county_map_figure
from watchwall.dashboard.i18n import normalise, t
from watchwall.metrics.geo.boundaries import outlines_geojson
from watchwall.metrics.geo.day_checks import located_checks
from watchwall.metrics.localtime import local_day

WALL_SIZE = (400, 300)
CENTRE_SIZE = (440, 330)
GRAPH_CONFIG = {"displayModeBar": False, "scrollZoom": True}


def county_map_panel(scope: str, language: str, county: str | None = None) -> html.Section:
    """The panel; ``scope`` is ``"wall"`` or ``"centre"`` (one of each per page)."""
    title = t("map.title" if county is None else "map.title_county", language)
    return html.Section(
        [
            html.H3(title, className="county-map-title"),
            dcc.Graph(
                id=f"{scope}-county-map",
                className="county-map-graph",
                config=GRAPH_CONFIG,
                responsive=True,
                # the wall draws its map with its charts, once the live tiles play (see wall.py)
                figure=map_figure(current(), language, county) if scope != "wall" else {},
            ),
        ],
        className=f"county-map county-map-{scope}",
        **{"data-county": county or ""},
    )


def centre_states(context: AppContext) -> dict[str, tuple[int | None, int]]:
    """Centre code -> (cameras online or None when nothing is known, enabled cameras)."""
    enabled = {c.code: sum(camera.enabled for camera in c.cameras()) for c in context.site.centres}
    if context.media is None:
        return {code: (None, count) for code, count in enabled.items()}
    online = Counter(h.centre for h in context.media.health().values() if h.state == "online")
    return {code: (online.get(code, 0), count) for code, count in enabled.items()}


def map_figure(context: AppContext, language: str, county: str | None = None, now: datetime | None = None):
    now = now or datetime.now(UTC)
    today = local_day(now, context.settings.zone)
    # the checks change with the data: cached with the other figures until the push watcher sees a change
    rows = figure_cache.cached(
        context, ("county-map-checks", county), lambda: _checks(context, today, county)
    )
    states = centre_states(context)
    centres = [
        MapCentre(
            c.code,
            c.label.get(language),
            c.coordinates.lat,
            c.coordinates.lon,
            *states.get(c.code, (None, 0)),
        )
        for c in context.site.centres
        if c.coordinates is not None
    ]
    size = WALL_SIZE if county is None else CENTRE_SIZE
    return county_map_figure(outlines_geojson(), rows, centres, language, county=county, size=size)


def _checks(context: AppContext, today, county: str | None) -> list[MapCheck]:
    with context.engine.connect() as connection:
        return [MapCheck(*row) for row in located_checks(connection, today, county) if row[1] != "missed"]


def register_callbacks(app) -> None:
    @app.callback(
        Output("wall-county-map", "figure"),
        Input("wall-charts-go", "n_clicks"),
        Input("push-refresh", "n_clicks"),
        Input("wall-cameras-refresh", "n_clicks"),
        State("wall-language", "data"),
        prevent_initial_call=True,
    )
    def refresh_wall_map(_go, _version, _cameras, language):
        principal = current_principal()
        access.require(principal is not None and access.can_see_wall(principal))
        return map_figure(current(), normalise(language))

    @app.callback(
        Output("centre-county-map", "figure"),
        Input("centre-refresh", "n_clicks"),
        State("centre-code", "data"),
        State("centre-language", "data"),
        prevent_initial_call=True,
    )
    def refresh_centre_map(_version, code, language):
        principal = current_principal()
        access.require(
            principal is not None and code is not None and access.can_open_centre_page(principal, code)
        )
        context = current()
        county = code if any(c.code == code for c in context.site.counties) else None
        return map_figure(context, normalise(language), county)
