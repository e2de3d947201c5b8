"""The county outlines WatchWall ships (``assets/maps/tianshui-counties.geojson``, WGS-84), read once."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

OUTLINES_PATH = Path(__file__).resolve().parents[2] / "assets" / "maps" / "tianshui-counties.geojson"


@lru_cache(maxsize=1)
def outlines_geojson() -> dict:
    """The FeatureCollection as loaded (one Feature per county, ``id`` = county code). Do not mutate."""
    return json.loads(OUTLINES_PATH.read_text(encoding="utf-8"))


def county_outlines() -> dict[str, list]:
    """County code -> MultiPolygon coordinates."""
    return {feature["id"]: feature["geometry"]["coordinates"] for feature in outlines_geojson()["features"]}


def county_feature(code: str) -> dict | None:
    return next((f for f in outlines_geojson()["features"] if f["id"] == code), None)
