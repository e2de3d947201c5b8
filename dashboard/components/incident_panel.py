"""A centre's 待处置 list: its incidents not closed, with acknowledge / handle / close (a reason from
the list and free text), comment, assign back to a county (city command), and a player of the
recorded span linked to a camera incident.

Reloaded by push (incidents.js clicks the hidden button) and after each action. Every callback
checks the user again; the store refuses what the rules, the state or a stale form do not allow.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from watchwall.config.errors import UserError
from watchwall.dashboard import access
from watchwall.dashboard.auth import client_address, current_principal
from watchwall.dashboard.components.incident_items import incident_refresh_button
from watchwall.dashboard.context import current
from watchwall.dashboard.i18n import normalise, t
from watchwall.dashboard.incident_service import publisher
from watchwall.incidents.kinds import CLOSE_REASONS
from watchwall.incidents.rules import can_act, can_read
from watchwall.incidents.store import act, list_incidents

UTC_ZONE = ZoneInfo("UTC")
STEPS = {"open": ("acknowledge", "handle"), "acknowledged": ("handle",), "handling": ()}
PANEL = "incident"  # the ids' prefix of the county page's cards


def incident_panel(code: str, language: str) -> html.Section:
    return html.Section(
        [
            dcc.Store(id="incident-panel-centre", data=code),
            dcc.Store(id="incident-panel-language", data=language),
            dcc.Store(id="incident-panel-shown", data=None),  # [[id, version], ...] of the cards drawn
            incident_refresh_button("incident-panel-refresh", code),
            html.H3(t("incident.pending_list", language)),
            html.Div(id="incident-panel-result", className="incident-result", role="status"),
            html.Div(id="incident-panel-list", className="incident-panel"),
        ],
        className="incident-section",
    )


def _what(summary: dict, names: dict[str, str]) -> str:
    if summary["camera_id"]:
        return names.get(summary["camera_id"], summary["camera_id"])
    return summary["subject"] or ""


def local_time(iso_text: str | None, zone: ZoneInfo) -> str:
    """An incident's UTC time as the site's local ``MM-DD HH:MM:SS`` (people read local time)."""
    if not iso_text:
        return ""
    return datetime.fromisoformat(iso_text.replace("Z", "+00:00")).astimezone(zone).strftime("%m-%d %H:%M:%S")


def _form_memory(iid: int, version: int) -> dict:
    """What a person has chosen or typed in a card survives the list being drawn again (a push, the
    answer to another card's action) until the incident changes: a new version starts a clean form."""
    return {"persistence": f"{iid}.{version}", "persistence_type": "memory"}


def incident_card(
    summary: dict,
    language: str,
    principal,
    names: dict[str, str],
    zone: ZoneInfo = UTC_ZONE,
    *,
    counties: dict[str, str] | None = None,
    prefix: str = PANEL,
) -> html.Div:
    """One incident with the buttons its reader may use. ``counties`` (code -> name) are the counties
    an incident may be assigned back to; ``prefix`` keeps the ids of two card lists apart."""
    iid, version = summary["id"], summary["version"]
    memory = _form_memory(iid, version)
    flags = [html.Span(t(f"incident.state.{summary['state']}", language), className="incident-flag")]
    if summary["overdue"]:
        flags.append(html.Span(t("incident.overdue", language), className="incident-flag overdue"))
    if summary["recovered"]:
        flags.append(html.Span(t("incident.recovered", language), className="incident-flag"))
    if summary["count"] > 1:
        flags.append(html.Span(f"×{summary['count']}", className="incident-flag"))

    def button(action: str) -> html.Button:
        return html.Button(
            t(f"incident.action.{action}", language),
            id={"type": f"{prefix}-act", "incident": iid, "action": action, "version": version},
            className=f"tool-button incident-{action}",
        )

    def allowed(action: str) -> bool:
        return can_act(principal, summary["county"], action)

    closed = summary["state"] == "closed"
    buttons = [button(action) for action in STEPS.get(summary["state"], ()) if allowed(action)]
    if allowed("comment") or (allowed("close") and not closed):
        buttons.append(
            dcc.Input(
                id={"type": f"{prefix}-note", "incident": iid},
                placeholder=t("incident.note", language),
                maxLength=1000,
                className="incident-note",
                **memory,
            )
        )
    if allowed("comment"):
        buttons.append(button("comment"))
    if allowed("close") and not closed:
        buttons += [
            dcc.Dropdown(
                id={"type": f"{prefix}-reason", "incident": iid},
                options=[{"label": t(f"incident.reason.{r}", language), "value": r} for r in CLOSE_REASONS],
                placeholder=t("incident.reason", language),
                className="incident-reason",
                **memory,
            ),
            button("close"),
        ]
    others = {code: name for code, name in (counties or {}).items() if code != summary["county"]}
    if allowed("assign") and not closed and others:
        buttons += [
            dcc.Dropdown(
                id={"type": f"{prefix}-county", "incident": iid},
                options=[{"label": name, "value": code} for code, name in others.items()],
                placeholder=t("incident.assign_to", language),
                className="incident-assign-county",
                **memory,
            ),
            button("assign"),
        ]
    children = [
        html.Div(
            [
                html.Span(t(f"incident.kind.{summary['kind']}", language), className="incident-kind"),
                html.Span(_what(summary, names)),
                html.Span(
                    local_time(summary["opened_at"], zone),
                    className="incident-opened",
                    title=summary["opened_at"],
                ),
                *flags,
            ],
            className="incident-head",
        ),
        html.Div(buttons, className="incident-actions"),
    ]
    if summary["camera_id"]:
        children.append(
            html.Video(
                src=f"/incidents/{iid}/clip",
                controls=True,
                preload="none",
                className="incident-clip",
                title=t("incident.clip", language),
            )
        )
    classes = f"incident-card state-{summary['state']}" + (" overdue" if summary["overdue"] else "")
    return html.Div(
        children,
        className=classes,
        **{"data-incident": str(iid), "data-state": summary["state"], "data-county": summary["county"]},
    )


def assignable_counties(context, language: str) -> dict[str, str]:
    return {centre.code: centre.label.get(language) for centre in context.site.counties}


def register_actions(app, prefix: str, result_id: str, language_id: str) -> None:
    """The callback behind the buttons of the cards drawn with ``prefix``: it writes what happened
    (or why it was refused) into ``result_id``. The store checks the rules, the state and the version."""

    def by_incident(ids: list[dict], values: list) -> dict:
        return dict(zip([i["incident"] for i in ids], values, strict=False))

    @app.callback(
        Output(result_id, "children"),
        Input({"type": f"{prefix}-act", "incident": ALL, "action": ALL, "version": ALL}, "n_clicks"),
        State({"type": f"{prefix}-reason", "incident": ALL}, "value"),
        State({"type": f"{prefix}-reason", "incident": ALL}, "id"),
        State({"type": f"{prefix}-note", "incident": ALL}, "value"),
        State({"type": f"{prefix}-note", "incident": ALL}, "id"),
        State({"type": f"{prefix}-county", "incident": ALL}, "value"),
        State({"type": f"{prefix}-county", "incident": ALL}, "id"),
        State(language_id, "data"),
        prevent_initial_call=True,
    )
    def perform(_clicks, reasons, reason_ids, notes, note_ids, counties, county_ids, language):
        principal = current_principal()
        access.require(principal is not None)
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not ctx.triggered[0].get("value"):
            return no_update
        language = normalise(language)
        iid, action = trigger["incident"], trigger["action"]
        context = current()
        try:
            done = act(
                context.engine,
                principal,
                iid,
                action,
                version=trigger["version"],
                reason=by_incident(reason_ids, reasons).get(iid) if action == "close" else None,
                note=by_incident(note_ids, notes).get(iid) if action in ("close", "comment") else None,
                county=by_incident(county_ids, counties).get(iid) if action == "assign" else None,
                known_counties=[centre.code for centre in context.site.counties],
                address=client_address(),
                settings=context.settings.incidents,
                on_change=publisher(context),
            )
        except UserError as exc:
            return f"#{iid}: {exc}"
        action_label = t("incident.action." + action, language)
        return f"#{iid}: {action_label} · {t('incident.state.' + done['state'], language)} ✓"


def register_callbacks(app) -> None:
    @app.callback(
        Output("incident-panel-list", "children"),
        Output("incident-panel-shown", "data"),
        Input("incident-panel-refresh", "n_clicks"),
        Input("incident-panel-result", "children"),
        State("incident-panel-centre", "data"),
        State("incident-panel-language", "data"),
        State("incident-panel-shown", "data"),
    )
    def show(_refresh, _result, code, language, shown):
        principal = current_principal()
        access.require(principal is not None and code is not None and can_read(principal, code))
        context = current()
        language = normalise(language)
        rows = list_incidents(context.engine, counties=[code], open_only=True, limit=200)
        # drawn again only when an incident changed: a redraw replaces the cards' forms (a refused
        # action, or another centre's push, leaves what the person is typing alone)
        drawn = [[row["id"], row["version"]] for row in rows]
        if shown is not None and drawn == shown:
            return no_update, no_update
        if not rows:
            return [html.Div(t("incident.none", language), className="incident-empty")], drawn
        names = {place.camera.id: place.camera.name.get(language) for place in context.site.cameras()}
        counties = assignable_counties(context, language)
        cards = [
            incident_card(row, language, principal, names, context.settings.zone, counties=counties)
            for row in rows
        ]
        return cards, drawn

    register_actions(app, PANEL, "incident-panel-result", "incident-panel-language")
