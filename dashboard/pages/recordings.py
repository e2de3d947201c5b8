"""/recordings: find a camera's recording by centre, room and day; timeline, player, export, audit trail.

For inspectors and administrators only, and only of the centres they may see:
the layout and every callback check the principal again.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from urllib.parse import urlencode

from dash import Input, Output, State, ctx, dcc, html, no_update
from sqlalchemy import func, select

from dashboard.access import can_read_audit, can_see_recordings, require, visible_centres
from dashboard.audit import KNOWN_ACTIONS, list_entries, verify_chain
from dashboard.auth import current_principal
from dashboard.components.shell import header
from dashboard.components.timeline import timeline_figure
from dashboard.context import AppContext, current
from dashboard.i18n import normalise, t
from dashboard.models import AuditEntry
from video.models import (
    GAP_CAMERA_OFFLINE,
    GAP_DROPPED,
    GAP_RECORDER_CRASHED,
    GAP_RECORDER_STOPPED,
    GAP_STALLED,
)
from video.playback import seek, timeline

PLAY_WINDOW_S = 30 * 60
AUDIT_ROWS = 50
GAP_REASONS = (GAP_CAMERA_OFFLINE, GAP_STALLED, GAP_RECORDER_STOPPED, GAP_RECORDER_CRASHED, GAP_DROPPED)
ALARM_KINDS = ("video_loss", "covered", "defocus", "frozen", "moved")
AUDIT_ACTIONS = (*KNOWN_ACTIONS, "login_failed")

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


def allowed() -> bool:
    principal = current_principal()
    return principal is not None and can_read_audit(principal)


def allowed_camera(context: AppContext, camera_id):
    """The camera's place if the principal may see its recordings (Forbidden if not); None if unknown."""
    principal = current_principal()
    require(principal is not None and can_read_audit(principal))
    try:
        place = context.site.camera(str(camera_id or ""))
    except KeyError:
        return None
    require(can_see_recordings(principal, place.centre.code))
    return place


def parse_day(text) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def today(context: AppContext) -> date:
    return datetime.now(UTC).astimezone(context.settings.zone).date()


def iso_utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def local_text(epoch: float, context: AppContext, seconds: bool = True) -> str:
    moment = datetime.fromtimestamp(epoch, UTC).astimezone(context.settings.zone)
    return moment.strftime("%Y-%m-%dT%H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def layout(lang: str | None = None, camera: str | None = None, day: str | None = None, **_query) -> html.Div:
    require(allowed())  # Dash's page router calls this too
    context = current()
    principal = current_principal()
    language = normalise(lang or context.settings.language)
    centres = visible_centres(principal, context.site)
    place = None
    if camera:
        place = allowed_camera(context, camera)
    centre = place.centre.code if place else (centres[0] if centres else None)
    try:
        chosen_day = date.fromisoformat(day) if day else today(context)
    except ValueError:
        chosen_day = today(context)
    return html.Div(
        [
            dcc.Store(id="rec-language", data=language),
            dcc.Store(id="rec-initial", data={"room": place.room.code if place else None, "camera": camera}),
            header(t("rec.title", language), language, "/recordings"),
            html.Section(
                [
                    _field(
                        t("rec.centre", language),
                        dcc.Dropdown(
                            id="rec-centre",
                            options=[
                                {"label": c.label.get(language), "value": c.code}
                                for c in context.site.centres
                                if c.code in centres
                            ],
                            value=centre,
                            clearable=False,
                            style=CONTROL,
                        ),
                    ),
                    _field(
                        t("rec.room", language),
                        dcc.Dropdown(id="rec-room", placeholder=t("rec.all_rooms", language), style=CONTROL),
                    ),
                    _field(
                        t("rec.camera", language),
                        dcc.Dropdown(id="rec-camera", clearable=False, style=CONTROL),
                        wide=True,
                    ),
                    _field(
                        t("rec.day", language),
                        dcc.DatePickerSingle(
                            id="rec-day",
                            date=chosen_day.isoformat(),
                            display_format="YYYY-MM-DD",
                            first_day_of_week=1,
                            style=CONTROL,
                        ),
                    ),
                ],
                className="rec-filters",
                style={
                    **PANEL,
                    "display": "flex",
                    "gap": "16px",
                    "alignItems": "flex-end",
                    "flexWrap": "wrap",
                },
            ),
            html.Section(
                [
                    html.H2(t("rec.timeline", language), style={"margin": "0 0 4px 0", "fontSize": "1.1em"}),
                    html.P(
                        t("rec.click_hint", language),
                        style={"margin": 0, "opacity": 0.7, "fontSize": "0.9em"},
                    ),
                    dcc.Graph(
                        id="rec-timeline",
                        config={"displayModeBar": False, "scrollZoom": True},
                        style={"height": "190px"},
                    ),
                ],
                style=PANEL,
            ),
            html.Div(
                [
                    html.Section(
                        [
                            html.Video(
                                id="rec-player",
                                controls=True,
                                muted=True,
                                autoPlay=True,
                                style={"width": "100%", "maxHeight": "480px", "background": "#000"},
                            ),
                            html.P(id="rec-span", className="rec-span", style={"margin": "6px 0 0 0"}),
                        ],
                        style={**PANEL, "flex": "3 1 0", "minWidth": 0},
                    ),
                    export_form(language),
                ],
                style={"display": "flex", "gap": "12px", "alignItems": "stretch"},
            ),
            audit_section(language),
        ],
        className="rec-page",
        lang=language,
        style={"display": "flex", "flexDirection": "column", "gap": "12px", "padding": "10px 16px"},
    )


def _field(label: str, control, wide: bool = False) -> html.Label:
    return html.Label([html.Span(label), control], style={**FIELD, "minWidth": "320px" if wide else "200px"})


def export_form(language: str) -> html.Section:
    def text_input(name: str, label: str, **extra):
        return _field(label, dcc.Input(id=f"rec-export-{name}", name=name, type="text", style=INPUT, **extra))

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


def audit_section(language: str) -> html.Section:
    return html.Section(
        [
            html.H2(t("rec.audit.title", language), style={"margin": 0, "fontSize": "1.1em"}),
            html.Div(
                [
                    _field(
                        t("rec.audit.action", language),
                        dcc.Dropdown(
                            id="rec-audit-action",
                            options=[{"label": action_label(a, language), "value": a} for a in AUDIT_ACTIONS],
                            placeholder=t("rec.audit.all_actions", language),
                            style=CONTROL,
                        ),
                    ),
                    _field(
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


def timeline_labels(language: str) -> dict[str, str]:
    labels = {
        "recording": t("rec.row.recording", language),
        "gaps": t("rec.row.gaps", language),
        "alarms": t("rec.row.alarms", language),
        "empty": t("rec.empty", language),
    }
    labels.update({f"gap.{reason}": t(f"rec.gap.{reason}", language) for reason in GAP_REASONS})
    labels.update({f"alarm.{kind}": t(f"alarm.{kind}", language) for kind in ALARM_KINDS})
    return labels


def camera_alarms(context: AppContext, camera_id: str) -> list[dict]:
    """The ingest's alarms of the camera (held in memory while it runs), dated for the timeline."""
    ingest = context.ingest
    if ingest is None or camera_id not in getattr(ingest, "places", {}):
        return []
    alarms = []
    for alarm in ingest.alarm_log(camera_id):
        if alarm.get("start"):
            at = datetime.fromisoformat(str(alarm["start"]).replace("Z", "+00:00")).timestamp()
            alarms.append({**alarm, "at_utc": at})
    return alarms


def day_timeline(context: AppContext, camera_id: str, day: date) -> dict:
    return timeline(
        context.engine, camera_id, day, context.settings.zone, alarms=camera_alarms(context, camera_id)
    )


def play_span(
    context: AppContext, camera_id: str, data: dict, clicked: float | None
) -> tuple[float, float, str]:
    """(from, to, note) to play: from the click (or where recording resumes after it), else the day's first."""
    note = ""
    if clicked is None:
        start = data["segments"][0]["start_utc"] if data["segments"] else data["start_utc"]
    else:
        answer = seek(context.engine, camera_id, clicked)
        start = clicked
        if answer.segment is None and answer.next_start_utc is not None:
            note = answer.gap_reason or ""
            start = answer.next_start_utc
    return start, min(start + PLAY_WINDOW_S, data["end_utc"]), note


def clicked_instant(click) -> float | None:
    """The epoch seconds a timeline click carries in its ``customdata``; None for anything else."""
    try:
        return float(click["points"][0]["customdata"][0])
    except (TypeError, KeyError, IndexError, ValueError):
        return None


def play_url(camera_id: str, start: float, end: float) -> str:
    return f"/recordings/play/{camera_id}?" + urlencode({"from": iso_utc(start), "to": iso_utc(end)})


def audit_table(context: AppContext, language: str, action: str | None, actor: str | None) -> html.Table:
    entries = list_entries(
        context.engine, limit=AUDIT_ROWS, action=action or None, actor=(actor or "").strip() or None
    )
    heads = ("id", "when", "actor", "action", "target", "detail", "address")
    cell = {"padding": "3px 8px", "borderBottom": "1px solid rgba(255,255,255,0.08)", "textAlign": "left"}
    short = {**cell, "whiteSpace": "nowrap"}
    rows = [
        html.Tr(
            [
                html.Td(str(entry.id), style=short),
                html.Td(_local_stamp(entry.at, context), style={**cell, "whiteSpace": "nowrap"}),
                html.Td(entry.actor, style=short),
                html.Td(action_label(entry.action, language), style=short, **{"data-action": entry.action}),
                html.Td(entry.target or "", style=short),
                html.Td(
                    readable_detail(entry.detail, context),
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
            html.Thead(html.Tr([html.Th(t(f"rec.audit.{h}", language), style=short) for h in heads])),
            html.Tbody(rows),
        ],
        style={"width": "100%", "borderCollapse": "collapse"},
    )


def readable_detail(detail: str | None, context: AppContext) -> str:
    """An entry's JSON detail as ``key: value`` pairs, epoch times in local time (the raw JSON is its tooltip)."""
    if not detail:
        return ""
    try:
        values = json.loads(detail)
    except ValueError:
        return detail
    if not isinstance(values, dict):
        return detail
    parts = []
    for key, value in values.items():
        if key.endswith("_utc") and isinstance(value, int | float):
            value = local_text(float(value), context).replace("T", " ")
        elif key.endswith("_utc") and isinstance(value, str) and value.endswith("Z"):
            try:
                value = local_text(datetime.fromisoformat(value[:-1] + "+00:00").timestamp(), context)
                value = value.replace("T", " ")
            except ValueError:
                pass
        elif key.endswith("sha256") and isinstance(value, str):
            value = value[:16] + "…"
        parts.append(f"{key}: {value}")
    return " · ".join(parts)


def _local_stamp(at: str, context: AppContext) -> str:
    moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    return moment.astimezone(context.settings.zone).strftime("%Y-%m-%d %H:%M:%S")


def chain_status(context: AppContext, language: str) -> str:
    breaks = verify_chain(context.engine)
    if breaks:
        return t("rec.audit.chain_broken", language).format(row=breaks[0].entry_id, problem=breaks[0].problem)
    with context.engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    return t("rec.audit.chain_intact", language).format(count=count)


def register_callbacks(app) -> None:
    @app.callback(
        Output("rec-room", "options"),
        Output("rec-room", "value"),
        Input("rec-centre", "value"),
        State("rec-language", "data"),
        State("rec-initial", "data"),
    )
    def rooms(centre_code, language, initial):
        require(allowed())
        context = current()
        principal = current_principal()
        centre = next((c for c in context.site.centres if c.code == centre_code), None)
        if centre is None:
            return [], None
        require(can_see_recordings(principal, centre.code))
        options = [
            {"label": room.name.get(language), "value": room.code} for room in centre.rooms if room.cameras
        ]
        wanted = initial.get("room") if isinstance(initial, dict) else None
        return options, wanted if any(o["value"] == wanted for o in options) else None

    @app.callback(
        Output("rec-camera", "options"),
        Output("rec-camera", "value"),
        Input("rec-centre", "value"),
        Input("rec-room", "value"),
        State("rec-language", "data"),
        State("rec-initial", "data"),
        State("rec-camera", "value"),
    )
    def cameras(centre_code, room_code, language, initial, chosen):
        require(allowed())
        context = current()
        principal = current_principal()
        if not any(c.code == centre_code for c in context.site.centres):
            return [], None
        require(can_see_recordings(principal, centre_code))
        places = [
            p
            for p in context.site.cameras()
            if p.centre.code == centre_code and (room_code is None or p.room.code == room_code)
        ]
        options = [
            {"label": f"{p.room.name.get(language)} · {p.camera.name.get(language)}", "value": p.camera.id}
            for p in places
        ]
        values = [o["value"] for o in options]
        for candidate in (chosen, initial.get("camera") if isinstance(initial, dict) else None):
            if candidate in values:
                return options, candidate
        return options, values[0] if values else None

    # Outputs as one-element lists: the same request shape as the page's other callbacks.
    @app.callback(
        [Output("rec-timeline", "figure")],
        Input("rec-camera", "value"),
        Input("rec-day", "date"),
        State("rec-language", "data"),
    )
    def draw_timeline(camera_id, day, language):
        require(allowed())
        context = current()
        place = allowed_camera(context, camera_id)
        chosen_day = parse_day(day)
        if place is None or chosen_day is None:
            return no_update
        data = day_timeline(context, place.camera.id, chosen_day)
        return [timeline_figure(data, context.settings.zone, timeline_labels(language))]

    @app.callback(
        Output("rec-player", "src"),
        Output("rec-span", "children"),
        Output("rec-export-camera", "value"),
        Output("rec-export-from", "value"),
        Output("rec-export-to", "value"),
        Input("rec-camera", "value"),
        Input("rec-day", "date"),
        Input("rec-timeline", "clickData"),
        State("rec-language", "data"),
    )
    def choose_span(camera_id, day, click, language):
        require(allowed())
        context = current()
        place = allowed_camera(context, camera_id)
        chosen_day = parse_day(day)
        if place is None or chosen_day is None:
            return no_update, no_update, no_update, no_update, no_update
        camera_id = place.camera.id
        data = day_timeline(context, camera_id, chosen_day)
        clicked = clicked_instant(click) if ctx.triggered_id == "rec-timeline" else None
        if clicked is None and not data["segments"]:
            return "", t("rec.empty", language), camera_id, "", ""
        start, end, gap_reason = play_span(context, camera_id, data, clicked)
        span_text = f"{t('rec.span', language)} {local_text(start, context)} – {local_text(end, context)}"
        if gap_reason:
            span_text += f" ({t('rec.gap_skipped', language)}: {t(f'rec.gap.{gap_reason}', language)})"
        return (
            play_url(camera_id, start, end),
            span_text,
            camera_id,
            local_text(start, context),
            local_text(min(end, start + 60), context),
        )

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
