"""/admin: cameras (site file, ONVIF inventory, add by address, discovery), users and roles, retention."""

from __future__ import annotations

from dash import Input, Output, State, ctx, dcc, html, no_update
from sqlalchemy.orm import Session

from watchwall.cameras.discovery import discover
from watchwall.cameras.inventory import list_cameras
from watchwall.config import retention_setting
from watchwall.config.errors import UserError
from watchwall.config.site import STANDARD_ROOMS
from watchwall.dashboard import access
from watchwall.dashboard.accounts import ROLES, User, add_user
from watchwall.dashboard.auth import audit, current_principal
from watchwall.dashboard.components import user_admin
from watchwall.dashboard.components.camera_add import NEW_ROOM, CameraForm, add_by_address
from watchwall.dashboard.components.camera_live_cells import live_cells, live_headers
from watchwall.dashboard.components.form_field import field, result_line
from watchwall.dashboard.components.inventory_actions import ACTIONS, run_action
from watchwall.dashboard.components.room_list import push_refresh_button
from watchwall.dashboard.components.shell import header
from watchwall.dashboard.context import AppContext, current
from watchwall.dashboard.i18n import normalise, t
from watchwall.dashboard.language import page_language

DISCOVERY_TIMEOUT_S = 3.0
LIVE_REFRESH_MS = 5000  # the camera table's live cells (state, fps, last packet) are redrawn this often
CAMERA_FIELDS = ("cam-centre", "cam-room", "cam-new-room", "cam-id", "cam-name", "cam-address", "cam-user")
USER_FIELDS = ("user-name", "user-role", "user-county", "user-password")


def _admin_only():
    principal = current_principal()
    access.require(principal is not None and access.can_administer(principal))
    return principal


def _table(headers: list[str], rows: list[list], table_id: str) -> html.Table:
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in headers])),
            html.Tbody([html.Tr([html.Td(c) for c in r]) for r in rows]),
        ],
        className="admin-table",
        id=table_id,
    )


def role_options(language: str) -> list[dict]:
    return [{"label": t(f"admin.role.{role}", language), "value": role} for role in ROLES]


def county_options(context: AppContext, language: str) -> list[dict]:
    return [{"label": c.label.get(language), "value": c.code} for c in context.site.counties]


def room_options(context: AppContext, centre_code: str | None, language: str) -> list[dict]:
    """The centre's rooms (site file and inventory), the standard rooms it has not yet, and "new room"."""
    if not centre_code:
        return []
    centre = next((c for c in context.site.centres if c.code == centre_code), None)
    if centre is None:
        return []
    options = [{"label": room.name.get(language), "value": room.code} for room in centre.rooms]
    present = {room.code for room in centre.rooms}
    for code, (zh, en) in STANDARD_ROOMS.items():
        if code not in present:
            name = en if language == "en" else zh
            options.append({"label": t("admin.room_standard_new", language).format(room=name), "value": code})
    options.append({"label": t("admin.room_new", language), "value": NEW_ROOM})
    return options


def camera_form(language: str, centres: list[dict]) -> html.Div:
    return html.Div(
        [
            field(
                t("admin.centre", language),
                dcc.Dropdown(id="cam-centre", options=centres, placeholder=t("admin.choose", language)),
                "cam-centre",
            ),
            field(
                t("admin.room", language),
                dcc.Dropdown(id="cam-room", options=[], placeholder=t("admin.choose_centre_first", language)),
                "cam-room",
            ),
            field(
                t("admin.new_room_code", language),
                dcc.Input(id="cam-new-room", placeholder="meeting-2"),
                "cam-new-room",
                wrapper_id="cam-new-room-field",
                hidden=True,
            ),
            field(t("admin.camera_id", language), dcc.Input(id="cam-id", placeholder="qz-door"), "cam-id"),
            field(t("admin.camera_name", language), dcc.Input(id="cam-name"), "cam-name"),
            field(
                t("admin.onvif_address", language),
                dcc.Input(id="cam-address", placeholder="192.0.2.10:80"),
                "cam-address",
            ),
            field(
                t("admin.onvif_user", language),
                dcc.Input(id="cam-user", autoComplete="off", placeholder="admin"),
                "cam-user",
            ),
            field(
                t("admin.camera_password", language),
                dcc.Input(id="cam-password", type="password", autoComplete="new-password"),
                "cam-password",
            ),
            html.Button(t("admin.add", language), id="cam-add", className="tool-button"),
        ],
        className="admin-form",
    )


def user_form(language: str, counties: list[dict]) -> html.Div:
    return html.Div(
        [
            field(
                t("login.username", language),
                dcc.Input(id="user-name", autoComplete="off"),
                "user-name",
            ),
            field(
                t("admin.role", language),
                dcc.Dropdown(
                    id="user-role", options=role_options(language), placeholder=t("admin.choose", language)
                ),
                "user-role",
            ),
            field(
                t("admin.county", language),
                dcc.Dropdown(
                    id="user-county", options=counties, placeholder=t("admin.county_if_any", language)
                ),
                "user-county",
            ),
            field(
                t("login.password", language),
                dcc.Input(id="user-password", type="password", autoComplete="new-password"),
                "user-password",
            ),
            html.Button(t("admin.add", language), id="user-add", className="tool-button"),
        ],
        className="admin-form",
    )


def retention_form(context: AppContext, language: str) -> html.Div:
    by_env = retention_setting.set_by_environment()
    return html.Div(
        [
            html.Div(
                [
                    field(
                        t("admin.retention_days", language),
                        dcc.Input(
                            id="retention-days",
                            type="number",
                            min=retention_setting.MIN_DAYS,
                            max=retention_setting.MAX_DAYS,
                            value=retention_setting.current_days(context.settings),
                            disabled=by_env,
                        ),
                        "retention-days",
                    ),
                    html.Button(
                        t("admin.save", language),
                        id="retention-save",
                        className="tool-button",
                        disabled=by_env,
                    ),
                ],
                className="admin-form",
            ),
            html.P(
                t("admin.retention_by_env" if by_env else "admin.retention_when", language),
                className="admin-note",
                id="retention-note",
            ),
        ]
    )


def layout(lang: str | None = None, **_query) -> html.Div:
    _admin_only()
    context = current()
    language = page_language(lang)  # a ?lang= choice is remembered for the user
    centres = [{"label": c.label.get(language), "value": c.code} for c in context.site.centres]
    return html.Div(
        [
            dcc.Store(id="admin-language", data=language),
            dcc.Store(id="admin-cameras-added"),
            push_refresh_button("admin-cameras-refresh"),  # another admin's or the CLI's change shows up
            dcc.Interval(id="admin-live-refresh", interval=LIVE_REFRESH_MS),
            header(t("admin.title", language), language, "/admin"),
            html.Div(
                [
                    html.Section(
                        [
                            html.H2(t("admin.cameras", language)),
                            html.Div(id="admin-camera-table"),
                            inventory_form(language),
                            html.H3(t("admin.add_camera", language)),
                            camera_form(language, centres),
                            html.Div(id="cam-result", className="admin-result", role="status"),
                            html.Button(
                                t("admin.discover", language), id="discover", className="tool-button"
                            ),
                            dcc.Loading(html.Div(id="discover-result", className="admin-result")),
                        ],
                        className="admin-section",
                    ),
                    html.Section(
                        [
                            html.H2(t("admin.users", language)),
                            html.Div(id="admin-user-table"),
                            user_form(language, county_options(context, language)),
                            user_admin.manage_form(language),
                            html.Div(id="user-result", className="admin-result", role="status"),
                            html.H2(t("admin.retention", language)),
                            retention_form(context, language),
                            html.Div(id="retention-result", className="admin-result", role="status"),
                        ],
                        className="admin-section",
                    ),
                ],
                className="admin-body",
            ),
        ],
        className="admin-page",
        lang=language,
    )


def inventory_form(language: str) -> html.Div:
    """Enable, disable or move one inventory camera (the site file's cameras are edited in the file)."""
    return html.Div(
        [
            html.H3(t("admin.inventory_actions", language)),
            html.Div(
                [
                    field(
                        t("admin.inventory_camera", language),
                        dcc.Dropdown(id="inv-camera", placeholder=t("admin.choose", language)),
                        "inv-camera",
                    ),
                    html.Button(t("admin.enable", language), id="inv-enable", className="tool-button"),
                    html.Button(t("admin.disable", language), id="inv-disable", className="tool-button"),
                    field(
                        t("admin.new_address", language),
                        dcc.Input(id="inv-address", placeholder="192.0.2.10:80"),
                        "inv-address",
                    ),
                    html.Button(t("admin.move", language), id="inv-move", className="tool-button"),
                ],
                className="admin-form",
            ),
            html.Div(id="inv-result", className="admin-result", role="status"),
        ]
    )


def _enabled_label(enabled: bool, language: str) -> str:
    return t("admin.enabled" if enabled else "admin.disabled", language)


def _place_names(context: AppContext, centre_code: str, room_code: str, language: str) -> tuple[str, str]:
    """The centre's and room's display names (their codes when the site does not have them)."""
    centre = next((c for c in context.site.centres if c.code == centre_code), None)
    if centre is None:
        return centre_code, room_code
    room = next((r for r in centre.rooms if r.code == room_code), None)
    return centre.label.get(language), room.name.get(language) if room is not None else room_code


def camera_rows(context: AppContext, language: str, inventory: list) -> html.Table:
    rows = [
        [
            p.camera.id,
            p.centre.label.get(language),
            p.room.name.get(language),
            p.camera.redacted_source(),
            t("admin.site_file", language),
            _enabled_label(p.camera.enabled, language),
            *live_cells(context, p.camera.id, language),
        ]
        for p in context.site_file.cameras()
    ]
    rows += [
        [
            c.id,
            *_place_names(context, c.centre, c.room, language),
            f"onvif://{c.onvif_host}:{c.onvif_port}",
            t("admin.inventory", language),
            _enabled_label(bool(c.enabled), language),
            *live_cells(context, c.id, language),
        ]
        for c in inventory
    ]
    headers = [t(f"admin.col.{k}", language) for k in ("id", "centre", "room", "source", "origin", "enabled")]
    headers += live_headers(language)
    return _table(headers, rows, "camera-table")


def user_rows(context: AppContext, language: str) -> html.Table:
    with Session(context.engine) as session:
        users = session.query(User).order_by(User.username).all()
    names = {c.code: c.label.get(language) for c in context.site.counties}
    rows = [
        [
            u.username,
            t(f"admin.role.{u.role}", language),
            ", ".join(names.get(code, code) for code in u.counties.split(",") if code) or "–",
            "✓" if u.active else "✗",
        ]
        for u in users
    ]
    headers = [t(f"admin.col.{k}", language) for k in ("user", "role", "county", "active")]
    return _table(headers, rows, "user-table")


def register_callbacks(app) -> None:
    user_admin.register_callbacks(app, user_rows)

    @app.callback(
        Output("cam-room", "options"),
        Output("cam-room", "value"),
        Input("cam-centre", "value"),
        State("admin-language", "data"),
    )
    def rooms_of_centre(centre, language):
        _admin_only()
        return room_options(current(), centre, normalise(language)), None

    @app.callback(Output("cam-new-room-field", "hidden"), Input("cam-room", "value"))
    def new_room_field(room):
        _admin_only()  # every callback of the page is the admin's alone
        return room != NEW_ROOM

    @app.callback(
        Output("cam-result", "children"),
        Output("admin-cameras-added", "data"),
        *[Output(name, "value", allow_duplicate=True) for name in CAMERA_FIELDS],
        Output("cam-password", "value"),
        Input("cam-add", "n_clicks"),
        *[State(name, "value") for name in CAMERA_FIELDS],
        State("cam-password", "value"),
        State("admin-language", "data"),
        prevent_initial_call=True,
    )
    def add_camera(_clicks, centre, room, new_room, camera_id, name, address, user, password, language):
        """Adds a camera. The password field is emptied after every attempt (it never stays in the
        page); the other fields only after a success, which also redraws the table."""
        _admin_only()
        form = CameraForm(centre, room, new_room, camera_id, name, address, user, password)
        outcome = add_by_address(current(), form, normalise(language))
        if not outcome.ok:
            return result_line(outcome.message, False), no_update, *[no_update] * len(CAMERA_FIELDS), ""
        cleared = [None, None, "", "", "", "", ""]
        return result_line(outcome.message, True), form.camera_id, *cleared, ""

    @app.callback(
        Output("admin-camera-table", "children"),
        Output("inv-camera", "options"),
        Input("admin-cameras-added", "data"),
        Input("inv-result", "children"),
        Input("admin-cameras-refresh", "n_clicks"),
        Input("admin-live-refresh", "n_intervals"),
        State("admin-language", "data"),
    )
    def cameras(_added, _action, _push, _tick, language):
        """The table, after every add, inventory action or push, and every few seconds for its live
        cells (a callback of its own: a slow ONVIF add is never overtaken by a redraw)."""
        _admin_only()
        context = current()
        inventory = list_cameras(context.engine)
        options = [{"label": f"{c.id} ({c.centre}/{c.room})", "value": c.id} for c in inventory]
        return camera_rows(context, normalise(language), inventory), options

    @app.callback(
        Output("inv-result", "children"),
        Input("inv-enable", "n_clicks"),
        Input("inv-disable", "n_clicks"),
        Input("inv-move", "n_clicks"),
        State("inv-camera", "value"),
        State("inv-address", "value"),
        State("admin-language", "data"),
        prevent_initial_call=True,
    )
    def inventory_action(_enable, _disable, _move, camera_id, address, language):
        _admin_only()
        action = str(ctx.triggered_id or "").removeprefix("inv-")
        if action not in ACTIONS:
            return no_update
        outcome = run_action(current(), action, camera_id, address, normalise(language))
        return result_line(outcome.message, outcome.ok)

    @app.callback(
        Output("discover-result", "children"),
        Input("discover", "n_clicks"),
        State("admin-language", "data"),
        prevent_initial_call=True,
    )
    def scan(_clicks, language):
        _admin_only()
        language = normalise(language)
        try:
            devices = discover(timeout=DISCOVERY_TIMEOUT_S)
        except UserError as exc:
            return result_line(str(exc), False)
        audit("config_change", target="discovery", detail={"found": len(devices)})
        if not devices:
            return t("admin.none_found", language)
        return _table(
            ["XAddrs", t("admin.col.name", language), t("admin.col.hardware", language)],
            [[" ".join(d.xaddrs), ", ".join(d.names), ", ".join(d.hardware)] for d in devices],
            "discovery-table",
        )

    @app.callback(
        Output("admin-user-table", "children"),
        Output("user-result", "children"),
        *[Output(name, "value") for name in USER_FIELDS],
        Input("user-add", "n_clicks"),
        *[State(name, "value") for name in USER_FIELDS],
        State("admin-language", "data"),
    )
    def users(_clicks, username, role, county, password, language):
        """Adds a user on its button: a success empties the form, a refusal keeps all but the password."""
        _admin_only()
        context = current()
        language = normalise(language)
        message, fields = "", [no_update] * len(USER_FIELDS)
        if ctx.triggered_id == "user-add":
            fields[-1] = ""
            try:
                known = {c.code for c in context.site.counties}
                add_user(
                    context.engine,
                    (username or "").strip(),
                    password or "",
                    role or "",
                    [county] if county else [],
                    known,
                )
                audit("user_change", target=username, detail={"added": role, "county": county})
                message = result_line(t("admin.user_added", language) + username, True)
                fields = ["", None, None, ""]
            except UserError as exc:
                message = result_line(f"{t('admin.action_refused', language)}: {exc}", False)
        return user_rows(context, language), message, *fields

    @app.callback(
        Output("retention-result", "children"),
        Output("retention-days", "value"),
        Input("retention-save", "n_clicks"),
        State("retention-days", "value"),
        State("admin-language", "data"),
        prevent_initial_call=True,
    )
    def retention(_clicks, days, language):
        _admin_only()
        context = current()
        language = normalise(language)
        saved = retention_setting.current_days(context.settings)
        if not isinstance(days, int | float) or int(days) != days:
            return result_line(t("admin.retention_bad", language), False), saved
        try:
            retention_setting.save_days(context.settings, int(days))
        except UserError:
            return result_line(t("admin.retention_bad", language), False), saved
        audit("config_change", target="retention_days", detail={"days": int(days), "was": saved})
        message = t("admin.retention_saved", language).format(days=int(days))
        return result_line(message, True), int(days)
