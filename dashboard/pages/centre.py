"""/centres/<code>: a county supervisor's centre — rooms and cameras, live view, PTZ, snapshot, health, figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from watchwall.dashboard import access, figure_cache, figures
from watchwall.dashboard.auth import audit, current_principal
from watchwall.dashboard.camera_control import DIRECTIONS, control_for, pulse
from watchwall.dashboard.components.checkin_video_list import checkin_video_panel
from watchwall.dashboard.components.county_map import county_map_panel
from watchwall.dashboard.components.incident_panel import incident_panel
from watchwall.dashboard.components.kpi import kpi_card
from watchwall.dashboard.components.room_list import listed_cameras, push_refresh_button, room_blocks
from watchwall.dashboard.components.shell import header
from watchwall.dashboard.components.stream_label import stream_label, stream_labels_json
from watchwall.dashboard.context import AppContext, current
from watchwall.dashboard.i18n import normalise, t
from watchwall.dashboard.language import page_language
from watchwall.metrics import compliance
from watchwall.metrics.localtime import local_day
from watchwall.metrics.models import Case, SupportBase

HEALTH_FIELDS = (
    "state", "codec", "profile", "width", "height", "fps", "bitrate_bps", "keyframe_interval_s",
    "last_packet_age_s", "reconnects", "corrupt_packets", "time_to_first_keyframe_s",
)  # fmt: skip


def _centre_or_403(context: AppContext, code: str | None):
    principal = current_principal()
    access.require(
        principal is not None and code is not None and access.can_open_centre_page(principal, code)
    )
    try:
        return principal, context.site.centre(code)
    except KeyError:
        raise access.Forbidden() from None


def video_name(centre, camera_id: str | None, language: str) -> str:
    """The live video's accessible name: the camera and its room."""
    for room in centre.rooms:
        for camera in room.cameras:
            if camera.id == camera_id:
                return f"{t('centre.live_label', language)}: {camera.name.get(language)} · {room.name.get(language)}"
    return t("centre.live_label", language)


def layout(code: str | None = None, lang: str | None = None, camera: str | None = None, **_query) -> html.Div:
    context = current()
    principal, centre = _centre_or_403(context, code)
    language = page_language(lang)  # a ?lang= choice is remembered for the user
    cameras = listed_cameras(centre)
    chosen = camera if any(c.id == camera for c in cameras) else (cameras[0].id if cameras else None)
    return html.Div(
        [
            dcc.Store(id="centre-code", data=centre.code),
            dcc.Store(id="centre-language", data=language),
            dcc.Store(id="centre-camera", data=chosen),
            dcc.Store(id="centre-tools-key"),
            html.Button(id="centre-refresh", n_clicks=0, hidden=True),
            push_refresh_button("centre-cameras-refresh", centre.code),
            header(centre.name.get(language), language, f"/centres/{centre.code}"),
            html.Div(
                [
                    html.Nav(room_blocks(centre, language, chosen), id="centre-rooms", className="room-list"),
                    html.Section(
                        [
                            html.Div(
                                [
                                    html.Video(
                                        id="centre-live",
                                        autoPlay=True,
                                        muted=True,
                                        controls=False,
                                        **{
                                            "aria-label": video_name(centre, chosen, language),
                                            "data-live-camera": chosen or "",
                                            "data-stream-labels": stream_labels_json(language),
                                        },
                                    ),
                                    stream_label("centre-live-stream"),
                                ],
                                className="live-main",
                            ),
                            html.Div(id="centre-camera-tools", className="camera-tools"),
                            html.Div(id="centre-ptz-result", className="ptz-result", role="status"),
                        ],
                        className="live-column",
                    ),
                    html.Section(
                        [
                            incident_panel(centre.code, language),
                            html.H3(t("centre.health", language)),
                            html.Table(id="centre-health", className="health-table"),
                            html.H3(t("centre.figures", language)),
                            html.Div(id="centre-kpis", className="kpi-column"),
                            county_map_panel(
                                "centre", language, centre.code if centre.level == "county" else None
                            ),
                            html.Div(id="centre-missed", className="missed-list"),
                            checkin_video_panel(context.engine, centre.code, language, context.settings.zone),
                        ],
                        className="side-column",
                    ),
                ],
                className="centre-body",
            ),
        ],
        className="centre-page",
        lang=language,
        **{"data-centre": centre.code},
    )


def tools_signature(place, language: str) -> str:
    """What :func:`camera_tools` draws depends on only these."""
    return f"{place.camera.id}|{int(place.camera.controllable)}|{language}"


def camera_tools(place, language: str) -> list:
    """Snapshot (full resolution, server-side; assets/centre-snapshot.js shows and saves it) and the
    PTZ panel: live for a camera with PTZ, greyed out with the reason for one without."""
    camera = place.camera
    tools = [
        html.Button(
            t("centre.snapshot", language),
            id="snapshot-button",
            type="button",
            className="tool-button",
            **{
                "data-camera": camera.id,
                "data-taken": t("centre.snapshot_taken", language),
                "data-failed": t("centre.snapshot_failed", language),
                "data-preview": t("centre.snapshot_preview", language),
            },
        ),
        html.Div(id="snapshot-toast", className="snapshot-toast", role="status", **{"aria-live": "polite"}),
    ]
    controllable = camera.controllable
    buttons = [
        html.Button(
            t(f"ptz.{direction}", language),
            id={"type": "ptz", "direction": direction},
            className="ptz-button",
            disabled=not controllable,
        )
        for direction in DIRECTIONS
    ]
    panel = [
        html.H4(t("centre.ptz", language), className="ptz-title"),
        html.Div(buttons, className="ptz-buttons"),
    ]
    if controllable:
        # on a row of their own after the direction buttons: the dropdown, drawn a moment later
        # (its code loads on demand), can then not move a button under the operator's pointer
        presets = [
            dcc.Dropdown(id="ptz-preset", placeholder=t("ptz.presets", language), className="ptz-presets"),
            html.Button(t("ptz.goto", language), id="ptz-goto", className="ptz-button"),
            html.Label(
                [
                    html.Span(t("ptz.new_preset", language), className="ptz-label"),
                    dcc.Input(id="ptz-preset-name", placeholder=t("ptz.new_preset", language), maxLength=32),
                ]
            ),
            html.Button(t("ptz.save", language), id="ptz-save", className="ptz-button"),
        ]
        panel.append(html.Div(presets, className="ptz-preset-row"))
    if not controllable:
        panel.append(html.P(t("centre.ptz_none", language), className="ptz-reason", id="ptz-reason"))
    tools.append(
        html.Div(
            panel,
            className="ptz-panel" + ("" if controllable else " ptz-disabled"),
            id="ptz-panel",
            role="group",
            **{"aria-label": t("centre.ptz", language), "aria-disabled": "false" if controllable else "true"},
            style={} if controllable else {"opacity": 0.45, "filter": "grayscale(1)"},
        )
    )
    return tools


def health_rows(context: AppContext, camera_id: str, language: str) -> list:
    health = context.media.camera_health(camera_id) if context.media is not None else None
    if health is None:
        return [html.Tr(html.Td(t("centre.no_ingest", language)))]
    snapshot = health.as_dict()
    rows = []
    for field in HEALTH_FIELDS:
        value = snapshot.get(field)
        if isinstance(value, float):
            value = f"{value:,.2f}"
        rows.append(
            html.Tr([html.Th(t(f"health.{field}", language)), html.Td("–" if value is None else str(value))])
        )
    sub = snapshot.get("streams", {}).get("sub")
    if sub is not None:  # the sub stream, on its own: one down is not the other down
        size = f"{sub['width']}x{sub['height']}" if sub["width"] else None
        for field, value in (("sub_state", sub["state"]), ("sub_codec", sub["codec"]), ("sub_size", size),
                             ("sub_fps", sub["fps"])):  # fmt: skip
            rows.append(
                html.Tr(
                    [html.Th(t(f"health.{field}", language)), html.Td("–" if value is None else str(value))],
                    className="sub-stream-row",
                )
            )
    return rows


def county_figures(context: AppContext, code: str, language: str) -> tuple[list, list]:
    from sqlalchemy import func, select

    now = datetime.now(UTC)
    zone = context.settings.zone
    windows = context.settings.checkin_windows
    today = local_day(now, zone)
    with context.engine.connect() as connection:
        # only windows already closed are owed (and missed); those still open are pending, apart
        progress = compliance.today_progress(connection, now, zone, windows, county=code)
        rate = progress["rate"]
        missed = compliance.missed_today(connection, now, zone, county=code, windows=windows)
        pending = compliance.pending_today(connection, now, zone, county=code, windows=windows)
        cases_total = connection.execute(
            select(func.count()).select_from(Case).where(Case.county == code)
        ).scalar_one()
        month = today.strftime("%Y-%m")
        cases_month = connection.execute(
            select(func.count()).select_from(Case).where(Case.county == code, Case.received_month == month)
        ).scalar_one()
        bases = dict(
            connection.execute(
                select(SupportBase.kind, func.count())
                .where(SupportBase.county == code)
                .group_by(SupportBase.kind)
            ).all()
        )
    kpis = [
        kpi_card(
            "county-compliance",
            t("kpi.compliance_today", language),
            figures.format_rate(rate),
            f"{progress['done']}/{progress['due']} · {t('kpi.pending', language)} {progress['pending']}",
        ),
        kpi_card("county-cases-month", t("kpi.cases_month", language), str(cases_month)),
        kpi_card("county-cases-total", t("kpi.cases_total", language), str(cases_total)),
        kpi_card(
            "county-bases",
            t("kpi.bases", language),
            f"{bases.get('education', 0)} / {bases.get('public_welfare', 0)} / {bases.get('employment', 0)}",
        ),
    ]
    missed_table = people_table(
        "missed-table",
        missed,
        language,
        outcome=True,
        empty=t("centre.none_missed", language),
    )
    pending_table = people_table(
        "pending-table",
        pending,
        language,
        outcome=False,
        empty=t("centre.none_pending", language),
    )
    return kpis, [
        html.H3([t("centre.missed", language), count_badge("missed-count", len(missed), language)]),
        missed_table,
        html.H3([t("centre.pending", language), count_badge("pending-count", len(pending), language)]),
        pending_table,
    ]


def count_badge(badge_id: str, count: int, language: str) -> html.Span:
    return html.Span(
        f" ({t('centre.count', language).format(count=count)})",
        id=badge_id,
        className="list-count",
        **{"data-count": str(count)},
    )


def people_table(table_id: str, items: list[dict], language: str, *, outcome: bool, empty: str) -> html.Table:
    """The missed (with their outcome) or pending check-ins: a header row, then one row a person."""
    columns = ["name", "slot"] + (["outcome"] if outcome else [])
    head = html.Thead(html.Tr([html.Th(t(f"centre.col.{c}", language), scope="col") for c in columns]))
    rows = [
        html.Tr(
            [html.Td(item["name"]), html.Td(t(f"slot.{item['slot']}", language))]
            + ([html.Td(t(f"outcome.{item['outcome']}", language))] if outcome else [])
        )
        for item in items
    ]
    if not rows:
        rows = [html.Tr(html.Td(empty, colSpan=len(columns)))]
    return html.Table([head, html.Tbody(rows)], className="missed-table", id=table_id)


def register_callbacks(app) -> None:
    @app.callback(
        Output("centre-camera", "data"),
        Output("centre-rooms", "children"),
        Input({"type": "camera-pick", "camera": ALL}, "n_clicks"),
        Input("centre-cameras-refresh", "n_clicks"),
        State("centre-code", "data"),
        State("centre-camera", "data"),
        State("centre-language", "data"),
        prevent_initial_call=True,
    )
    def pick_camera(_clicks, _refresh, code, chosen, language):
        """A pick opens that camera; a push reloads the list (and moves off a camera no longer listed)."""
        context = current()
        principal, centre = _centre_or_403(context, code)
        listed = [camera.id for camera in listed_cameras(centre)]
        if ctx.triggered_id == "centre-cameras-refresh":
            still = chosen if chosen in listed else (listed[0] if listed else None)
            return (no_update if still == chosen else still), room_blocks(centre, normalise(language), still)
        picked = ctx.triggered_id["camera"] if isinstance(ctx.triggered_id, dict) else None
        if picked is None or picked not in listed or not ctx.triggered[0].get("value"):
            return no_update, no_update
        audit("live_view", target=picked)
        return picked, no_update

    @app.callback(
        Output("centre-live", "data-live-camera"),
        Output("centre-live", "aria-label"),
        Output("centre-camera-tools", "children"),
        Output("centre-health", "children"),
        Output("centre-kpis", "children"),
        Output("centre-missed", "children"),
        Output({"type": "camera-pick", "camera": ALL}, "className"),
        Output("centre-tools-key", "data"),
        Input("centre-camera", "data"),
        Input("centre-refresh", "n_clicks"),
        State("centre-code", "data"),
        State("centre-language", "data"),
        State({"type": "camera-pick", "camera": ALL}, "id"),
        State("centre-tools-key", "data"),
    )
    def show_camera(camera_id, _refresh, code, language, pick_ids, shown_tools):
        context = current()
        principal, centre = _centre_or_403(context, code)
        language = normalise(language)
        place = next(
            (p for p in context.site.cameras() if p.camera.id == camera_id and p.centre.code == code), None
        )
        kpis, missed = figure_cache.cached(
            context, ("county", code, language), lambda: county_figures(context, code, language)
        )
        classes = ["camera-pick" + (" chosen" if item["camera"] == camera_id else "") for item in pick_ids]
        if place is None:
            return "", video_name(centre, None, language), [], [], kpis, missed, classes, None
        # A push refreshes health and figures; the tools stay the same elements unless what they
        # show changed, so a preset name being typed or a PTZ button under the pointer survives it.
        tools_key = tools_signature(place, language)
        return (
            camera_id,
            video_name(centre, camera_id, language),
            no_update if tools_key == shown_tools else camera_tools(place, language),
            health_rows(context, camera_id, language),
            kpis,
            missed,
            classes,
            tools_key,
        )

    @app.callback(
        Output("centre-ptz-result", "children"),
        Input({"type": "ptz", "direction": ALL}, "n_clicks"),
        Input("ptz-goto", "n_clicks"),
        Input("ptz-save", "n_clicks"),
        State("ptz-preset", "value"),
        State("ptz-preset-name", "value"),
        State("centre-camera", "data"),
        State("centre-code", "data"),
        State("centre-language", "data"),
        prevent_initial_call=True,
    )
    def ptz(_moves, _goto, _save, preset, preset_name, camera_id, code, language):
        context = current()
        principal, centre = _centre_or_403(context, code)
        access.require(access.can_move_camera(principal, code))
        place = next(
            (p for p in context.site.cameras() if p.camera.id == camera_id and p.centre.code == code), None
        )
        access.require(place is not None)
        language = normalise(language)
        control = control_for(place, context.settings.secrets_file)
        trigger = ctx.triggered_id
        if isinstance(trigger, dict):
            pulse(control, trigger["direction"])
            detail = {"move": trigger["direction"]}
        elif trigger == "ptz-goto" and preset:
            control.goto_preset(preset)
            detail = {"goto_preset": preset}
        elif trigger == "ptz-save" and preset_name:
            detail = {"set_preset": preset_name, "token": control.set_preset(preset_name)}
        else:
            return no_update
        audit("ptz", target=camera_id, detail=detail)
        return t("ptz.done", language) + " " + json.dumps(detail, ensure_ascii=False)

    @app.callback(
        Output("ptz-preset", "options"),
        Input("centre-camera-tools", "children"),
        Input("centre-ptz-result", "children"),
        State("centre-camera", "data"),
        State("centre-code", "data"),
        prevent_initial_call=True,
    )
    def presets(_tools, _result, camera_id, code):
        context = current()
        _principal, _centre = _centre_or_403(context, code)
        place = next(
            (p for p in context.site.cameras() if p.camera.id == camera_id and p.centre.code == code), None
        )
        if place is None or not place.camera.controllable:
            return []
        return [
            {"label": preset.name or preset.token, "value": preset.token}
            for preset in control_for(place, context.settings.secrets_file).presets()
        ]
