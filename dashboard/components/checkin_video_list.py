"""A county's latest video-verified check-ins, each with the frame stored as its snapshot."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from dash import Input, Output, State, html
from sqlalchemy.engine import Engine

from watchwall.dashboard import access
from watchwall.dashboard.auth import current_principal
from watchwall.dashboard.checkin_video_query import recent_video_checks
from watchwall.dashboard.components.incident_panel import local_time
from watchwall.dashboard.context import current
from watchwall.dashboard.i18n import normalise, t

SHOWN = 8
PUSH = "checkin_video"  # data-push-refresh: clicked by assets/checkin-video.js on checkin_video.changed


def verdict_text(check: dict, language: str) -> str:
    if check["state"] != "done":
        return t("checkin_video.pending", language)
    if check["reason"] == "no_recording":
        return t("checkin_video.no_recording", language)
    return t("checkin_video.face" if check["face_present"] else "checkin_video.no_face", language)


def checkin_video_item(check: dict, language: str, zone: ZoneInfo) -> html.Li:
    picture = (
        html.Img(
            src=f"/checkins/video/{check['id']}/snapshot.jpg",
            alt=t("checkin_video.snapshot_alt", language),
            className="checkin-video-snapshot",
        )
        if check["has_snapshot"]
        else html.Div(className="checkin-video-snapshot checkin-video-empty")
    )
    state = "pending" if check["state"] != "done" else ("face" if check["face_present"] else "no-face")
    return html.Li(
        [
            picture,
            html.Div(
                [
                    html.Div(f"{local_time(check['checked_at'], zone)}  {check['subject_name']}"),
                    html.Div(f"{t('method.' + check['method'], language)} · {check['camera_id']}"),
                    html.Div(verdict_text(check, language), className="checkin-video-verdict"),
                ],
                className="checkin-video-text",
            ),
        ],
        className=f"checkin-video-item checkin-video-{state}",
        **{"data-check": check["external_id"]},
    )


def checkin_video_list(engine: Engine, county: str, language: str, zone: ZoneInfo):
    checks = recent_video_checks(engine, county, SHOWN)
    if not checks:
        return html.P(t("checkin_video.none", language), className="checkin-video-none")
    return html.Ul(
        [checkin_video_item(check, language, zone) for check in checks], className="checkin-video-list"
    )


def checkin_video_panel(engine: Engine, county: str, language: str, zone: ZoneInfo) -> html.Section:
    return html.Section(
        [
            html.H3(t("checkin_video.title", language)),
            html.Div(checkin_video_list(engine, county, language, zone), id="centre-video-checks-body"),
            # hidden; a stored verdict of this county clicks it (the list reloads without the page)
            html.Button(
                id="centre-video-checks-refresh",
                n_clicks=0,
                hidden=True,
                **{"data-push-refresh": PUSH, "data-centre": county},
            ),
        ],
        id="centre-video-checks",
        className="checkin-video-section",
    )


def register_callbacks(app) -> None:
    @app.callback(
        Output("centre-video-checks-body", "children"),
        Input("centre-video-checks-refresh", "n_clicks"),
        State("centre-code", "data"),
        State("centre-language", "data"),
        prevent_initial_call=True,
    )
    def reload_list(_clicks, code, language):
        principal = current_principal()
        access.require(
            principal is not None and code is not None and access.can_open_centre_page(principal, code)
        )
        context = current()
        return checkin_video_list(context.engine, code, normalise(language), context.settings.zone)
