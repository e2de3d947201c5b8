"""/recordings: find a camera's recording by centre, room and day; timeline, player, export, bookmarks,
evidence locks, audit trail.

For inspectors and administrators only, and only of the centres they may see:
the layout and every callback check the principal again. The export form and the
audit trail, the bookmarks and the evidence locks are components of their own
(dashboard/components/); this page lays them out and wires the filters, the timeline and the player
(dashboard/components/recording_player.py: which span a click plays).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from dash import Input, Output, State, ctx, dcc, html, no_update

from watchwall.dashboard.access import (
    can_administer,
    can_read_audit,
    can_see_recordings,
    require,
    visible_centres,
)
from watchwall.dashboard.auth import current_principal
from watchwall.dashboard.components import audit_trail, bookmark_list, bookmark_panel, export_form, lock_panel
from watchwall.dashboard.components.panel_style import CONTROL, PANEL, labelled
from watchwall.dashboard.components.recording_player import (
    clicked_instant,
    day_timeline,
    play_span,
    play_url,
    timeline_labels,
)
from watchwall.dashboard.components.room_list import push_refresh_button
from watchwall.dashboard.components.shell import header
from watchwall.dashboard.components.timeline import timeline_figure
from watchwall.dashboard.context import AppContext, current
from watchwall.dashboard.i18n import t
from watchwall.dashboard.language import page_language


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


def local_text(epoch: float, context: AppContext, seconds: bool = True) -> str:
    moment = datetime.fromtimestamp(epoch, UTC).astimezone(context.settings.zone)
    return moment.strftime("%Y-%m-%dT%H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def layout(lang: str | None = None, camera: str | None = None, day: str | None = None, **_query) -> html.Div:
    require(allowed())  # Dash's page router calls this too
    context = current()
    principal = current_principal()
    language = page_language(lang)  # a ?lang= choice is remembered for the user
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
                                autoPlay=True,
                                style={"width": "100%", "maxHeight": "480px", "background": "#000"},
                            ),
                            html.P(id="rec-span", className="rec-span", style={"margin": "6px 0 0 0"}),
                        ],
                        style={**PANEL, "flex": "3 1 0", "minWidth": 0},
                    ),
                    export_form.export_form(language),
                ],
                style={"display": "flex", "gap": "12px", "alignItems": "stretch"},
            ),
            html.Div(
                [
                    bookmark_panel.bookmark_form(language),
                    lock_panel.lock_form(language, admin=can_administer(principal)),
                ],
                style={"display": "flex", "gap": "12px", "alignItems": "stretch"},
            ),
            bookmark_list.bookmark_list(
                language,
                [(c.code, c.label.get(language)) for c in context.site.centres if c.code in centres],
                chosen_day,
            ),
            lock_panel.lock_list(language),
            audit_trail.audit_section(language),
        ],
        className="rec-page",
        lang=language,
        style={"display": "flex", "flexDirection": "column", "gap": "12px", "padding": "10px 16px"},
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

    export_form.register_callbacks(app, allowed)
    bookmark_panel.register_callbacks(app, allowed)
    bookmark_list.register_callbacks(app, allowed)
    lock_panel.register_callbacks(app, allowed)
    audit_trail.register_callbacks(app, allowed)
