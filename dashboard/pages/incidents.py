"""/incidents: every incident the user may read, filtered by county, kind, state, overdue and dates,
with its history (notes, linked evidence) and a CSV export of the filtered list. Pushed live."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from watchwall.config.errors import UserError
from watchwall.dashboard import access
from watchwall.dashboard.auth import current_principal
from watchwall.dashboard.components.incident_items import incident_refresh_button
from watchwall.dashboard.components.incident_panel import (
    assignable_counties,
    incident_card,
    local_time,
    register_actions,
)
from watchwall.dashboard.components.shell import header
from watchwall.dashboard.context import current
from watchwall.dashboard.i18n import normalise, t
from watchwall.dashboard.incident_filters import list_arguments
from watchwall.incidents.kinds import KINDS
from watchwall.incidents.rules import READERS, can_read
from watchwall.incidents.states import STATES
from watchwall.incidents.store import get_incident, list_incidents
from watchwall.video.record.bookmarks import bookmarks_for

PAGE_ROWS = 300
HISTORY = "incident-history"  # the ids' prefix of the picked incident's card
COLUMNS = ("id", "opened_at", "county", "kind", "what", "state", "count", "flags")


def _reader():
    principal = current_principal()
    access.require(principal is not None and principal.role in READERS)
    return principal


def layout(lang: str | None = None, **_query) -> html.Div:
    principal = _reader()
    context = current()
    language = normalise(lang or context.settings.language)
    visible = access.visible_centres(principal, context.site)
    centre_names = {centre.code: centre.label.get(language) for centre in context.site.centres}
    return html.Div(
        [
            dcc.Store(id="incidents-language", data=language),
            incident_refresh_button("incidents-refresh"),
            header(t("incident.title", language), language, "/incidents"),
            html.Div(
                [
                    dcc.Dropdown(
                        id="incidents-county",
                        options=[{"label": centre_names.get(code, code), "value": code} for code in visible],
                        placeholder=t("incident.filter.county", language),
                    ),
                    dcc.Dropdown(
                        id="incidents-kind",
                        options=[
                            {"label": t(f"incident.kind.{kind}", language), "value": kind} for kind in KINDS
                        ],
                        placeholder=t("incident.filter.kind", language),
                    ),
                    dcc.Dropdown(
                        id="incidents-state",
                        options=[
                            {"label": t(f"incident.state.{state}", language), "value": state}
                            for state in STATES
                        ],
                        placeholder=t("incident.filter.state", language),
                    ),
                    dcc.Checklist(
                        id="incidents-overdue",
                        options=[{"label": t("incident.filter.overdue", language), "value": "1"}],
                        value=[],
                        inline=True,
                    ),
                    html.Label(
                        [t("incident.filter.from", language), dcc.Input(id="incidents-from", type="date")]
                    ),
                    html.Label(
                        [t("incident.filter.to", language), dcc.Input(id="incidents-to", type="date")]
                    ),
                    html.A(
                        t("incident.export", language),
                        id="incidents-export",
                        href="/incidents/export.csv",
                        className="incident-export",
                    ),
                ],
                className="incident-filters",
            ),
            html.Div(id="incidents-error", className="incident-result", role="status"),
            html.Div(
                [
                    html.Div(id="incidents-table"),
                    html.Section(
                        [
                            html.H3(t("incident.history", language)),
                            dcc.Store(id="incidents-picked", data=None),
                            html.Div(
                                id="incidents-history-result", className="incident-result", role="status"
                            ),
                            html.Div(id="incidents-history"),
                        ],
                        className="incident-history",
                    ),
                ],
                className="incident-body",
            ),
        ],
        className="incidents-page",
        lang=language,
    )


def _filters(county, kind, state, overdue, first, last) -> dict:
    return {
        "county": county or "",
        "kind": kind or "",
        "state": state or "",
        "overdue": "1" if overdue else "",
        "from": first or "",
        "to": last or "",
    }


def incident_table(rows: list[dict], language: str, names: dict, zone=None) -> html.Table:
    head = html.Tr(
        [
            html.Th(label)
            for label in (
                "#",
                t("incident.opened_at", language),
                t("incident.county", language),
                t("incident.kind", language),
                t("incident.what", language),
                t("incident.state", language),
                t("incident.count", language),
                "",
            )
        ]
    )
    body = []
    for row in rows:
        flags = []
        if row["overdue"]:
            flags.append(t("incident.overdue", language))
        if row["recovered"]:
            flags.append(t("incident.recovered", language))
        if row["escalated"]:
            flags.append(t("incident.escalated", language))
        what = (
            names["cameras"].get(row["camera_id"], row["camera_id"]) if row["camera_id"] else row["subject"]
        )
        body.append(
            html.Tr(
                [
                    html.Td(
                        html.Button(
                            str(row["id"]),
                            id={"type": "incident-pick", "incident": row["id"]},
                            className="incident-row-pick",
                        )
                    ),
                    html.Td(
                        local_time(row["opened_at"], zone) if zone else row["opened_at"],
                        title=row["opened_at"],
                    ),
                    html.Td(names["centres"].get(row["county"], row["county"])),
                    html.Td(t(f"incident.kind.{row['kind']}", language)),
                    html.Td(what or ""),
                    html.Td(t(f"incident.state.{row['state']}", language)),
                    html.Td(str(row["count"])),
                    html.Td(" · ".join(flags)),
                ],
                className=f"state-{row['state']}" + (" overdue" if row["overdue"] else ""),
                **{"data-incident": str(row["id"])},
            )
        )
    return html.Table([html.Thead(head), html.Tbody(body)], className="incident-table", id="incident-table")


def register_callbacks(app) -> None:
    @app.callback(
        Output("incidents-table", "children"),
        Output("incidents-export", "href"),
        Output("incidents-error", "children"),
        Input("incidents-county", "value"),
        Input("incidents-kind", "value"),
        Input("incidents-state", "value"),
        Input("incidents-overdue", "value"),
        Input("incidents-from", "value"),
        Input("incidents-to", "value"),
        Input("incidents-refresh", "n_clicks"),
        Input("incidents-history-result", "children"),
        State("incidents-language", "data"),
    )
    def show(county, kind, state, overdue, first, last, _refresh, _acted, language):
        principal = _reader()
        context = current()
        language = normalise(language)
        filters = _filters(county, kind, state, overdue, first, last)
        visible = access.visible_centres(principal, context.site)
        try:
            arguments = list_arguments(filters, visible, context.settings.zone)
        except UserError as exc:
            return no_update, no_update, str(exc)
        rows = list_incidents(context.engine, limit=PAGE_ROWS, **arguments)
        names = {
            "cameras": {
                p.camera.id: f"{p.centre.label.get(language)} {p.camera.name.get(language)}"
                for p in context.site.cameras()
            },
            "centres": {c.code: c.label.get(language) for c in context.site.centres},
        }
        query = urlencode({key: value for key, value in filters.items() if value})
        return (
            incident_table(rows, language, names, context.settings.zone),
            "/incidents/export.csv" + (f"?{query}" if query else ""),
            "",
        )

    @app.callback(
        Output("incidents-history", "children"),
        Output("incidents-picked", "data"),
        Input({"type": "incident-pick", "incident": ALL}, "n_clicks"),
        Input("incidents-history-result", "children"),
        State("incidents-picked", "data"),
        State("incidents-language", "data"),
        prevent_initial_call=True,
    )
    def history(_clicks, _result, picked, language):
        """``picked``: {"id", "version"} of the incident shown; it is drawn again only when it changed
        (a refused action leaves the person's form alone)."""
        principal = _reader()
        # Dash may merge an action's answer with the table drawn again (new, unclicked pick
        # buttons) into one call, and name only the latter: so anything but a click looks at the
        # incident shown and draws it again if it changed (an action here, or someone else's)
        clicked = [
            ident["incident"]
            for item in ctx.triggered
            if item.get("value") and isinstance(ident := ctx.triggered_prop_ids.get(item["prop_id"]), dict)
        ]
        if clicked:
            wanted, shown_version = clicked[0], None
        elif isinstance(picked, dict) and isinstance(picked.get("id"), int):  # the page's own store
            wanted, shown_version = picked["id"], picked.get("version")
        else:
            return no_update, no_update
        language = normalise(language)
        context = current()
        found = get_incident(context.engine, wanted)
        if found is None or not can_read(principal, found[0]["county"]):
            return t("incident.none", language), None
        if found[0]["version"] == shown_version:
            return no_update, no_update
        return history_view(found, language, principal, context), {
            "id": wanted,
            "version": found[0]["version"],
        }

    register_actions(app, HISTORY, "incidents-history-result", "incidents-language")


def history_view(found, language: str, principal, context) -> list:
    """The picked incident: its card (the actions its reader may take, the linked clip) and its notes log."""
    summary, notes, _evidence = found
    items = [
        html.Li(f"{summary['opened_at']} · system · {t('incident.state.open', language)}"),
        *[
            html.Li(
                f"{note['at']} · {note['author']} · "
                f"{t('incident.action.' + note['action'], language) if note['action'] != 'reopen' else 'reopen'}"
                + (
                    f" · {t('incident.reason.' + summary['close_reason'], language)}"
                    if note["action"] == "close" and summary["close_reason"]
                    else ""
                )
                + (f" · {note['text']}" if note["text"] else ""),
                className=f"incident-note-entry note-{note['action']}",
            )
            for note in notes
        ],
    ]
    names = {place.camera.id: place.camera.name.get(language) for place in context.site.cameras()}
    card = incident_card(
        summary,
        language,
        principal,
        names,
        context.settings.zone,
        counties=assignable_counties(context, language),
        prefix=HISTORY,
    )
    return [
        html.H4(f"#{summary['id']} {t('incident.kind.' + summary['kind'], language)}"),
        card,
        html.Ul(items, className="incident-notes"),
        *linked_bookmarks(context, summary, language),
    ]


def linked_bookmarks(context, summary: dict, language: str) -> list:
    """The bookmarks the incident links to, each opening its camera's day on /recordings."""
    marks = bookmarks_for(context.engine, "incident", str(summary["id"]))
    if not marks:
        return []
    zone = context.settings.zone
    items = []
    for mark in marks:
        at = datetime.fromtimestamp(mark.start_utc, zone)
        query = urlencode({"camera": mark.camera_id, "day": at.date().isoformat(), "lang": language})
        items.append(
            html.Li(
                html.A(f"{at:%m-%d %H:%M:%S} · {mark.title}", href=f"/recordings?{query}"),
                className="incident-bookmark",
                **{"data-bookmark": mark.id},
            )
        )
    return [html.H4(t("incident.bookmarks", language)), html.Ul(items, className="incident-bookmarks")]
