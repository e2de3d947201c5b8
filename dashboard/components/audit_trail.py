"""The audit trail of /recordings: the newest audit entries, filtered by action and actor, with
the hash chain verified on screen each time the table is drawn."""

from __future__ import annotations

import json
from collections.abc import Callable

from dash import Input, Output, State, dcc, html
from sqlalchemy import func, select

from watchwall.audit.listing import KNOWN_ACTIONS, AuditEntry, scoped_entries, verify_chain
from watchwall.config.timestamps import local_text, parse_iso
from watchwall.dashboard.access import can_administer, require
from watchwall.dashboard.auth import current_principal
from watchwall.dashboard.components.panel_style import BUTTON, CONTROL, INPUT, PANEL, labelled
from watchwall.dashboard.context import AppContext, current
from watchwall.dashboard.i18n import t

AUDIT_ROWS = 50
AUDIT_ACTIONS = (*KNOWN_ACTIONS, "login_failed")


def audit_section(language: str) -> html.Section:
    return html.Section(
        [
            html.H2(t("rec.audit.title", language), style={"margin": 0, "fontSize": "1.1em"}),
            html.Div(
                [
                    labelled(
                        t("rec.audit.action", language),
                        dcc.Dropdown(
                            id="rec-audit-action",
                            options=[{"label": action_label(a, language), "value": a} for a in AUDIT_ACTIONS],
                            placeholder=t("rec.audit.all_actions", language),
                            style=CONTROL,
                        ),
                    ),
                    labelled(
                        t("rec.audit.actor", language),
                        dcc.Input(id="rec-audit-actor", type="text", debounce=True, style=INPUT),
                    ),
                    html.Button(
                        t("rec.audit.refresh", language), id="rec-audit-refresh", n_clicks=0, style=BUTTON
                    ),
                    html.Span(id="rec-audit-chain", className="rec-audit-chain", style={"fontWeight": 700}),
                ],
                style={"display": "flex", "gap": "16px", "alignItems": "flex-end", "flexWrap": "wrap"},
            ),
            html.Div(id="rec-audit-table", style={"maxHeight": "420px", "overflowY": "auto"}),
        ],
        style={**PANEL, "display": "flex", "flexDirection": "column", "gap": "8px"},
    )


def action_label(action: str, language: str) -> str:
    label = t(f"rec.action.{action}", language)
    return action if label.startswith("rec.") else label


def audit_table(context: AppContext, language: str, action: str | None, actor: str | None) -> html.Table:
    principal = current_principal()
    entries = scoped_entries(  # an inspector of some counties: their cameras' rows only
        context.engine,
        cameras=None
        if principal.all_counties
        else {place.camera.id for place in context.site.cameras() if place.centre.code in principal.counties},
        reveal_failed_logins=can_administer(principal),
        limit=AUDIT_ROWS,
        action=action or None,
        actor=(actor or "").strip() or None,
    )
    heads = ("id", "when", "actor", "action", "target", "detail", "address")
    cell = {"padding": "3px 8px", "borderBottom": "1px solid rgba(255,255,255,0.08)", "textAlign": "left"}
    short = {**cell, "whiteSpace": "nowrap"}
    rows = [
        html.Tr(
            [
                html.Td(str(entry.id), style=short),
                html.Td(local_stamp(entry.at, context), style={**cell, "whiteSpace": "nowrap"}),
                html.Td(entry.actor, style=short),
                html.Td(action_label(entry.action, language), style=short, **{"data-action": entry.action}),
                html.Td(entry.target or "", style=short),
                html.Td(
                    readable_detail(entry.detail, context, language),
                    title=entry.detail or "",
                    style={**cell, "fontSize": "0.85em", "wordBreak": "break-all"},
                ),
                html.Td(entry.address or "", style=cell),
            ],
            className="rec-audit-row",
        )
        for entry in entries
    ]
    if not rows:
        rows = [html.Tr(html.Td(t("rec.audit.none", language), colSpan=len(heads), style=cell))]
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(heading(h, context, language), style=short) for h in heads])),
            html.Tbody(rows),
        ],
        style={"width": "100%", "borderCollapse": "collapse"},
    )


def heading(name: str, context: AppContext, language: str) -> str:
    text = t(f"rec.audit.{name}", language)
    if name == "when":  # the times of the table are the site's local time, and say so
        text += f" ({t('pb.detail.local', language)}, {context.settings.timezone})"
    return text


def detail_label(key: str, language: str) -> str:
    label = t(f"pb.detail.{key}", language)
    return key if label.startswith("pb.") else label


def readable_detail(detail: str | None, context: AppContext, language: str = "en") -> str:
    """An entry's JSON detail as ``label: value`` pairs in the page's language, times in the site's
    local time and marked so (the raw JSON is its tooltip)."""
    if not detail:
        return ""
    try:
        values = json.loads(detail)
    except ValueError:
        return detail
    if not isinstance(values, dict):
        return detail
    marker = f" ({t('pb.detail.local', language)})"
    parts = []
    for key, value in values.items():
        if key.endswith(("_utc", "_at")) and isinstance(value, int | float):
            value = _local_seconds(float(value), context) + marker
        elif key.endswith(("_utc", "_at")) and isinstance(value, str) and value.endswith("Z"):
            try:
                value = local_text(parse_iso(value), context.settings.zone) + marker
            except ValueError:
                pass
        elif key.endswith("sha256") and isinstance(value, str):
            value = value[:16] + "…"
        elif isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False)
        parts.append(f"{detail_label(key, language)}: {value}")
    return " · ".join(parts)


def _local_seconds(epoch: float, context: AppContext) -> str:
    return local_text(epoch, context.settings.zone)


def local_stamp(at: str, context: AppContext) -> str:
    """An entry's ``at`` (ISO 8601 UTC) in the site's zone."""
    return local_text(parse_iso(at), context.settings.zone)


def chain_status(context: AppContext, language: str) -> str:
    breaks = verify_chain(context.engine)
    if breaks:
        return t("rec.audit.chain_broken", language).format(row=breaks[0].entry_id, problem=breaks[0].problem)
    with context.engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    return t("rec.audit.chain_intact", language).format(count=count)


def register_callbacks(app, allowed: Callable[[], bool]) -> None:
    """``allowed`` is the page's access check, run again in every callback."""

    @app.callback(
        Output("rec-audit-table", "children"),
        Output("rec-audit-chain", "children"),
        Input("rec-audit-refresh", "n_clicks"),
        Input("rec-audit-action", "value"),
        Input("rec-audit-actor", "value"),
        State("rec-language", "data"),
    )
    def audit_trail(_clicks, action, actor, language):
        require(allowed())
        context = current()
        action = action if action in AUDIT_ACTIONS else None
        actor = actor.strip() if isinstance(actor, str) else None
        return audit_table(context, language, action, actor), chain_status(context, language)
