"""The county map as a pure function: outlines, today's location checks, centres with their camera state.

Drawn with plotly's ``scattermap`` on the ``white-bg`` style: no tile server and no network request
(no text on the map, whose glyphs a style would fetch; only circle markers, which need no sprite).
Out-of-area checks are red pins (a red dot on a dark ring); centres are coloured by their cameras'
state. Every coordinate is WGS-84 (``assets/maps/README.md``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import plotly.graph_objects as go

from watchwall.dashboard.figures import FONT_FAMILY
from watchwall.dashboard.i18n import t

OUTLINE = "#1f5f99"
FILL = "rgba(63,167,255,0.10)"
CHECK_OK = "#2f9e44"
OUT_OF_AREA = "#e03131"
STATE_COLOURS = {"online": "#2f9e44", "degraded": "#f08c00", "offline": "#e03131", "unknown": "#868e96"}
TILE = 512  # MapLibre's web-mercator tile size in pixels at zoom 0


@dataclass(frozen=True)
class MapCheck:
    county: str
    result: str  # ok | out_of_area (missed checks have no place)
    latitude: float
    longitude: float


@dataclass(frozen=True)
class MapCentre:
    code: str
    name: str
    latitude: float
    longitude: float
    cameras_online: int | None  # None: no ingest in this process, state unknown
    cameras: int

    @property
    def state(self) -> str:
        if self.cameras_online is None or self.cameras == 0:
            return "unknown"
        if self.cameras_online >= self.cameras:
            return "online"
        return "offline" if self.cameras_online == 0 else "degraded"


def _points(geometry: Mapping) -> Iterable[Sequence[float]]:
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    for rings in polygons:
        yield from rings[0]


def _mercator_y(lat: float) -> float:
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def fit_view(features: Sequence[Mapping], width_px: int, height_px: int, margin: float = 0.06) -> dict:
    """Centre and zoom that show every feature in a ``width_px`` x ``height_px`` map."""
    lons, lats = [], []
    for feature in features:
        for lon, lat in _points(feature["geometry"]):
            lons.append(lon)
            lats.append(lat)
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    span_x = math.radians(east - west) or 1e-6
    span_y = (_mercator_y(north) - _mercator_y(south)) or 1e-6
    usable = 1 - 2 * margin
    zoom_x = math.log2(width_px * usable * 2 * math.pi / (TILE * span_x))
    zoom_y = math.log2(height_px * usable * 2 * math.pi / (TILE * span_y))
    centre_y = (_mercator_y(north) + _mercator_y(south)) / 2
    centre_lat = math.degrees(2 * math.atan(math.exp(centre_y)) - math.pi / 2)
    return {"center": {"lon": (west + east) / 2, "lat": centre_lat}, "zoom": round(min(zoom_x, zoom_y), 2)}


def county_map_figure(
    outlines: Mapping,
    checks: Sequence[MapCheck],
    centres: Sequence[MapCentre],
    language: str,
    *,
    county: str | None = None,
    size: tuple[int, int] = (480, 360),
) -> go.Figure:
    """The map of every county, or of ``county`` alone (its outline, checks and centre only)."""
    features = [f for f in outlines["features"] if county is None or f["id"] == county]
    shown = {f["id"] for f in features}
    collection = {"type": "FeatureCollection", "features": features}
    checks = [c for c in checks if c.county in shown]
    centres = [c for c in centres if county is None or c.code == county]
    ok = [c for c in checks if c.result == "ok"]
    out = [c for c in checks if c.result == "out_of_area"]
    names = {f["id"]: f["properties"]["name_zh" if language == "zh-CN" else "name_en"] for f in features}
    data = [
        {
            "type": "scattermap",
            "name": f"{t('map.checks_ok', language)} ({len(ok)})",
            "lon": [c.longitude for c in ok],
            "lat": [c.latitude for c in ok],
            "mode": "markers",
            "marker": {"size": 5, "color": CHECK_OK, "opacity": 0.55},
            "hovertext": [names.get(c.county, c.county) for c in ok],
            "hovertemplate": "%{hovertext}<extra></extra>",
        },
        {  # the pins' dark ring, under the red dots
            "type": "scattermap",
            "lon": [c.longitude for c in out],
            "lat": [c.latitude for c in out],
            "mode": "markers",
            "marker": {"size": 15, "color": "#5c0a0a"},
            "hoverinfo": "skip",
            "showlegend": False,
        },
        {
            "type": "scattermap",
            "name": f"{t('map.out_of_area', language)} ({len(out)})",
            "lon": [c.longitude for c in out],
            "lat": [c.latitude for c in out],
            "mode": "markers",
            "marker": {"size": 11, "color": OUT_OF_AREA},
            "hovertext": [f"{t('map.out_of_area', language)} · {names.get(c.county, c.county)}" for c in out],
            "hovertemplate": "%{hovertext}<extra></extra>",
        },
        {  # centres: a dark ring under the state colour
            "type": "scattermap",
            "lon": [c.longitude for c in centres],
            "lat": [c.latitude for c in centres],
            "mode": "markers",
            "marker": {"size": 21, "color": "#0b1422"},
            "hoverinfo": "skip",
            "showlegend": False,
        },
        {
            "type": "scattermap",
            "name": t("map.centres", language),
            "lon": [c.longitude for c in centres],
            "lat": [c.latitude for c in centres],
            "mode": "markers",
            "marker": {"size": 15, "color": [STATE_COLOURS[c.state] for c in centres]},
            "hovertext": [_centre_text(c, language) for c in centres],
            "hovertemplate": "%{hovertext}<extra></extra>",
            "customdata": [c.code for c in centres],
        },
    ]
    view = fit_view(features, *size) if features else {"center": {"lon": 105.7, "lat": 34.6}, "zoom": 7}
    layout = {
        "map": {
            "style": "white-bg",
            **view,
            "layers": [
                {"source": collection, "type": "fill", "color": FILL, "below": "traces"},
                {"source": collection, "type": "line", "color": OUTLINE, "line": {"width": 1.6}},
            ],
        },
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "paper_bgcolor": "#ffffff",
        "font": {"family": FONT_FAMILY, "size": 12, "color": "#1b2b3f"},
        "legend": {
            "x": 0.01,
            "y": 0.99,
            "xanchor": "left",
            "yanchor": "top",
            "bgcolor": "rgba(255,255,255,0.8)",
            "font": {"size": 11},
        },
        "uirevision": f"county-map-{county or 'all'}",  # keep the user's pan/zoom across pushed updates
    }
    return go.Figure({"data": data, "layout": layout})


def _centre_text(centre: MapCentre, language: str) -> str:
    state = t(f"map.state.{centre.state}", language)
    if centre.cameras_online is None:
        return f"{centre.name}<br>{state}"
    return f"{centre.name}<br>{state} · {t('map.cameras_online', language)} {centre.cameras_online}/{centre.cameras}"
