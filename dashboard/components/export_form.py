"""The evidence export form of /recordings: a span of the chosen camera and a required reason.

The form posts to ``/recordings/export`` (dashboard/recording_routes.py), which checks
everything again. The times are date-and-time pickers in the site's local time; before anything
is sent, assets/recordings-player.js refuses an end before the start or a span over the limit
(``data-max-span-s``), and the callback here says at once that a reason is missing. Where the user
may not export (a county supervisor without ``supervisors_may_export``), the form is shown disabled
with the reason, and still carries the chosen span for mark-in / mark-out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from dash import Input, Output, State, dcc, html

from watchwall.dashboard.access import require
from watchwall.dashboard.components.panel_style import BUTTON, INPUT, PANEL, labelled
from watchwall.dashboard.i18n import t


def export_form(language: str, enabled: bool = True, max_span_s: int = 24 * 3600) -> html.Section:
    def text_input(name: str, label: str, **extra):
        return labelled(
            label, dcc.Input(id=f"rec-export-{name}", name=name, type="text", style=INPUT, **extra)
        )

    def picker(name: str, label: str):
        # datetime-local: the browser's date and time picker, naive local (site) time, to the second
        return labelled(
            label,
            dcc.Input(
                id=f"rec-export-{name}",
                name=name,
                type="datetime-local",
                step=1,
                style={**INPUT, "colorScheme": "dark"},
            ),
        )

    return html.Section(
        [
            html.H2(t("rec.export.title", language), style={"margin": 0, "fontSize": "1.1em"}),
            html.Form(
                [
                    dcc.Input(id="rec-export-camera", name="camera", type="hidden"),
                    picker("from", t("rec.export.from", language)),
                    picker("to", t("rec.export.to", language)),
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
                        t("rec.export.submit", language),
                        id="rec-export-submit",
                        type="submit",
                        disabled=not enabled,
                        style=BUTTON if enabled else {**BUTTON, "opacity": 0.45, "cursor": "not-allowed"},
                    ),
                ],
                id="rec-export-form",
                action="/recordings/export",
                method="post",
                style={"display": "flex", "flexDirection": "column", "gap": "8px"},
                **{
                    "data-max-span-s": str(max_span_s),
                    "data-msg-order": t("pb.error.order", language),
                    "data-msg-span": t("pb.error.span", language).format(hours=max_span_s // 3600),
                    "data-msg-missing": t("pb.error.missing", language),
                },
            ),
            html.P(
                t("rec.export.note", language) if enabled else t("pb.export_inspectors", language),
                className="rec-export-note",
                style={"margin": 0, "opacity": 0.7, "fontSize": "0.85em"},
            ),
        ],
        style={**PANEL, "flex": "1 1 0", "display": "flex", "flexDirection": "column", "gap": "8px"},
    )


def register_callbacks(app, allowed: Callable[[], bool]) -> None:
    """``allowed`` is the page's access check, run again in every callback."""

    @app.callback(
        [Output("rec-export-error", "children")],
        Input("rec-export-submit", "n_clicks"),
        State("rec-export-reason", "value"),
        State("rec-export-from", "value"),
        State("rec-export-to", "value"),
        State("rec-export-form", "data-max-span-s"),
        State("rec-language", "data"),
        prevent_initial_call=True,
    )
    def check_form(_clicks, reason, start, end, max_span, language):
        """The same refusals as the browser's check (which stops the post), said in the page's language."""
        require(allowed())
        return [span_problem(start, end, max_span, language) or reason_problem(reason, language)]


def naive_seconds(text) -> float | None:
    """A picker's naive local ``YYYY-MM-DDTHH:MM[:SS]`` as seconds on a zone-free scale (both ends share
    the site's zone, so their difference is right); None when it is not one."""
    try:
        moment = datetime.fromisoformat(str(text or "").strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC).timestamp() if moment.tzinfo is None else moment.timestamp()


def span_problem(start, end, max_span, language: str) -> str:
    first, last = naive_seconds(start), naive_seconds(end)
    if first is None or last is None:
        return t("pb.error.missing", language)
    if last <= first:
        return t("pb.error.order", language)
    limit = int(max_span) if str(max_span or "").isdigit() else 24 * 3600
    if last - first > limit:
        return t("pb.error.span", language).format(hours=limit // 3600)
    return ""


def reason_problem(reason, language: str) -> str:
    return "" if isinstance(reason, str) and reason.strip() else t("rec.export.reason_required", language)
