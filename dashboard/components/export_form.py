"""The evidence export form of /recordings: a span of the chosen camera and a required reason.

The form posts to ``/recordings/export`` (dashboard/recording_routes.py), which checks
everything again; the callback here only says at once that a reason is missing.
"""

from __future__ import annotations

from collections.abc import Callable

from dash import Input, Output, State, dcc, html

from watchwall.dashboard.access import require
from watchwall.dashboard.components.panel_style import BUTTON, INPUT, PANEL, labelled
from watchwall.dashboard.i18n import t


def export_form(language: str) -> html.Section:
    def text_input(name: str, label: str, **extra):
        return labelled(
            label, dcc.Input(id=f"rec-export-{name}", name=name, type="text", style=INPUT, **extra)
        )

    return html.Section(
        [
            html.H2(t("rec.export.title", language), style={"margin": 0, "fontSize": "1.1em"}),
            html.Form(
                [
                    dcc.Input(id="rec-export-camera", name="camera", type="hidden"),
                    text_input("from", t("rec.export.from", language)),
                    text_input("to", t("rec.export.to", language)),
                    text_input(
                        "reason",
                        t("rec.export.reason", language),
                        placeholder=t("rec.export.reason_hint", language),
                        required=True,
                    ),
                    html.P(
                        id="rec-export-error",
                        role="alert",
                        style={"color": "#ff6b6b", "margin": 0, "minHeight": "1.2em"},
                    ),
                    html.Button(
                        t("rec.export.submit", language), id="rec-export-submit", type="submit", style=BUTTON
                    ),
                ],
                id="rec-export-form",
                action="/recordings/export",
                method="post",
                style={"display": "flex", "flexDirection": "column", "gap": "8px"},
            ),
            html.P(t("rec.export.note", language), style={"margin": 0, "opacity": 0.7, "fontSize": "0.85em"}),
        ],
        style={**PANEL, "flex": "1 1 0", "display": "flex", "flexDirection": "column", "gap": "8px"},
    )


def register_callbacks(app, allowed: Callable[[], bool]) -> None:
    """``allowed`` is the page's access check, run again in every callback."""

    @app.callback(
        [Output("rec-export-error", "children")],
        Input("rec-export-submit", "n_clicks"),
        State("rec-export-reason", "value"),
        State("rec-language", "data"),
        prevent_initial_call=True,
    )
    def check_reason(_clicks, reason, language):
        require(allowed())
        return [
            "" if isinstance(reason, str) and reason.strip() else t("rec.export.reason_required", language)
        ]
