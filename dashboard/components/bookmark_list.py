"""The searchable list of bookmarks on /recordings (centre, camera, author, category, dates), with
edit (title, category, note; the span stays) and delete.

Every callback checks the page's access again and goes through ``dashboard/evidence_marks.py``.
An edit or a delete bumps ``rec-bm-version`` (the form's store), which redraws the timeline and the list.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from watchwall.audit.log import AuditLog
from watchwall.config.errors import UserError
from watchwall.config.timestamps import local_text
from watchwall.dashboard import evidence_marks
from watchwall.dashboard.access import can_bookmark, require
from watchwall.dashboard.auth import client_address, current_principal
from watchwall.dashboard.components.bookmark_panel import CELL, ERROR, OK, category_options
from watchwall.dashboard.components.panel_style import BUTTON, CONTROL, INPUT, PANEL, labelled
from watchwall.dashboard.context import AppContext, current
from watchwall.dashboard.i18n import t
from watchwall.video.record.bookmarks import CATEGORIES, Bookmark, get_bookmark

EDITOR_SHOWN = {"display": "flex", "gap": "12px", "alignItems": "flex-end", "flexWrap": "wrap"}
EDITOR_HIDDEN = {**EDITOR_SHOWN, "display": "none"}


def bookmark_list(language: str, centres: list[tuple[str, str]], day: date) -> html.Section:
    """``centres``: (code, label) of the centres the user may see."""
    return html.Section(
        [
            html.H2(t("ev.bm.list", language), style={"margin": 0, "fontSize": "1.1em"}),
            html.Div(
                [
                    labelled(
                        t("ev.bm.county", language),
                        dcc.Dropdown(
                            id="rec-bm-filter-county",
                            options=[{"label": label, "value": code} for code, label in centres],
                            placeholder=t("ev.bm.all_counties", language),
                            style=CONTROL,
                        ),
                    ),
                    labelled(t("ev.bm.camera", language), dcc.Input(id="rec-bm-filter-camera", style=INPUT)),
                    labelled(t("ev.bm.author", language), dcc.Input(id="rec-bm-filter-author", style=INPUT)),
                    labelled(
                        t("ev.bm.category", language),
                        dcc.Dropdown(
                            id="rec-bm-filter-category",
                            options=category_options(language),
                            placeholder=t("ev.bm.all_categories", language),
                            style=CONTROL,
                        ),
                    ),
                    labelled(
                        t("ev.bm.dates", language),
                        dcc.DatePickerRange(
                            id="rec-bm-filter-dates",
                            start_date=(day - timedelta(days=30)).isoformat(),
                            end_date=day.isoformat(),
                            display_format="YYYY-MM-DD",
                            first_day_of_week=1,
                            style=CONTROL,
                        ),
                        wide=True,
                    ),
                    html.Button(t("ev.bm.search", language), id="rec-bm-search", n_clicks=0, style=BUTTON),
                ],
                style={"display": "flex", "gap": "12px", "alignItems": "flex-end", "flexWrap": "wrap"},
            ),
            html.Div(id="rec-bm-results", style={"overflowX": "auto", "maxHeight": "320px"}),
            bookmark_editor(language),
        ],
        className="rec-bookmark-list",
        style={**PANEL, "display": "flex", "flexDirection": "column", "gap": "8px"},
    )


def bookmark_editor(language: str) -> html.Div:
    """Hidden until a row's Edit is clicked: the title, category and note of that bookmark (its span stays)."""
    return html.Div(
        [
            dcc.Store(id="rec-bm-editing", data=None),
            labelled(
                t("ev.bm.heading", language), dcc.Input(id="rec-bm-edit-heading", style=INPUT, maxLength=200)
            ),
            labelled(
                t("ev.bm.category", language),
                dcc.Dropdown(
                    id="rec-bm-edit-category",
                    options=category_options(language),
                    clearable=False,
                    style=CONTROL,
                ),
            ),
            labelled(
                t("ev.bm.note", language),
                dcc.Textarea(id="rec-bm-edit-note", style={**INPUT, "minHeight": "2.5em"}, maxLength=4000),
            ),
            html.Button(t("ev.bm.save", language), id="rec-bm-edit-save", n_clicks=0, style=BUTTON),
        ],
        id="rec-bm-editor",
        className="rec-bm-editor",
        style=EDITOR_HIDDEN,
    )


def _local(epoch: float, context: AppContext) -> str:
    return local_text(epoch, context.settings.zone)


def results_table(found: list[Bookmark], context: AppContext, language: str) -> html.Table | html.P:
    if not found:
        return html.P(t("ev.bm.none", language), style={"opacity": 0.7, "margin": 0})
    heads = [t(f"ev.bm.{key}", language) for key in ("when", "county", "camera", "category", "heading")]
    heads += [t("ev.bm.author", language), t("ev.bm.id", language), "", ""]
    centre_names = {centre.code: centre.label.get(language) for centre in context.site.centres}
    rows = []
    for bookmark in found:
        when = _local(bookmark.start_utc, context)
        if not bookmark.is_instant:
            when += f" – {_local(bookmark.end_utc, context)[11:]}"
        rows.append(
            html.Tr(
                [
                    html.Td(when, style=CELL),
                    html.Td(centre_names.get(bookmark.centre, bookmark.centre), style=CELL),
                    html.Td(bookmark.camera_id, style=CELL),
                    html.Td(t(f"ev.category.{bookmark.category}", language), style=CELL),
                    html.Td(html.Span(bookmark.title, title=bookmark.note), style=CELL),
                    html.Td(bookmark.author, style=CELL),
                    html.Td(html.Code(bookmark.id[:8], title=bookmark.id), style=CELL),
                    html.Td(
                        html.Button(
                            t("ev.bm.edit", language),
                            id={"type": "rec-bm-edit", "id": bookmark.id},
                            n_clicks=0,
                            className="rec-bm-edit",
                            style={**BUTTON, "padding": "2px 8px"},
                        ),
                        style=CELL,
                    ),
                    html.Td(
                        html.Button(
                            t("ev.bm.delete", language),
                            id={"type": "rec-bm-delete", "id": bookmark.id},
                            n_clicks=0,
                            className="rec-bm-delete",
                            style={**BUTTON, "padding": "2px 8px", "background": "#7a2b2b"},
                        ),
                        style=CELL,
                    ),
                ],
                className="rec-bm-row",
                **{"data-bookmark": bookmark.id},
            )
        )
    return html.Table(
        [html.Thead(html.Tr([html.Th(h, style=CELL) for h in heads])), html.Tbody(rows)],
        style={"borderCollapse": "collapse", "width": "100%", "fontSize": "0.9em"},
    )


def _day_bounds(text, context: AppContext, end: bool) -> float | None:
    try:
        day = date.fromisoformat(str(text)[:10])
    except ValueError:
        return None
    if end:
        day += timedelta(days=1)
    return datetime.combine(day, time(0), context.settings.zone).timestamp()


def refuse_other_county(context: AppContext, bookmark_id: str) -> None:
    """A bookmark of a county the user may not see is refused outright (403), not explained."""
    try:
        centre = get_bookmark(context.engine, bookmark_id).centre
    except UserError:
        return  # unknown: evidence_marks says so
    require(can_bookmark(current_principal(), centre))


def register_callbacks(app, allowed: Callable[[], bool]) -> None:
    """``allowed`` is the page's access check, run again in every callback."""

    @app.callback(
        Output("rec-bm-message", "children", allow_duplicate=True),
        Output("rec-bm-message", "style", allow_duplicate=True),
        Output("rec-bm-version", "data", allow_duplicate=True),
        Input({"type": "rec-bm-delete", "id": ALL}, "n_clicks"),
        State("rec-bm-version", "data"),
        State("rec-language", "data"),
        prevent_initial_call=True,
    )
    def delete(clicks, version, language):
        require(allowed())
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not any(clicks if isinstance(clicks, list) else [clicks]):
            return no_update, no_update, no_update
        context = current()
        refuse_other_county(context, str(trigger.get("id")))
        try:
            bookmark = evidence_marks.delete_bookmark(
                context.engine,
                current_principal(),
                str(trigger.get("id")),
                audit=AuditLog(context.engine),
                address=client_address(),
            )
        except UserError as exc:
            return str(exc), ERROR, no_update
        return t("ev.bm.deleted", language).format(title=bookmark.title), OK, (version or 0) + 1

    @app.callback(
        Output("rec-bm-editing", "data"),
        Output("rec-bm-editor", "style"),
        Output("rec-bm-edit-heading", "value"),
        Output("rec-bm-edit-category", "value"),
        Output("rec-bm-edit-note", "value"),
        Input({"type": "rec-bm-edit", "id": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def open_editor(clicks):
        require(allowed())
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not any(clicks if isinstance(clicks, list) else [clicks]):
            return no_update, no_update, no_update, no_update, no_update
        context = current()
        principal = current_principal()
        try:
            bookmark = get_bookmark(context.engine, str(trigger.get("id")))
        except UserError:
            return None, EDITOR_HIDDEN, "", None, ""
        require(can_bookmark(principal, bookmark.centre))
        return bookmark.id, EDITOR_SHOWN, bookmark.title, bookmark.category, bookmark.note

    @app.callback(
        Output("rec-bm-message", "children", allow_duplicate=True),
        Output("rec-bm-message", "style", allow_duplicate=True),
        Output("rec-bm-version", "data", allow_duplicate=True),
        Output("rec-bm-editor", "style", allow_duplicate=True),
        Input("rec-bm-edit-save", "n_clicks"),
        State("rec-bm-editing", "data"),
        State("rec-bm-edit-heading", "value"),
        State("rec-bm-edit-category", "value"),
        State("rec-bm-edit-note", "value"),
        State("rec-bm-version", "data"),
        State("rec-language", "data"),
        prevent_initial_call=True,
    )
    def save_edit(_clicks, bookmark_id, title, category, note, version, language):
        require(allowed())
        if not bookmark_id:
            return no_update, no_update, no_update, EDITOR_HIDDEN
        context = current()
        refuse_other_county(context, str(bookmark_id))
        try:
            bookmark = evidence_marks.edit_bookmark(
                context.engine,
                current_principal(),
                str(bookmark_id),
                title=title if title is not None else "",
                category=category,
                note=note or "",
                audit=AuditLog(context.engine),
                address=client_address(),
            )
        except UserError as exc:
            return str(exc), ERROR, no_update, no_update
        return t("ev.bm.edited", language).format(title=bookmark.title), OK, (version or 0) + 1, EDITOR_HIDDEN

    @app.callback(
        Output("rec-bm-results", "children"),
        Input("rec-bm-search", "n_clicks"),
        Input("rec-bm-version", "data"),
        State("rec-bm-filter-county", "value"),
        State("rec-bm-filter-camera", "value"),
        State("rec-bm-filter-author", "value"),
        State("rec-bm-filter-category", "value"),
        State("rec-bm-filter-dates", "start_date"),
        State("rec-bm-filter-dates", "end_date"),
        State("rec-language", "data"),
    )
    def search(_clicks, _version, county, camera_id, author, category, first_day, last_day, language):
        require(allowed())
        context = current()
        principal = current_principal()
        require(county is None or can_bookmark(principal, county))
        try:
            found = evidence_marks.search_bookmarks(
                context.engine,
                context.site,
                principal,
                county=county,
                camera_id=(camera_id or "").strip() or None,
                author=(author or "").strip() or None,
                category=category if category in CATEGORIES else None,
                from_utc=_day_bounds(first_day, context, end=False),
                to_utc=_day_bounds(last_day, context, end=True),
            )
        except UserError as exc:
            return html.P(str(exc), style=ERROR)
        return results_table(found, context, language)
