"""/recordings: find a camera's recording by centre, room and day; timeline, player, export, bookmarks,
evidence locks, audit trail.

For inspectors, administrators and county supervisors, each only of the centres they may see: the
layout and every callback check the principal again. Supervisors get the timeline, the player and
bookmarks; the export form only where ``supervisors_may_export`` grants it, no locks and no audit
trail. Nothing plays until someone chooses: a click on the timeline, Play, a jump, or a link
``?camera=ID&start=ISO`` (the wall's "playback of the last minutes"). The playhead, the jump buttons,
mark-in / mark-out and the pickers' check run in the browser (assets/recordings-player.js). The export form and the
audit trail, the bookmarks and the evidence locks are components of their own
(dashboard/components/); this page lays them out and wires the filters, the timeline and the player
(dashboard/components/recording_player.py: which span a click plays).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from dash import Input, Output, State, ctx, dcc, html, no_update

from watchwall.config.errors import UserError
from watchwall.dashboard.access import (
    can_administer,
    can_export,
    can_lock,
    can_open_recordings,
    can_read_audit,
    can_see_recordings,
    require,
    visible_centres,
)
from watchwall.dashboard.auth import current_principal
from watchwall.dashboard.components import audit_trail, bookmark_list, bookmark_panel, export_form, lock_panel
from watchwall.dashboard.components.panel_style import BUTTON, CONTROL, PANEL, labelled
from watchwall.dashboard.components.recording_player import (
    JUMPS_S,
    clicked_instant,
    day_timeline,
    play_span,
    play_url,
    played_span,
    seek_request_instant,
    timeline_labels,
)
from watchwall.dashboard.components.room_list import push_refresh_button
from watchwall.dashboard.components.shell import header
from watchwall.dashboard.components.timeline import timeline_figure
from watchwall.dashboard.context import AppContext, current
from watchwall.dashboard.i18n import t
from watchwall.dashboard.language import page_language
from watchwall.dashboard.recording_routes import MAX_SPAN_S
from watchwall.video.record.evidence_cli import parse_instant


def allowed() -> bool:
    principal = current_principal()
    return principal is not None and can_open_recordings(principal)


def allowed_audit() -> bool:
    principal = current_principal()
    return principal is not None and can_read_audit(principal)


def allowed_locks() -> bool:
    """Locks are the inspectors' (and admins'): ``can_lock`` of any centre the user sees."""
    principal = current_principal()
    return principal is not None and allowed() and any(can_lock(principal, c) for c in principal_centres())


def principal_centres() -> list[str]:
    return visible_centres(current_principal(), current().site)


def may_export(principal) -> bool:
    settings = current().settings
    return any(can_export(principal, c, settings.supervisors_may_export) for c in principal_centres())


def allowed_camera(context: AppContext, camera_id):
    """The camera's place if the principal may see its recordings (Forbidden if not); None if unknown."""
    principal = current_principal()
    require(principal is not None and can_open_recordings(principal))
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


def local_text(epoch: float, context: AppContext, seconds: bool = True) -> str:
    moment = datetime.fromtimestamp(epoch, UTC).astimezone(context.settings.zone)
    return moment.strftime("%Y-%m-%dT%H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def initial_start(start, context: AppContext) -> float | None:
    """``?start=ISO`` (an offset, or the site's local time): the instant a link asks to play from."""
    if not start:
        return None
    text = str(start).strip()
    head, _, offset = text.rpartition(" ")
    # an offset's "+" left unencoded in a link arrives as a space
    for candidate in (text, f"{head}+{offset}") if head and ":" in head else (text,):
        try:
            return parse_instant(candidate, context.settings.zone)
        except (UserError, ValueError, OverflowError):
            continue
    return None


def shown_time(epoch: float, context: AppContext) -> str:
    return local_text(epoch, context).replace("T", " ")


def layout(
    lang: str | None = None,
    camera: str | None = None,
    day: str | None = None,
    start: str | None = None,
    **_query,
) -> html.Div:
    require(allowed())  # Dash's page router calls this too
    context = current()
    principal = current_principal()
    language = page_language(lang)  # a ?lang= choice is remembered for the user
    centres = visible_centres(principal, context.site)
    centres = [c for c in centres if can_see_recordings(principal, c)]
    place = None
    if camera:
        place = allowed_camera(context, camera)
    centre = place.centre.code if place else (centres[0] if centres else None)
    start_utc = initial_start(start, context) if place else None
    try:
        chosen_day = date.fromisoformat(day) if day else today(context)
    except ValueError:
        chosen_day = today(context)
    if start_utc is not None:
        chosen_day = datetime.fromtimestamp(start_utc, UTC).astimezone(context.settings.zone).date()
    exporter = may_export(principal)
    inspector = allowed_locks()
    return html.Div(
        [
            dcc.Store(id="rec-language", data=language),
            dcc.Store(
                id="rec-initial",
                data={"room": place.room.code if place else None, "camera": camera, "start": start_utc},
            ),
            push_refresh_button("rec-cameras-refresh"),  # the filters follow cameras.changed
            header(t("rec.title", language), language, "/recordings"),
            html.Section(
                [
                    labelled(
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
                    labelled(
                        t("rec.room", language),
                        dcc.Dropdown(id="rec-room", placeholder=t("rec.all_rooms", language), style=CONTROL),
                    ),
                    labelled(
                        t("rec.camera", language),
                        dcc.Dropdown(id="rec-camera", clearable=False, style=CONTROL),
                        wide=True,
                    ),
                    labelled(
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
                        style={"height": "250px"},
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
                                autoPlay=True,  # it has no source until someone chooses what to play
                                preload="none",
                                title=t("pb.player", language),
                                style={"width": "100%", "maxHeight": "480px", "background": "#000"},
                                **{
                                    "aria-label": t("pb.player", language),
                                    "data-zone": context.settings.timezone,
                                    "data-span-start": "",
                                    "data-span-end": "",
                                },
                            ),
                            player_controls(language),
                            html.P(
                                t("pb.choose", language),
                                id="rec-span",
                                className="rec-span",
                                role="status",
                                style={"margin": "6px 0 0 0"},
                            ),
                        ],
                        style={**PANEL, "flex": "3 1 0", "minWidth": 0},
                    ),
                    export_form.export_form(language, enabled=exporter, max_span_s=MAX_SPAN_S),
                ],
                style={"display": "flex", "gap": "12px", "alignItems": "stretch"},
            ),
            html.Div(
                [
                    bookmark_panel.bookmark_form(language),
                    lock_panel.lock_form(language, admin=can_administer(principal))
                    if inspector
                    else dcc.Store(id="rec-lock-version", data=0),
                ],
                style={"display": "flex", "gap": "12px", "alignItems": "stretch"},
            ),
            bookmark_list.bookmark_list(
                language,
                [(c.code, c.label.get(language)) for c in context.site.centres if c.code in centres],
                chosen_day,
            ),
            *([lock_panel.lock_list(language)] if inspector else []),
            *([audit_trail.audit_section(language)] if allowed_audit() else []),
        ],
        className="rec-page",
        lang=language,
        style={"display": "flex", "flexDirection": "column", "gap": "12px", "padding": "10px 16px"},
    )


def player_controls(language: str) -> html.Div:
    """Jumps, mark-in / mark-out and the playhead's local time; wired in assets/recordings-player.js."""
    small = {**BUTTON, "padding": "4px 10px"}
    jumps = [
        html.Button(
            t(f"pb.jump.{seconds}", language),
            className="rec-jump",
            type="button",
            style=small,
            **{"data-jump": str(seconds), "aria-label": t(f"pb.jump_label.{seconds}", language)},
        )
        for seconds in JUMPS_S
    ]
    return html.Div(
        [
            html.Button(t("pb.play", language), id="rec-play", n_clicks=0, type="button", style=small),
            *jumps,
            html.Button(t("pb.mark_in", language), id="rec-mark-in", type="button", style=small),
            html.Button(t("pb.mark_out", language), id="rec-mark-out", type="button", style=small),
            html.Span(
                "",
                id="rec-playhead-time",
                role="timer",
                style={"fontVariantNumeric": "tabular-nums", "marginLeft": "8px"},
                **{"data-label": t("pb.playhead", language), "data-local": t("pb.local_time", language)},
            ),
            # a jump out of the loaded span asks the server for a new one: "<epoch>|<nonce>"
            dcc.Input(
                id="rec-seek-request",
                type="text",
                value="",
                style={"display": "none"},  # not shown, so neither in the tab order nor read out
            ),
        ],
        className="rec-player-controls",
        style={
            "display": "flex",
            "gap": "6px",
            "flexWrap": "wrap",
            "alignItems": "center",
            "marginTop": "6px",
        },
    )


def register_callbacks(app) -> None:
    @app.callback(
        Output("rec-room", "options"),
        Output("rec-room", "value"),
        Input("rec-centre", "value"),
        Input("rec-cameras-refresh", "n_clicks"),
        State("rec-language", "data"),
        State("rec-initial", "data"),
        State("rec-room", "value"),
    )
    def rooms(centre_code, _cameras_changed, language, initial, chosen):
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
        if ctx.triggered_id == "rec-cameras-refresh":
            wanted = chosen
        return options, wanted if any(o["value"] == wanted for o in options) else None

    @app.callback(
        Output("rec-camera", "options"),
        Output("rec-camera", "value"),
        Input("rec-centre", "value"),
        Input("rec-room", "value"),
        Input("rec-cameras-refresh", "n_clicks"),
        State("rec-language", "data"),
        State("rec-initial", "data"),
        State("rec-camera", "value"),
    )
    def cameras(centre_code, room_code, _cameras_changed, language, initial, chosen):
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
        Input("rec-bm-version", "data"),
        Input("rec-lock-version", "data"),
        State("rec-language", "data"),
    )
    def draw_timeline(camera_id, day, _bookmarks_changed, _locks_changed, language):
        require(allowed())
        context = current()
        place = allowed_camera(context, camera_id)
        chosen_day = parse_day(day)
        if place is None or chosen_day is None:
            return no_update
        data = day_timeline(context, place.camera.id, chosen_day)
        data["bookmarks"] = bookmark_panel.timeline_marks(context, place.camera.id, data)
        data["locks"] = lock_panel.timeline_locks(context, place.camera.id, data)
        labels = {**timeline_labels(language), **bookmark_panel.mark_labels(language)}
        return [timeline_figure(data, context.settings.zone, labels)]

    @app.callback(
        Output("rec-player", "src"),
        Output("rec-player", "data-span-start"),
        Output("rec-player", "data-span-end"),
        Output("rec-player", "aria-label"),
        Output("rec-span", "children"),
        Output("rec-export-camera", "value"),
        Output("rec-export-from", "value"),
        Output("rec-export-to", "value"),
        Input("rec-camera", "value"),
        Input("rec-day", "date"),
        Input("rec-timeline", "clickData"),
        Input("rec-play", "n_clicks"),
        Input("rec-seek-request", "value"),
        State("rec-language", "data"),
        State("rec-initial", "data"),
    )
    def choose_span(camera_id, day, click, _play, seek_request, language, initial):
        """Plays only what someone chose: a timeline click, Play, a jump, or the link's ``start``."""
        require(allowed())
        context = current()
        place = allowed_camera(context, camera_id)
        chosen_day = parse_day(day)
        if place is None or chosen_day is None:
            return (no_update,) * 8
        camera_id = place.camera.id
        name = f"{place.camera.name.get(language)} · {place.room.name.get(language)}"
        data = day_timeline(context, camera_id, chosen_day)
        trigger = ctx.triggered_id
        clicked = None
        if trigger == "rec-timeline":
            clicked = clicked_instant(click)
        elif trigger == "rec-seek-request":
            clicked = seek_request_instant(seek_request)
        elif trigger != "rec-play" and isinstance(initial, dict) and initial.get("camera") == camera_id:
            start = initial.get("start")
            if isinstance(start, int | float) and data["start_utc"] <= start < data["end_utc"]:
                clicked = float(start)  # the link chose it
        chose = trigger == "rec-play" or clicked is not None
        if not data["segments"]:
            return "", "", "", name, t("rec.empty", language), camera_id, "", ""
        if not chose:  # the camera or the day changed: show its timeline, play nothing yet
            first = data["segments"][0]["start_utc"]
            return (
                "",
                "",
                "",
                name,
                t("pb.choose", language),
                camera_id,
                local_text(first, context),
                local_text(min(data["segments"][0]["end_utc"], first + 60), context),
            )
        start, end, gap_reason = play_span(context, camera_id, data, clicked)
        try:
            actual_start, actual_end = played_span(context, camera_id, start, end)
        except UserError as exc:
            return "", "", "", name, str(exc), camera_id, no_update, no_update
        span_text = (
            f"{t('rec.span', language)} {shown_time(actual_start, context)} – {shown_time(actual_end, context)}"
            f" ({t('pb.local_time', language)})"
        )
        if gap_reason:
            span_text += f" ({t('rec.gap_skipped', language)}: {t(f'rec.gap.{gap_reason}', language)})"
        return (
            play_url(camera_id, start, end),
            repr(actual_start),
            repr(actual_end),
            name,
            span_text,
            camera_id,
            local_text(start, context),
            local_text(min(end, start + 60), context),
        )

    export_form.register_callbacks(app, allowed)
    bookmark_panel.register_callbacks(app, allowed)
    bookmark_list.register_callbacks(app, allowed)
    lock_panel.register_callbacks(app, allowed_locks)
    audit_trail.register_callbacks(app, allowed_audit)
