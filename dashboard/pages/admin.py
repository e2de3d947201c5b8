"""/admin: cameras (site file, ONVIF inventory, add by address, discovery), users and roles, retention."""

from __future__ import annotations

import yaml
from dash import Input, Output, State, ctx, dcc, html, no_update
from sqlalchemy.orm import Session

from watchwall.cameras.discovery import discover
from watchwall.cameras.inventory import NewCamera, add_camera, list_cameras
from watchwall.cameras.parsers import parse_address
from watchwall.config.errors import UserError
from watchwall.dashboard import access
from watchwall.dashboard.accounts import ROLES, User, add_user
from watchwall.dashboard.auth import audit, current_principal
from watchwall.dashboard.components import user_admin
from watchwall.dashboard.components.camera_live_cells import live_cells, live_headers
from watchwall.dashboard.components.inventory_actions import ACTIONS, run_action
from watchwall.dashboard.components.room_list import push_refresh_button
from watchwall.dashboard.components.shell import header
from watchwall.dashboard.context import AppContext, current
from watchwall.dashboard.i18n import normalise, t
from watchwall.dashboard.language import page_language

DISCOVERY_TIMEOUT_S = 3.0


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


def layout(lang: str | None = None, **_query) -> html.Div:
    _admin_only()
    context = current()
    language = page_language(lang)  # a ?lang= choice is remembered for the user
    counties = [{"label": c.label.get(language), "value": c.code} for c in context.site.counties]
    centres = [{"label": c.label.get(language), "value": c.code} for c in context.site.centres]
    return html.Div(
        [
            dcc.Store(id="admin-language", data=language),
            push_refresh_button("admin-cameras-refresh"),  # another admin's or the CLI's change shows up
            header(t("admin.title", language), language, "/admin"),
            html.Div(
                [
                    html.Section(
                        [
                            html.H2(t("admin.cameras", language)),
                            html.Div(id="admin-camera-table"),
                            inventory_form(language),
                            html.H3(t("admin.add_camera", language)),
                            html.Div(
                                [
                                    dcc.Dropdown(
                                        id="cam-centre",
                                        options=centres,
                                        placeholder=t("admin.centre", language),
                                    ),
                                    dcc.Input(id="cam-room", placeholder=t("admin.room", language)),
                                    dcc.Input(id="cam-id", placeholder=t("admin.camera_id", language)),
                                    dcc.Input(id="cam-name", placeholder=t("admin.camera_name", language)),
                                    dcc.Input(id="cam-address", placeholder="192.0.2.10:80"),
                                    dcc.Input(id="cam-user", placeholder=t("admin.onvif_user", language)),
                                    dcc.Input(
                                        id="cam-password-env", placeholder=t("admin.password_env", language)
                                    ),
                                    html.Button(
                                        t("admin.add", language), id="cam-add", className="tool-button"
                                    ),
                                ],
                                className="admin-form",
                            ),
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
                            html.Div(
                                [
                                    dcc.Input(id="user-name", placeholder=t("login.username", language)),
                                    dcc.Dropdown(
                                        id="user-role",
                                        options=list(ROLES),
                                        placeholder=t("admin.role", language),
                                    ),
                                    dcc.Dropdown(
                                        id="user-county",
                                        options=counties,
                                        placeholder=t("admin.county", language),
                                    ),
                                    dcc.Input(
                                        id="user-password",
                                        type="password",
                                        placeholder=t("login.password", language),
                                    ),
                                    html.Button(
                                        t("admin.add", language), id="user-add", className="tool-button"
                                    ),
                                ],
                                className="admin-form",
                            ),
                            user_admin.manage_form(language),
                            html.Div(id="user-result", className="admin-result", role="status"),
                            html.H2(t("admin.retention", language)),
                            html.Div(
                                [
                                    html.Label(t("admin.retention_days", language)),
                                    dcc.Input(
                                        id="retention-days",
                                        type="number",
                                        min=1,
                                        max=3650,
                                        value=getattr(context.settings, "retention_days", 30),
                                    ),
                                    html.Button(
                                        t("admin.save", language),
                                        id="retention-save",
                                        className="tool-button",
                                    ),
                                ],
                                className="admin-form",
                            ),
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
                    dcc.Dropdown(id="inv-camera", placeholder=t("admin.camera_id", language)),
                    html.Button(t("admin.enable", language), id="inv-enable", className="tool-button"),
                    html.Button(t("admin.disable", language), id="inv-disable", className="tool-button"),
                    dcc.Input(id="inv-address", placeholder=t("admin.new_address", language)),
                    html.Button(t("admin.move", language), id="inv-move", className="tool-button"),
                ],
                className="admin-form",
            ),
            html.Div(id="inv-result", className="admin-result", role="status"),
        ]
    )


def _enabled_label(enabled: bool, language: str) -> str:
    return t("admin.enabled" if enabled else "admin.disabled", language)


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
            c.centre,
            c.room,
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
    rows = [[u.username, u.role, u.counties or "–", "✓" if u.active else "✗"] for u in users]
    headers = [t(f"admin.col.{k}", language) for k in ("user", "role", "county", "active")]
    return _table(headers, rows, "user-table")


def add_by_address(context: AppContext, centre, room, camera_id, name, address, user, password_env, language):
    """Describe the camera at ``address`` over ONVIF and store it; the line to show either way."""
    try:
        host, port = parse_address(address or "")
        new = NewCamera(
            camera_id=(camera_id or "").strip(),
            centre=centre or "",
            room=(room or "").strip(),
            name=(name or "").strip(),
            host=host,
            port=port,
            username=(user or None),
            password_env=(password_env or None),
        )
        row, _description = add_camera(
            context.engine,
            new,
            secrets_file=context.settings.secrets_file,
            timeout=8,
            site=context.site_file,
        )
    except (UserError, ValueError) as exc:
        return str(exc)
    audit("config_change", target=f"camera:{row.id}", detail={"added": "onvif", "host": row.onvif_host})
    return t("admin.camera_added", language) + f" {row.id}"


def write_retention_days(context: AppContext, days: int) -> None:
    """Kept in the data dir's settings file, read at the next start (env vars still win)."""
    path = context.settings.data_dir / "watchwall.yaml"
    current_values = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    current_values = current_values or {}
    current_values["retention_days"] = days
    path.write_text(yaml.safe_dump(current_values, allow_unicode=True), encoding="utf-8")


def register_callbacks(app) -> None:
    user_admin.register_callbacks(app, user_rows)

    @app.callback(
        Output("admin-camera-table", "children"),
        Output("cam-result", "children"),
        Output("inv-camera", "options"),
        Input("cam-add", "n_clicks"),
        Input("inv-result", "children"),
        Input("admin-cameras-refresh", "n_clicks"),
        State("cam-centre", "value"),
        State("cam-room", "value"),
        State("cam-id", "value"),
        State("cam-name", "value"),
        State("cam-address", "value"),
        State("cam-user", "value"),
        State("cam-password-env", "value"),
        State("admin-language", "data"),
    )
    def cameras(
        _clicks, _action, _push, centre, room, camera_id, name, address, user, password_env, language
    ):
        """Adds a camera on its button; the table is redrawn after every inventory action or push."""
        _admin_only()
        context = current()
        language = normalise(language)
        message = no_update
        if ctx.triggered_id == "cam-add":
            message = add_by_address(
                context, centre, room, camera_id, name, address, user, password_env, language
            )
        inventory = list_cameras(context.engine)
        options = [{"label": f"{c.id} ({c.centre}/{c.room})", "value": c.id} for c in inventory]
        return camera_rows(context, language, inventory), message, options

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
        return run_action(current(), action, camera_id, address, normalise(language)).message

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
            return str(exc)
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
        Input("user-add", "n_clicks"),
        State("user-name", "value"),
        State("user-role", "value"),
        State("user-county", "value"),
        State("user-password", "value"),
        State("admin-language", "data"),
    )
    def users(_clicks, username, role, county, password, language):
        _admin_only()
        context = current()
        language = normalise(language)
        message = ""
        if ctx.triggered_id == "user-add":
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
                message = t("admin.user_added", language) + f" {username}"
            except UserError as exc:
                message = str(exc)
        return user_rows(context, language), message

    @app.callback(
        Output("retention-result", "children"),
        Input("retention-save", "n_clicks"),
        State("retention-days", "value"),
        State("admin-language", "data"),
        prevent_initial_call=True,
    )
    def retention(_clicks, days, language):
        _admin_only()
        language = normalise(language)
        if not isinstance(days, int | float) or not 1 <= int(days) <= 3650:
            return t("admin.retention_bad", language)
        write_retention_days(current(), int(days))
        audit("config_change", target="retention_days", detail={"days": int(days)})
        return t("admin.saved", language) if ctx.triggered_id else no_update
