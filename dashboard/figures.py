"""Plotly figures of the wall, as pure functions of query results (testable without a browser)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import plotly.graph_objects as go

from watchwall.dashboard.i18n import t

INK = "#dbe4f0"
GRID = "rgba(219,228,240,0.12)"
PALETTE = ("#3fa7ff", "#ffb547", "#48d597", "#ff6b6b", "#b98cff", "#5ad1e6")
FONT_FAMILY = '"Noto Sans SC", "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif'


def _figure(data: list[dict], title: str, *, percent_axis: bool = False, **layout) -> go.Figure:
    """One figure from plain trace and layout dicts, validated once on construction.

    Built whole rather than through ``update_layout`` / ``update_*axes`` / ``make_subplots``:
    each of those walks and validates the figure again, which made drawing the wall's four
    charts cost some 250 ms of a callback (benchmarks/dashboard/callbacks.py).
    """
    axis = {"gridcolor": GRID, "zeroline": False}
    spec = {
        "title": {"text": title, "x": 0.01, "font": {"size": 15}},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": INK, "family": FONT_FAMILY, "size": 12},
        "margin": {"l": 48, "r": 12, "t": 36, "b": 32},
        "legend": {"orientation": "h", "y": -0.18, "x": 0, "font": {"size": 11}},
        "uirevision": "wall",  # keep zoom/legend state across pushed updates
        "xaxis": dict(axis),
        "yaxis": {**axis, **({"tickformat": ".0%", "range": [0.8, 1.0]} if percent_axis else {})},
    }
    for key, value in layout.items():
        spec[key] = {**spec[key], **value} if isinstance(value, dict) and key in spec else value
    return go.Figure({"data": data, "layout": spec})


def county_label(code: str, names: Mapping[str, str]) -> str:
    return names.get(code, code)


def compliance_by_county(
    rates: Mapping[str, float | None], names: Mapping[str, str], language: str
) -> go.Figure:
    codes = [code for code in names if code in rates] + [code for code in rates if code not in names]
    values = [rates[code] for code in codes]
    bar = {
        "type": "bar",
        "x": [county_label(code, names) for code in codes],
        "y": [value if value is not None else 0 for value in values],
        "text": [f"{value:.1%}" if value is not None else "–" for value in values],
        "textposition": "outside",
        "cliponaxis": False,
        "marker": {"color": [PALETTE[2] if (value or 0) >= 0.95 else PALETTE[1] for value in values]},
        "hovertemplate": "%{x}: %{text}<extra></extra>",
    }
    return _figure([bar], t("chart.compliance_county", language), percent_axis=True)


def compliance_by_day(rates: Mapping[date, float | None], language: str) -> go.Figure:
    days = sorted(rates)
    line = {
        "type": "scatter",
        "x": [day.isoformat() for day in days],
        "y": [rates[day] for day in days],
        "mode": "lines+markers",
        "line": {"color": PALETTE[0], "width": 2},
        "marker": {"size": 4},
        "hovertemplate": "%{x}: %{y:.1%}<extra></extra>",
    }
    return _figure([line], t("chart.compliance_day", language), percent_axis=True)


def cases_by_month_and_type(counts: Mapping[str, Mapping[str, int]], language: str) -> go.Figure:
    """``counts``: {case_type: {"YYYY-MM": n}}, stacked by type."""
    months = sorted({month for per_month in counts.values() for month in per_month})
    bars = [
        {
            "type": "bar",
            "name": t(f"case.{case_type}", language),
            "x": months,
            "y": [per_month.get(month, 0) for month in months],
            "marker": {"color": PALETTE[index % len(PALETTE)]},
        }
        for index, (case_type, per_month) in enumerate(sorted(counts.items()))
    ]
    return _figure(bars, t("chart.cases_month", language), barmode="stack")


def _panel_title(text: str, x: float) -> dict:
    return {
        "text": text,
        "x": x,
        "y": 1.0,
        "xref": "paper",
        "yref": "paper",
        "xanchor": "center",
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"size": 12, "color": INK},
    }


def resources_by_county(
    bases: Mapping[str, Mapping[str, int]],
    staff: Mapping[str, Mapping[str, int]],
    names: Mapping[str, str],
    language: str,
) -> go.Figure:
    """``bases``/``staff``: {county: {kind: n}}; two panels of stacked bars per county (their scales differ)."""
    codes = list(names)
    labels = [county_label(code, names) for code in codes]
    bars = []
    for axis, (prefix, table) in (("", ("base", bases)), ("2", ("staff", staff))):
        for kind in sorted({k for row in table.values() for k in row}):
            bars.append(
                {
                    "type": "bar",
                    "name": t(f"{prefix}.{kind}", language),
                    "y": labels,
                    "x": [table.get(code, {}).get(kind, 0) for code in codes],
                    "orientation": "h",
                    "marker": {"color": PALETTE[len(bars) % len(PALETTE)]},
                    "xaxis": f"x{axis}",
                    "yaxis": f"y{axis}",
                }
            )
    # two panels side by side, 0.08 apart, as plotly's make_subplots(rows=1, cols=2) lays them out
    return _figure(
        bars,
        t("chart.resources_county", language),
        barmode="stack",
        annotations=[
            _panel_title(t("chart.bases", language), 0.23),
            _panel_title(t("chart.staff", language), 0.77),
        ],
        xaxis={"anchor": "y", "domain": [0.0, 0.46]},
        xaxis2={"gridcolor": GRID, "zeroline": False, "anchor": "y2", "domain": [0.54, 1.0]},
        yaxis={"anchor": "x", "domain": [0.0, 1.0], "autorange": "reversed"},
        yaxis2={
            "gridcolor": GRID,
            "zeroline": False,
            "anchor": "x2",
            "domain": [0.0, 1.0],
            "autorange": "reversed",
            "showticklabels": False,
        },
        legend={"y": -0.12, "font": {"size": 10}},
        margin={"l": 70},
    )


def checks_by_method(methods: Mapping[str, Mapping[str, int]], language: str) -> go.Figure:
    labels = [t(f"method.{method}", language) for method in methods]
    pie = {
        "type": "pie",
        "labels": labels,
        "values": [figures["checks"] for figures in methods.values()],
        "hole": 0.55,
        "marker": {"colors": PALETTE[: len(labels)]},
        "textinfo": "label+percent",
    }
    return _figure([pie], t("chart.methods", language), showlegend=False)


def format_rate(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"
