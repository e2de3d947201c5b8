"""The county map's figure as a pure function: one county or all, offline style, pins and centres."""

from __future__ import annotations

from watchwall.dashboard.county_map_figure import MapCentre, MapCheck, county_map_figure, fit_view
from watchwall.metrics.geo.boundaries import outlines_geojson


def test_figure_for_one_county_holds_only_that_county():
    checks = [
        MapCheck("qinzhou", "ok", 34.58, 105.72),
        MapCheck("qinzhou", "out_of_area", 34.70, 105.60),
        MapCheck("maiji", "out_of_area", 34.57, 105.89),
    ]
    centres = [
        MapCentre("qinzhou", "秦州区", 34.5788, 105.7244, 5, 6),
        MapCentre("maiji", "麦积区", 34.57, 105.89, None, 6),
    ]
    whole = county_map_figure(outlines_geojson(), checks, centres, "zh-CN")
    assert whole.layout.map.style == "white-bg"
    assert len(whole.layout.map.layers[0].source["features"]) == 7
    assert [len(trace.lon) for trace in whole.data] == [1, 2, 2, 2, 2]
    assert list(whole.data[4].marker.color) == ["#f08c00", "#868e96"]  # degraded, unknown
    one = county_map_figure(outlines_geojson(), checks, centres, "en", county="qinzhou")
    assert [f["id"] for f in one.layout.map.layers[0].source["features"]] == ["qinzhou"]
    assert [len(trace.lon) for trace in one.data] == [1, 1, 1, 1, 1]
    assert one.layout.map.zoom > whole.layout.map.zoom
    assert all(trace.mode == "markers" for trace in one.data)  # no text: no glyphs to fetch


def test_fit_view_contains_the_outline():
    feature = outlines_geojson()["features"][0]
    view = fit_view([feature], 400, 300)
    assert 104 < view["center"]["lon"] < 107 and 34 < view["center"]["lat"] < 35.5
    assert 7 < view["zoom"] < 11
