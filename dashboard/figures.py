"""Plotly figures of the wall, as pure functions of query results (testable without a browser)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.i18n import t

INK = "#dbe4f0"
GRID = "rgba(219,228,240,0.12)"
PALETTE = ("#3fa7ff", "#ffb547", "#48d597", "#ff6b6b", "#b98cff", "#5ad1e6")
FONT_FAMILY = '"Noto Sans SC", "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif'


def _layout(figure: go.Figure, title: str, *, percent_axis: bool = False) -> go.Figure:
    figure.update_layout(
        title={"text": title, "x": 0.01, "font": {"size": 15}},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font={"color": INK, "family": FONT_FAMILY, "size": 12},
        margin={"l": 48, "r": 12, "t": 36, "b": 32},
        legend={"orientation": "h", "y": -0.18, "x": 0, "font": {"size": 11}},
        uirevision="wall",  # keep zoom/legend state across pushed updates
    )
    figure.update_xaxes(gridcolor=GRID, zeroline=False)
    figure.update_yaxes(gridcolor=GRID, zeroline=False)
    if percent_axis:
        figure.update_yaxes(tickformat=".0%", range=[0, 1.0])
    return figure


def county_label(code: str, names: Mapping[str, str]) -> str:
    return names.get(code, code)


def compliance_by_county(
    rates: Mapping[str, float | None], names: Mapping[str, str], language: str
) -> go.Figure:
    codes = [code for code in names if code in rates] + [code for code in rates if code not in names]
    values = [rates[code] for code in codes]
    figure = go.Figure(
        go.Bar(
            x=[county_label(code, names) for code in codes],
            y=[value if value is not None else 0 for value in values],
            text=[f"{value:.1%}" if value is not None else "–" for value in values],
            textposition="outside",
            cliponaxis=False,
            marker_color=[PALETTE[2] if (value or 0) >= 0.95 else PALETTE[1] for value in values],
            hovertemplate="%{x}: %{text}<extra></extra>",
        )
    )
    _layout(figure, t("chart.compliance_county", language), percent_axis=True)
    figure.update_yaxes(range=[0.8, 1.0])
    return figure


def compliance_by_day(rates: Mapping[date, float | None], language: str) -> go.Figure:
    days = sorted(rates)
    figure = go.Figure(
        go.Scatter(
            x=[day.isoformat() for day in days],
            y=[rates[day] for day in days],
            mode="lines+markers",
            line={"color": PALETTE[0], "width": 2},
            marker={"size": 4},
            hovertemplate="%{x}: %{y:.1%}<extra></extra>",
        )
    )
    _layout(figure, t("chart.compliance_day", language), percent_axis=True)
    figure.update_yaxes(range=[0.8, 1.0])
    return figure


def cases_by_month_and_type(counts: Mapping[str, Mapping[str, int]], language: str) -> go.Figure:
    """``counts``: {case_type: {"YYYY-MM": n}}, stacked by type."""
    months = sorted({month for per_month in counts.values() for month in per_month})
    figure = go.Figure()
    for index, (case_type, per_month) in enumerate(sorted(counts.items())):
        figure.add_bar(
            name=t(f"case.{case_type}", language),
            x=months,
            y=[per_month.get(month, 0) for month in months],
            marker_color=PALETTE[index % len(PALETTE)],
        )
    figure.update_layout(barmode="stack")
    return _layout(figure, t("chart.cases_month", language))


def resources_by_county(
    bases: Mapping[str, Mapping[str, int]],
    staff: Mapping[str, Mapping[str, int]],
    names: Mapping[str, str],
    language: str,
) -> go.Figure:
    """``bases``/``staff``: {county: {kind: n}}; two panels of stacked bars per county (their scales differ)."""
    codes = list(names)
    labels = [county_label(code, names) for code in codes]
    figure = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.08,
        subplot_titles=(t("chart.bases", language), t("chart.staff", language)),
    )
    index = 0
    for column, (prefix, table) in enumerate((("base", bases), ("staff", staff)), start=1):
        for kind in sorted({k for row in table.values() for k in row}):
            figure.add_bar(
                name=t(f"{prefix}.{kind}", language),
                y=labels,
                x=[table.get(code, {}).get(kind, 0) for code in codes],
                orientation="h",
                marker_color=PALETTE[index % len(PALETTE)],
                row=1,
                col=column,
            )
            index += 1
    figure.update_layout(barmode="stack")
    figure.update_annotations(font={"size": 12, "color": INK})
    _layout(figure, t("chart.resources_county", language))
    figure.update_yaxes(autorange="reversed", col=1)
    figure.update_yaxes(autorange="reversed", showticklabels=False, col=2)
    figure.update_layout(legend={"y": -0.12, "font": {"size": 10}}, margin={"l": 70})
    return figure


def checks_by_method(methods: Mapping[str, Mapping[str, int]], language: str) -> go.Figure:
    labels = [t(f"method.{method}", language) for method in methods]
    figure = go.Figure(
        go.Pie(
            labels=labels,
            values=[figures["checks"] for figures in methods.values()],
            hole=0.55,
            marker={"colors": PALETTE[: len(labels)]},
            textinfo="label+percent",
        )
    )
    _layout(figure, t("chart.methods", language))
    figure.update_layout(showlegend=False)
    return figure


def format_rate(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"
