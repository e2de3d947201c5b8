"""The Dash application on its Flask server, with Flask-SocketIO for push."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import dash
import flask
from flask_socketio import SocketIO

from watchwall.dashboard import (
    auth,
    checkin_video_routes,
    html_lang,
    incident_routes,
    incident_socket,
    json_body,
    live_routes,
    push,
    recording_routes,
    report_routes,
    rollcall_routes,
    rollcall_socket,
    snapshot_routes,
    state_link,
    view_audit,
)
from watchwall.dashboard.api import PREFIX as API_PREFIX
from watchwall.dashboard.api import register_api
from watchwall.dashboard.components import checkin_video_list, county_map, incident_panel, rollcall_control
from watchwall.dashboard.context import EXTENSION_KEY, AppContext
from watchwall.dashboard.i18n import ASSETS_DIR, t
from watchwall.dashboard.pages import admin, centre, incidents, recordings, reports, rollcall, wall
from watchwall.dashboard.prometheus import observe_callback, register_prometheus
from watchwall.dashboard.proxies import TrustedProxyFix
from watchwall.dashboard.web_security import SecurityHeaders, origin_allowed


def _time_callbacks(server: flask.Flask) -> None:
    """Every Dash callback's server time goes to the /metrics histogram, named by its outputs."""

    @server.before_request
    def _start_clock():
        flask.g.callback_started = time.perf_counter()

    @server.after_request
    def _observe(response):
        if flask.request.path == "/_dash-update-component" and "callback_started" in flask.g:
            output = (flask.request.get_json(silent=True) or {}).get("output", "unknown")
            observe_callback(time.perf_counter() - flask.g.callback_started, str(output)[:120])
        return response


def _refuse_bad_json(server: flask.Flask) -> None:
    """JSON bodies of the pages' requests (Dash callbacks, export) are checked before any view parses
    them; the REST API checks its own (:mod:`watchwall.dashboard.api`) and answers in its format."""

    @server.before_request
    def _check_json():
        request = flask.request
        if not request.is_json or request.path.startswith(API_PREFIX + "/"):
            return None
        data = request.get_data(cache=True)
        if not data:  # Dash's GETs say application/json and send nothing
            return None
        try:
            json_body.parse(data)
        except json_body.BadJson as exc:
            return auth.refuse(400, str(exc))
        return None


def create_app(context: AppContext) -> dash.Dash:
    # "watchwall" is a namespace package: Flask can find neither a root nor an instance path from
    # the name, so both are given (the instance folder is unused)
    here = str(Path(__file__).resolve().parent)
    server = flask.Flask("watchwall.dashboard", root_path=here, instance_path=here)
    server.config.update(
        SECRET_KEY=context.settings.secret_key(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=context.settings.session_cookie_secure,
        SESSION_COOKIE_NAME="watchwall_session",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=context.settings.session_hours),
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,
    )
    server.extensions[EXTENSION_KEY] = context
    auth.install(server)
    view_audit.install(server, auth.audit)
    _refuse_bad_json(server)
    register_api(server)
    register_prometheus(server)
    _time_callbacks(server)
    html_lang.install(server)
    app = dash.Dash(
        "watchwall.dashboard",
        server=server,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ASSETS_DIR),
        serve_locally=True,
        suppress_callback_exceptions=True,
        title=t("app.title", context.settings.language),
        update_title=None,
    )
    dash.register_page(
        "wall", path="/wall", layout=wall.layout, title=t("app.title", context.settings.language)
    )
    dash.register_page("home", path="/", layout=wall.layout, title=t("app.title", context.settings.language))
    dash.register_page(
        "centre",
        path_template="/centres/<code>",
        layout=centre.layout,
        title=t("app.title", context.settings.language),
    )
    dash.register_page(
        "admin", path="/admin", layout=admin.layout, title=t("app.title", context.settings.language)
    )
    wall.register_callbacks(app)
    admin.register_callbacks(app)
    dash.register_page(
        "recordings",
        path="/recordings",
        layout=recordings.layout,
        title=t("rec.title", context.settings.language),
    )
    recordings.register_callbacks(app)
    dash.register_page(
        "reports", path="/reports", layout=reports.layout, title=t("reports.title", context.settings.language)
    )
    centre.register_callbacks(app)
    checkin_video_list.register_callbacks(app)
    county_map.register_callbacks(app)
    dash.register_page(
        "incidents",
        path="/incidents",
        layout=incidents.layout,
        title=t("incident.title", context.settings.language),
    )
    incidents.register_callbacks(app)
    incident_panel.register_callbacks(app)
    dash.register_page(
        "rollcall",
        path="/rollcall",
        layout=rollcall.layout,
        title=t("rollcall.title", context.settings.language),
    )
    rollcall.register_callbacks(app)
    rollcall_control.register_callbacks(app)
    app.layout = dash.html.Div([dash.page_container])

    context.socketio = SocketIO(
        server,
        async_mode="threading",
        message_queue=context.settings.redis_url,
        cors_allowed_origins=lambda origin, environ: origin_allowed(
            origin, environ, context.settings.public_origins
        ),
    )
    push.register(context.socketio, context)
    incident_socket.register(context.socketio, context)
    rollcall_socket.register(context.socketio, context)
    live_routes.register(server)
    recording_routes.register(server)
    snapshot_routes.register(server)
    report_routes.register(server)
    incident_routes.register(server)
    rollcall_routes.register(server)
    checkin_video_routes.register(server)
    state_link.register(server)
    # Outermost first: the client's address is settled, then every response gets its headers.
    server.wsgi_app = TrustedProxyFix(
        SecurityHeaders(server.wsgi_app, app.csp_hashes), context.settings.trusted_proxies
    )
    return app
