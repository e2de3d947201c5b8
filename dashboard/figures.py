"""Plotly figures of the wall, as pure functions of query results (testable without a browser)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from math import ceil

import plotly.graph_objects as go

from watchwall.dashboard.i18n import t

INK = "#dbe4f0"
GRID = "rgba(219,228,240,0.12)"
PALETTE = ("#3fa7ff", "#ffb547", "#48d597", "#ff6b6b", "#b98cff", "#5ad1e6")
FONT_FAMILY = '"Noto Sans SC", "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif'

# Text sizes in px for a 1920 px wide screen; a wider screen scales them (see :func:`text_scale`),
# so a 4K wall read from metres away gets twice the size, never less than 20 px.
TITLE_PX, TEXT_PX, LEGEND_PX = 15, 12, 11
BASE_WIDTH_PX = 1920
MAX_SCALE = 3.0

# Compliance against its target: the further below, the warmer the bar.
COMPLIANCE_TARGET = 0.95
COMPLIANCE_BANDS = ((0.0, "#48d597"), (0.02, "#ffe066"), (0.05, "#ffb547"))  # (points below target, colour)
COMPLIANCE_FAR = "#ff6b6b"


def text_scale(viewport_width: float | None) -> float:
    """How much larger than at 1920 px the charts' text is drawn on a screen this wide."""
    if not viewport_width or viewport_width <= BASE_WIDTH_PX:
        return 1.0
    return min(MAX_SCALE, viewport_width / BASE_WIDTH_PX)


def _px(size: float, scale: float) -> int:
    return ceil(size * scale)


def _figure(
    data: list[dict], title: str, *, percent_axis: bool = False, scale: float = 1.0, **layout
) -> go.Figure:
    """One figure from plain trace and layout dicts, validated once on construction.

    Built whole rather than through ``update_layout`` / ``update_*axes`` / ``make_subplots``:
    each of those walks and validates the figure again, which made drawing the wall's four
    charts cost some 250 ms of a callback (benchmarks/dashboard/callbacks.py).
    """
    axis = {"gridcolor": GRID, "zeroline": False, "automargin": True}
    spec = {
        "title": {"text": title, "x": 0.01, "font": {"size": _px(TITLE_PX, scale)}},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": INK, "family": FONT_FAMILY, "size": _px(TEXT_PX, scale)},
        "margin": {
            "l": _px(48, scale),
            "r": _px(12, scale),
            "t": _px(36, scale),
            "b": _px(32, scale),
        },
        "legend": {"orientation": "h", "y": -0.18, "x": 0, "font": {"size": _px(LEGEND_PX, scale)}},
        "uirevision": "wall",  # keep zoom/legend state across pushed updates
        "xaxis": dict(axis),
        "yaxis": {**axis, **({"tickformat": ".0%", "range": [0.8, 1.0]} if percent_axis else {})},
    }
    for key, value in layout.items():
        spec[key] = {**spec[key], **value} if isinstance(value, dict) and key in spec else value
    return go.Figure({"data": data, "layout": spec})


def compliance_colour(rate: float | None, target: float = COMPLIANCE_TARGET) -> str:
    """The bar colour of a rate: green at or above the target, then warmer with the gap."""
    if rate is None:
        return GRID
    gap = target - rate
    colour = COMPLIANCE_FAR
    for below, band_colour in reversed(COMPLIANCE_BANDS):
        if gap <= below + 1e-9:
            colour = band_colour
    return colour


def day_label(day: date, language: str) -> str:
    return f"{day.month}月{day.day}日" if language == "zh-CN" else f"{MONTHS_EN[day.month - 1]} {day.day}"


def month_label(month: str, language: str, with_year: bool = True) -> str:
    """``"2026-01"`` as 2026年1月 / Jan 2026 (or 1月 / Jan without the year)."""
    year, number = (int(part) for part in month.split("-"))
    if language == "zh-CN":
        return f"{year}年{number}月" if with_year else f"{number}月"
    return f"{MONTHS_EN[number - 1]} {year}" if with_year else MONTHS_EN[number - 1]


MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DAY_TICKS = 4  # at most this many dates under a day axis, so that they stand upright
MONTH_TICKS = 6  # and months


def county_label(code: str, names: Mapping[str, str]) -> str:
    return names.get(code, code)


def compliance_by_county(
    rates: Mapping[str, float | None],
    names: Mapping[str, str],
    language: str,
    scale: float = 1.0,
    target: float = COMPLIANCE_TARGET,
) -> go.Figure:
    codes = [code for code in names if code in rates] + [code for code in rates if code not in names]
    values = [rates[code] for code in codes]
    bar = {
        "type": "bar",
        "x": [county_label(code, names) for code in codes],
        "y": [value if value is not None else 0 for value in values],
        "text": [f"{value:.1%}" if value is not None else "–" for value in values],
        "textposition": "outside",
        "constraintext": "none",  # plotly would shrink the labels of narrow bars below the wall's size
        "cliponaxis": False,
        "marker": {"color": [compliance_colour(value, target) for value in values]},
        "hovertemplate": "%{x}: %{text}<extra></extra>",
    }
    target_line = {
        "type": "line",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "y0": target,
        "y1": target,
        "line": {"color": COMPLIANCE_BANDS[0][1], "width": max(1, round(scale)), "dash": "dash"},
    }
    return _figure(
        [bar],
        t("chart.compliance_county", language),
        percent_axis=True,
        scale=scale,
        shapes=[target_line],
    )


def compliance_by_day(rates: Mapping[date, float | None], language: str, scale: float = 1.0) -> go.Figure:
    days = sorted(rates)
    every = max(1, ceil(len(days) / DAY_TICKS))
    ticks = days[::-1][::every][::-1]  # counted back from today, so the latest day is labelled
    line = {
        "type": "scatter",
        "x": [day.isoformat() for day in days],
        "y": [rates[day] for day in days],
        "mode": "lines+markers",
        "line": {"color": PALETTE[0], "width": 2},
        "marker": {"size": 4},
        "customdata": [day_label(day, language) for day in days],
        "hovertemplate": "%{customdata}: %{y:.1%}<extra></extra>",
    }
    # the dates are written here, in the page's language: plotly's own date ticks are English
    xaxis = {
        "tickmode": "array",
        "tickvals": [day.isoformat() for day in ticks],
        "ticktext": [day_label(day, language) for day in ticks],
        "tickangle": 0,
    }
    return _figure([line], t("chart.compliance_day", language), percent_axis=True, scale=scale, xaxis=xaxis)


def cases_by_month_and_type(
    counts: Mapping[str, Mapping[str, int]], language: str, scale: float = 1.0
) -> go.Figure:
    """``counts``: {case_type: {"YYYY-MM": n}}, stacked by type."""
    months = sorted({month for per_month in counts.values() for month in per_month})
    bars = [
        {
            "type": "bar",
            "name": t(f"case.{case_type}", language),
            "x": months,
            "y": [per_month.get(month, 0) for month in months],
            "marker": {"color": PALETTE[index % len(PALETTE)]},
            "customdata": [month_label(month, language) for month in months],
            "hovertemplate": "%{customdata}: %{y}<extra>%{fullData.name}</extra>",
        }
        for index, (case_type, per_month) in enumerate(sorted(counts.items()))
    ]
    # months as categories labelled here (the year on the first month labelled and on each January),
    # counted back from the latest month
    every = max(1, ceil(len(months) / MONTH_TICKS))
    labelled = months[::-1][::every][::-1]
    xaxis = {
        "type": "category",
        "tickmode": "array",
        "tickvals": labelled,
        "ticktext": [
            month_label(month, language, with_year=index == 0 or month.endswith("-01"))
            for index, month in enumerate(labelled)
        ],
        "tickangle": 0,
    }
    return _figure(bars, t("chart.cases_month", language), barmode="stack", scale=scale, xaxis=xaxis)


def _panel_title(text: str, x: float, scale: float = 1.0) -> dict:
    return {
        "text": text,
        "x": x,
        "y": 1.0,
        "xref": "paper",
        "yref": "paper",
        "xanchor": "center",
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"size": _px(TEXT_PX, scale), "color": INK},
    }


def resources_by_county(
    bases: Mapping[str, Mapping[str, int]],
    staff: Mapping[str, Mapping[str, int]],
    names: Mapping[str, str],
    language: str,
    scale: float = 1.0,
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
        scale=scale,
        annotations=[
            _panel_title(t("chart.bases", language), 0.23, scale),
            _panel_title(t("chart.staff", language), 0.77, scale),
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
        legend={"y": -0.12},
        margin={"l": _px(70, scale)},
    )


def checks_by_method(
    methods: Mapping[str, Mapping[str, int]], language: str, scale: float = 1.0
) -> go.Figure:
    labels = [t(f"method.{method}", language) for method in methods]
    pie = {
        "type": "pie",
        "labels": labels,
        "values": [figures["checks"] for figures in methods.values()],
        "hole": 0.55,
        "marker": {"colors": PALETTE[: len(labels)]},
        "textinfo": "label+percent",
    }
    return _figure([pie], t("chart.methods", language), showlegend=False, scale=scale)


def format_rate(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"
