"""A KPI card: a label over one big figure, optionally a small line beneath."""

from __future__ import annotations

from dash import html


def kpi_card(card_id: str, label: str, value: str, note: str | None = None) -> html.Div:
    children = [
        html.Div(label, className="kpi-label"),
        html.Div(value, className="kpi-value", id=f"kpi-{card_id}"),
    ]
    if note:
        children.append(html.Div(note, className="kpi-note"))
    return html.Div(children, className="kpi-card", **{"data-kpi": card_id})
