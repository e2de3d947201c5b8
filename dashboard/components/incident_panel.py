"""A centre's 待处置 list: its incidents not closed, with acknowledge / handle / close (a reason from
the list and free text) and a player of the recorded span linked to a camera incident.

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


def incident_panel(code: str, language: str) -> html.Section:
    return html.Section(
        [
            dcc.Store(id="incident-panel-centre", data=code),
            dcc.Store(id="incident-panel-language", data=language),
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


def incident_card(
    summary: dict, language: str, principal, names: dict[str, str], zone: ZoneInfo = UTC_ZONE
) -> html.Div:
    iid, version = summary["id"], summary["version"]
    flags = [html.Span(t(f"incident.state.{summary['state']}", language), className="incident-flag")]
    if summary["overdue"]:
        flags.append(html.Span(t("incident.overdue", language), className="incident-flag overdue"))
    if summary["recovered"]:
        flags.append(html.Span(t("incident.recovered", language), className="incident-flag"))
    if summary["count"] > 1:
        flags.append(html.Span(f"×{summary['count']}", className="incident-flag"))
    buttons = [
        html.Button(
            t(f"incident.action.{action}", language),
            id={"type": "incident-act", "incident": iid, "action": action, "version": version},
            className=f"tool-button incident-{action}",
        )
        for action in STEPS.get(summary["state"], ())
        if can_act(principal, summary["county"], action)
    ]
    if can_act(principal, summary["county"], "close"):
        buttons += [
            dcc.Dropdown(
                id={"type": "incident-reason", "incident": iid},
                options=[{"label": t(f"incident.reason.{r}", language), "value": r} for r in CLOSE_REASONS],
                placeholder=t("incident.reason", language),
                className="incident-reason",
            ),
            dcc.Input(
                id={"type": "incident-note", "incident": iid},
                placeholder=t("incident.note", language),
                maxLength=1000,
                className="incident-note",
            ),
            html.Button(
                t("incident.action.close", language),
                id={"type": "incident-act", "incident": iid, "action": "close", "version": version},
                className="tool-button incident-close",
            ),
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
        children, className=classes, **{"data-incident": str(iid), "data-state": summary["state"]}
    )


def register_callbacks(app) -> None:
    @app.callback(
        Output("incident-panel-list", "children"),
        Input("incident-panel-refresh", "n_clicks"),
        Input("incident-panel-result", "children"),
        State("incident-panel-centre", "data"),
        State("incident-panel-language", "data"),
    )
    def show(_refresh, _result, code, language):
        principal = current_principal()
        access.require(principal is not None and code is not None and can_read(principal, code))
        context = current()
        language = normalise(language)
        names = {place.camera.id: place.camera.name.get(language) for place in context.site.cameras()}
        rows = list_incidents(context.engine, counties=[code], open_only=True, limit=200)
        if not rows:
            return [html.Div(t("incident.none", language), className="incident-empty")]
        return [incident_card(row, language, principal, names, context.settings.zone) for row in rows]

    @app.callback(
        Output("incident-panel-result", "children"),
        Input({"type": "incident-act", "incident": ALL, "action": ALL, "version": ALL}, "n_clicks"),
        State({"type": "incident-reason", "incident": ALL}, "value"),
        State({"type": "incident-reason", "incident": ALL}, "id"),
        State({"type": "incident-note", "incident": ALL}, "value"),
        State({"type": "incident-note", "incident": ALL}, "id"),
        State("incident-panel-centre", "data"),
        State("incident-panel-language", "data"),
        prevent_initial_call=True,
    )
    def perform(_clicks, reasons, reason_ids, notes, note_ids, code, language):
        principal = current_principal()
        access.require(principal is not None and code is not None and can_read(principal, code))
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not ctx.triggered[0].get("value"):
            return no_update
        language = normalise(language)
        iid = trigger["incident"]
        reason = dict(zip([i["incident"] for i in reason_ids], reasons, strict=False)).get(iid)
        note = dict(zip([i["incident"] for i in note_ids], notes, strict=False)).get(iid)
        context = current()
        try:
            done = act(
                context.engine,
                principal,
                iid,
                trigger["action"],
                version=trigger["version"],
                reason=reason if trigger["action"] == "close" else None,
                note=note if trigger["action"] == "close" else None,
                known_counties=[centre.code for centre in context.site.centres],
                address=client_address(),
                settings=context.settings.incidents,
            )
        except UserError as exc:
            return f"#{iid}: {exc}"
        publisher(context)(done)
        action_label = t("incident.action." + trigger["action"], language)
        return f"#{iid}: {action_label} · {t('incident.state.' + done['state'], language)} ✓"
