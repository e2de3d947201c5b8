"""Bookmarks on /recordings: the form that marks an instant or a span of the chosen camera, and what
the timeline draws of them (the list is ``bookmark_list.py``).

Every callback checks the page's access again and goes through ``dashboard/evidence_marks.py``
(the same rules as the CLI). A change bumps ``rec-bm-version``, which redraws the timeline.
"""

from __future__ import annotations

from collections.abc import Callable

from dash import Input, Output, State, dcc, html, no_update

from watchwall.audit.log import AuditLog
from watchwall.config.errors import UserError
from watchwall.dashboard import evidence_marks
from watchwall.dashboard.access import can_bookmark, require
from watchwall.dashboard.auth import client_address, current_principal
from watchwall.dashboard.components.panel_style import BUTTON, CONTROL, INPUT, PANEL, labelled
from watchwall.dashboard.context import AppContext, current
from watchwall.dashboard.i18n import t
from watchwall.video.record.bookmarks import CATEGORIES, bookmarks_between
from watchwall.video.record.evidence_cli import parse_instant

ERROR = {"color": "#ff6b6b", "margin": 0, "minHeight": "1.2em"}
OK = {"color": "#7ee081", "margin": 0, "minHeight": "1.2em"}
CELL = {"padding": "3px 8px", "borderBottom": "1px solid rgba(255,255,255,0.08)", "textAlign": "left"}


def category_options(language: str) -> list[dict]:
    return [{"label": t(f"ev.category.{code}", language), "value": code} for code in CATEGORIES]


def mark_labels(language: str) -> dict[str, str]:
    """The timeline's labels for the bookmark and lock rows and the categories."""
    labels = {"bookmarks": t("ev.row.bookmarks", language), "locks": t("ev.row.locks", language)}
    labels.update({f"category.{code}": t(f"ev.category.{code}", language) for code in CATEGORIES})
    return labels


def timeline_marks(context: AppContext, camera_id: str, data: dict) -> list[dict]:
    """The camera's bookmarks of the timeline's day, as the timeline figure takes them."""
    return [
        {
            "id": b.id,
            "start_utc": b.start_utc,
            "end_utc": b.end_utc,
            "title": b.title,
            "category": b.category,
            "author": b.author,
        }
        for b in bookmarks_between(context.engine, camera_id, data["start_utc"], data["end_utc"])
    ]


def local_instant(
    text, field: str, language: str, context: AppContext, required: bool = True
) -> float | None:
    if not str(text or "").strip():
        if required:
            raise UserError(t("ev.error.time", language).format(field=field))
        return None
    try:
        return parse_instant(str(text), context.settings.zone)
    except UserError:
        raise UserError(t("ev.error.time", language).format(field=field)) from None


def bookmark_form(language: str) -> html.Section:
    def text_input(name: str, label: str, **extra):
        return labelled(label, dcc.Input(id=f"rec-bm-{name}", type="text", style=INPUT, **extra))

    def picker(name: str, label: str):  # the site's local time, to the second
        return labelled(
            label,
            dcc.Input(
                id=f"rec-bm-{name}", type="datetime-local", step=1, style={**INPUT, "colorScheme": "dark"}
            ),
        )

    return html.Section(
        [
            dcc.Store(id="rec-bm-version", data=0),
            html.H2(t("ev.bm.title", language), style={"margin": 0, "fontSize": "1.1em"}),
            html.P(t("ev.bm.hint", language), style={"margin": 0, "opacity": 0.7, "fontSize": "0.85em"}),
            picker("from", t("ev.bm.from", language)),
            picker("to", t("ev.bm.to", language)),
            text_input("heading", t("ev.bm.heading", language), maxLength=200),
            labelled(
                t("ev.bm.category", language),
                dcc.Dropdown(
                    id="rec-bm-category",
                    options=category_options(language),
                    value=CATEGORIES[0],
                    clearable=False,
                    style=CONTROL,
                ),
            ),
            labelled(
                t("ev.bm.note", language),
                dcc.Textarea(id="rec-bm-note", style={**INPUT, "minHeight": "3em"}, maxLength=4000),
            ),
            html.P(id="rec-bm-message", role="status", style=ERROR),
            html.Button(t("ev.bm.submit", language), id="rec-bm-submit", n_clicks=0, style=BUTTON),
        ],
        className="rec-bookmark-form",
        style={**PANEL, "flex": "1 1 0", "display": "flex", "flexDirection": "column", "gap": "8px"},
    )


def register_callbacks(app, allowed: Callable[[], bool]) -> None:
    """``allowed`` is the page's access check, run again in every callback."""

    @app.callback(
        Output("rec-bm-from", "value"),
        Output("rec-bm-to", "value"),
        Input("rec-export-from", "value"),
        prevent_initial_call=True,
    )
    def follow_timeline(start):
        require(allowed())
        return start or "", ""

    @app.callback(
        Output("rec-bm-message", "children"),
        Output("rec-bm-message", "style"),
        Output("rec-bm-version", "data"),
        Input("rec-bm-submit", "n_clicks"),
        State("rec-camera", "value"),
        State("rec-bm-from", "value"),
        State("rec-bm-to", "value"),
        State("rec-bm-heading", "value"),
        State("rec-bm-category", "value"),
        State("rec-bm-note", "value"),
        State("rec-bm-version", "data"),
        State("rec-language", "data"),
        prevent_initial_call=True,
    )
    def add(_clicks, camera_id, start, end, title, category, note, version, language):
        require(allowed())
        context = current()
        try:  # another county's camera is refused outright (403), as every route of the page does
            centre = context.site.camera(str(camera_id or "")).centre.code
        except KeyError:
            centre = None
        require(centre is None or can_bookmark(current_principal(), centre))
        try:
            bookmark = evidence_marks.add_bookmark(
                context.engine,
                context.site,
                current_principal(),
                camera_id=camera_id,
                start_utc=local_instant(start, t("ev.bm.from", language), language, context),
                end_utc=local_instant(end, t("ev.bm.to", language), language, context, required=False),
                title=title,
                note=note,
                category=category,
                audit=AuditLog(context.engine),
                address=client_address(),
            )
        except UserError as exc:
            return str(exc), ERROR, no_update
        return t("ev.bm.added", language).format(title=bookmark.title), OK, (version or 0) + 1
