"""Starting a roll-call, and its live board: the centres to call (city command: any county centre; a
county supervisor: their own, with a choice of its cameras), the 点名 button, and the board where
assets/rollcall.js draws each called centre's camera, turning green or red as verdicts come.

Used by the wall and by /rollcall. The start callback checks the user's rules again and refuses,
naming the centre, what the store refuses (``watchwall.rollcall.store.plan_calls``).
"""

from __future__ import annotations

from dash import Input, Output, State, dcc, html, no_update

from watchwall.config.errors import UserError
from watchwall.dashboard import access
from watchwall.dashboard.auth import client_address, current_principal
from watchwall.dashboard.context import AppContext, current
from watchwall.dashboard.i18n import normalise, t
from watchwall.dashboard.rollcall_service import call_publisher
from watchwall.rollcall import rules
from watchwall.rollcall.cameras import rollcall_camera
from watchwall.rollcall.store import start_rollcall

ROLLCALL_PUSH = "rollcall"  # rollcall.js clicks every hidden button marked so when rollcall.changed arrives


def callable_centres(context: AppContext, principal, language: str) -> list[dict]:
    options = []
    for centre in context.site.counties:
        if not rules.can_start(principal, centre.code):
            continue
        chosen = rollcall_camera(centre)
        camera = chosen[1].name.get(language) if chosen else t("rollcall.no_camera", language)
        options.append({"label": f"{centre.label.get(language)} · {camera}", "value": centre.code})
    return options


def rollcall_control(
    context: AppContext, principal, language: str, *, choose_camera: bool = False
) -> html.Section:
    options = callable_centres(context, principal, language)
    own = [option["value"] for option in options] if principal.role == "county_supervisor" else []
    return html.Section(
        [
            dcc.Store(id="rollcall-language", data=language),
            html.H2(t("rollcall.title", language), className="rollcall-title"),
            html.Div(
                [
                    dcc.Checklist(
                        id="rollcall-centres",
                        options=options,
                        value=own,
                        inline=True,
                        className="rollcall-centres",
                    ),
                    html.Button(t("rollcall.all", language), id="rollcall-all", className="tool-button"),
                    dcc.Dropdown(
                        id="rollcall-camera",
                        placeholder=t("rollcall.camera_default", language),
                        className="rollcall-camera",
                        style={} if choose_camera else {"display": "none"},
                    ),
                    html.Button(
                        t("rollcall.start", language),
                        id="rollcall-start",
                        className="tool-button rollcall-start",
                    ),
                ],
                className="rollcall-form",
            ),
            html.Div(id="rollcall-start-result", className="rollcall-result", role="status"),
            html.Div(id="rollcall-figures", className="rollcall-figures"),
            html.Div(id="rollcall-board", className="rollcall-board"),
        ],
        className="rollcall-control",
        id="rollcall-control",
    )


def register_callbacks(app) -> None:
    @app.callback(
        Output("rollcall-centres", "value"),
        Input("rollcall-all", "n_clicks"),
        State("rollcall-centres", "options"),
        prevent_initial_call=True,
    )
    def _all(_clicks, options):
        principal = current_principal()
        access.require(principal is not None and rules.can_start_any(principal))
        context = current()
        return [
            option["value"]
            for option in options or []
            if isinstance(option, dict) and option.get("value") in {c.code for c in context.site.counties}
        ]

    @app.callback(
        Output("rollcall-camera", "options"),
        Output("rollcall-camera", "value"),
        Input("rollcall-centres", "value"),
        State("rollcall-language", "data"),
    )
    def _cameras(centres, language):
        """A camera of the one chosen centre may replace its roll-call camera."""
        principal = current_principal()
        context = current()
        language = normalise(language)
        if principal is None or not centres or len(centres) != 1:
            return [], None
        code = centres[0]
        if not (access.can_see_centre(principal, code) and rules.can_start(principal, code)):
            return [], None
        try:
            centre = context.site.centre(code)
        except KeyError:
            return [], None
        return [
            {"label": f"{room.name.get(language)} · {camera.name.get(language)}", "value": camera.id}
            for room in centre.rooms
            for camera in room.cameras
            if camera.enabled
        ], None

    @app.callback(
        Output("rollcall-start-result", "children"),
        Input("rollcall-start", "n_clicks"),
        State("rollcall-centres", "value"),
        State("rollcall-camera", "value"),
        State("rollcall-language", "data"),
        prevent_initial_call=True,
    )
    def _start(clicks, centres, camera_id, language):
        if not clicks:
            return no_update
        principal = current_principal()
        access.require(principal is not None and rules.can_start_any(principal))
        context = current()
        language = normalise(language)
        try:
            calls = start_rollcall(
                context.engine,
                context.site,
                context.settings.rollcall,
                principal,
                list(centres or []),
                camera_id=camera_id or None,
                address=client_address(),
            )
        except UserError as exc:
            return html.Span(f"{t('rollcall.refused', language)}: {exc}", className="rollcall-refused")
        publish = call_publisher(context)
        for call in calls:
            publish(call)
        called = ", ".join(context.site.centre(call["county"]).label.get(language) for call in calls)
        return html.Span(
            f"{t('rollcall.started', language)}: {called}",
            className="rollcall-started",
            **{"data-rollcall": str(calls[0]["rollcall_id"])},
        )
