"""The desk pages' panels and form controls on the dark theme (used by /recordings and its parts)."""

from __future__ import annotations

from dash import html

PANEL = {
    "background": "rgba(255,255,255,0.03)",
    "border": "1px solid rgba(63,167,255,0.25)",
    "borderRadius": "6px",
    "padding": "10px 14px",
}
FIELD = {"display": "flex", "flexDirection": "column", "gap": "4px", "minWidth": "180px"}
CONTROL = {
    "color": "#0b1422"
}  # dropdowns and the date picker draw on white: the page's light text is unreadable there
INPUT = {"background": "#0f1c2e", "color": "#dbe4f0", "border": "1px solid #2c4a6e", "borderRadius": "4px"}
BUTTON = {
    "background": "#1d5fa0",
    "color": "#fff",
    "border": "none",
    "borderRadius": "4px",
    "padding": "6px 16px",
    "cursor": "pointer",
    "font": "inherit",
}


def labelled(label: str, control, wide: bool = False) -> html.Label:
    """A control with its label above it."""
    return html.Label([html.Span(label), control], style={**FIELD, "minWidth": "320px" if wide else "200px"})
