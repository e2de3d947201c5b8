"""/admin, users section: set a password, disable, enable or remove a user. Each change ends the
user's sessions (:mod:`watchwall.dashboard.accounts`) and is audited as ``user_change``."""

from __future__ import annotations

from dash import Input, Output, State, ctx, dcc, html
from sqlalchemy import select
from sqlalchemy.orm import Session

from watchwall.config.errors import UserError
from watchwall.dashboard import access
from watchwall.dashboard.accounts import User, remove_user, set_active, set_password
from watchwall.dashboard.auth import audit, current_principal
from watchwall.dashboard.components.form_field import field, result_line
from watchwall.dashboard.context import current
from watchwall.dashboard.i18n import normalise, t

CHANGES = ("passwd", "disable", "enable", "remove")


def manage_form(language: str) -> html.Div:
    return html.Div(
        [
            field(
                t("admin.user_pick", language),
                dcc.Dropdown(id="user-pick", options=[], placeholder=t("admin.choose", language)),
                "user-pick",
            ),
            field(
                t("admin.user_new_password", language),
                dcc.Input(id="user-new-password", type="password", autoComplete="new-password"),
                "user-new-password",
            ),
            *[
                html.Button(t(f"admin.user_{change}", language), id=f"user-{change}", className="tool-button")
                for change in CHANGES
            ],
        ],
        className="admin-form",
    )


def user_names() -> list[str]:
    with Session(current().engine) as session:
        return list(session.scalars(select(User.username).order_by(User.username)))


def apply_change(change: str, username: str, password: str | None) -> int:
    engine = current().engine
    if change == "passwd":
        return set_password(engine, username, password or "")
    if change == "remove":
        return remove_user(engine, username)
    return set_active(engine, username, change == "enable")


def register_callbacks(app, user_rows) -> None:
    """``user_rows(context, language)`` draws the users table of the admin page."""

    @app.callback(
        Output("user-pick", "options"),
        Input("admin-user-table", "children"),
    )
    def pick_options(_table):
        require_admin()
        return user_names()

    @app.callback(
        Output("admin-user-table", "children", allow_duplicate=True),
        Output("user-result", "children", allow_duplicate=True),
        Output("user-new-password", "value"),
        *[Input(f"user-{change}", "n_clicks") for change in CHANGES],
        State("user-pick", "value"),
        State("user-new-password", "value"),
        State("admin-language", "data"),
        prevent_initial_call=True,
    )
    def change_user(*values):
        require_admin()
        username, password, language = values[-3:]
        language = normalise(language)
        change = str(ctx.triggered_id or "").removeprefix("user-")
        context = current()
        if change not in CHANGES:
            return user_rows(context, language), "", ""
        if not isinstance(username, str) or not username:
            return user_rows(context, language), result_line(t("admin.user_pick_first", language), False), ""
        if change in ("disable", "remove") and username == current_principal().username:
            return user_rows(context, language), result_line(t("admin.user_self", language), False), ""
        try:
            ended = apply_change(change, username, password if isinstance(password, str) else None)
        except UserError as exc:
            return user_rows(context, language), result_line(str(exc), False), ""
        audit("user_change", target=username, detail={change: True, "sessions_ended": ended})
        message = t("admin.user_changed", language).format(
            user=username, change=t(f"admin.user_{change}", language), sessions=ended
        )
        return user_rows(context, language), result_line(message, True), ""


def require_admin() -> None:
    principal = current_principal()
    access.require(principal is not None and access.can_administer(principal))
