"""Login, sessions, CSRF and the guard in front of every route.

Sessions are server-side (:mod:`watchwall.dashboard.sessions`): the signed cookie
(HttpOnly, SameSite=Lax, Secure when ``session_cookie_secure``) carries a random
token whose hash names a session row, and that row names its user by id. The
user's role and counties are read from the database on every request; logout, a
password change, disabling or removing the user end the session at once. State-changing requests must come
from this site's own pages (Origin/Referer checked; the login form also
carries a synchronizer token); the REST API uses bearer tokens instead.
"""

from __future__ import annotations

import hmac
import html
import logging
import secrets
from urllib.parse import urlencode, urlsplit

import flask

from watchwall.audit.listing import append
from watchwall.dashboard import access
from watchwall.dashboard.accounts import Principal, authenticate, principal_for_session
from watchwall.dashboard.context import AppContext, current
from watchwall.dashboard.i18n import normalise, t
from watchwall.dashboard.rate_limit import LoginThrottle
from watchwall.dashboard.sessions import end_session, open_session

log = logging.getLogger(__name__)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
PUBLIC_PATHS = ("/login", "/_favicon.ico")
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/api/v1/")
THROTTLE_KEY = "watchwall.login_throttle"
SESSION_TOKEN = "sid"


def current_principal() -> Principal | None:
    if "principal" in flask.g:
        return flask.g.principal
    token = flask.session.get(SESSION_TOKEN)
    principal = principal_for_session(current().engine, token) if isinstance(token, str) else None
    flask.g.principal = principal
    return principal


def client_address() -> str:
    return flask.request.remote_addr or "unknown"


def audit(action: str, target: str | None = None, detail=None, actor: str | None = None) -> None:
    """Append to the tamper-evident audit log; a failing audit never hides the action's own error."""
    principal = current_principal() if actor is None else None
    append(
        current().engine,
        actor=actor or (principal.username if principal else "anonymous"),
        action=action,
        target=target,
        detail=detail,
        address=client_address(),
    )


def _same_origin() -> bool:
    request = flask.request
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if not source:
        return False
    return urlsplit(source).netloc == request.host


def _wants_html() -> bool:
    return "text/html" in flask.request.headers.get("Accept", "")


def page_rule(path: str, principal: Principal, context: AppContext) -> bool | None:
    """Access to a page or stream path; None for paths without a rule of their own (callbacks check themselves)."""
    parts = [part for part in path.split("/") if part]
    if not parts:
        return True  # "/" redirects to the user's home page
    head = parts[0]
    if head == "wall":
        return access.can_see_wall(principal)
    if head == "centres":
        return len(parts) == 2 and access.can_open_centre_page(principal, parts[1])
    if head in ("live", "snapshot") and len(parts) == 2:
        camera_id = parts[1].removesuffix(".jpg")
        try:
            centre = context.site.camera(camera_id).centre.code
        except KeyError:
            return None  # the route answers 404
        return access.can_watch_live(principal, centre)
    if head == "recordings":
        if not access.can_open_recordings(principal):
            return False
        camera_id = parts[2] if len(parts) == 3 and parts[1] in ("play", "seek") else None
        if len(parts) == 1 and flask.has_request_context() and flask.request.path == path:
            camera_id = flask.request.args.get("camera") or None  # opened on another county's camera: refused
        if camera_id is None:
            return True
        try:  # the routes and the page's callbacks check again
            return access.can_see_recordings(principal, context.site.camera(camera_id).centre.code)
        except KeyError:
            return None  # the route answers 404 (the page: no such camera, nothing chosen)
    if head == "admin":
        return access.can_administer(principal)
    if head == "rollcall":  # the page and the clips list only the user's counties' roll-calls
        return principal.role in ("city_command", "county_supervisor", "inspector", "admin")
    if head in ("incidents", "reports"):  # each lists only what the user's counties allow
        return principal.role in ("city_command", "county_supervisor", "inspector", "admin")
    return None


def install(server: flask.Flask) -> None:
    server.extensions[THROTTLE_KEY] = throttle = LoginThrottle()

    @server.before_request
    def guard():
        request = flask.request
        path = request.path
        if path == "/metrics":
            return None  # guarded by its own loopback rule
        if request.method not in SAFE_METHODS and not path.startswith("/api/v1/") and not _same_origin():
            return refuse(403, "cross-site request refused")
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            return None
        principal = current_principal()
        if principal is None:
            if request.method == "GET" and _wants_html():
                return flask.redirect(f"/login?next={flask.request.full_path.rstrip('?')}")
            return refuse(401, "log in first")
        allowed = page_rule(path, principal, current())
        if allowed is False:
            return refuse(403, "not allowed for your role or county")
        if path == "/":
            return flask.redirect(access.home_page(principal))
        return None

    @server.errorhandler(access.Forbidden)
    def forbidden(_exc):
        return refuse(403, "not allowed for your role or county")

    @server.errorhandler(404)
    def not_found(_exc):
        return refuse(404, "no such page")

    @server.route("/login", methods=["GET", "POST"])
    def login():
        language = normalise(flask.request.args.get("lang") or current().settings.language)
        if flask.request.method == "GET":
            return _login_page(language)
        form = flask.request.form
        token = flask.session.get("csrf")
        if not token or not hmac.compare_digest(token, form.get("csrf", "")):
            return _login_page(language, t("login.expired", language), status=400)
        username = form.get("username", "").strip()
        password = form.get("password", "")
        address = client_address()
        wait = throttle.retry_after(username, address)
        if wait > 0:
            response = _login_page(language, t("login.too_many", language), status=429, username=username)
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        principal = authenticate(current().engine, username, password) if username and password else None
        if principal is None:
            throttle.failed(username, address)
            audit("login_failed", target=username[:64], actor="anonymous")
            return _login_page(language, t("login.failed", language), status=401, username=username)
        throttle.succeeded(username, address)
        settings = current().settings
        flask.session.clear()
        flask.session[SESSION_TOKEN] = open_session(
            current().engine, principal.user_id, settings.session_hours, address
        )
        flask.session.permanent = True
        flask.g.principal = principal
        audit("login", target=principal.username)
        target = flask.request.args.get("next", "")
        if not target.startswith("/") or target.startswith("//"):
            target = access.home_page(principal)
        return flask.redirect(target)

    @server.route("/logout", methods=["POST"])
    def logout():
        principal = current_principal()
        if principal is not None:
            audit("logout", target=principal.username)
        token = flask.session.get(SESSION_TOKEN)
        if isinstance(token, str):
            end_session(current().engine, token)
        flask.session.clear()
        return flask.redirect("/login")


def refuse(status: int, message: str):
    if _wants_html():
        language = normalise(flask.request.args.get("lang") or current().settings.language)
        title = t(f"error.{status}", language)
        body = (
            f'<!doctype html><html lang="{language}"><head><meta charset="utf-8"><title>{status} {html.escape(title)}</title>'
            '<link rel="stylesheet" href="/assets/vendor/noto-sans-sc/noto-sans-sc-400.css"><link rel="stylesheet" href="/assets/vendor/noto-sans-sc/noto-sans-sc-700.css"><link rel="stylesheet" href="/assets/login.css"></head><body class="plain-page">'
            f'<main class="plain-card"><h1>{status}</h1><p>{html.escape(title)}</p>'
            f'<p><a href="/">{html.escape(t("error.home", language))}</a></p></main></body></html>'
        )
        return flask.Response(body, status=status, mimetype="text/html")
    return flask.jsonify({"error": message}), status


def _login_page(language: str, error: str | None = None, status: int = 200, username: str = ""):
    """The login form; after a refused attempt it keeps the user name typed (never the password)."""
    token = flask.session.get("csrf") or secrets.token_urlsafe(32)
    flask.session["csrf"] = token
    other = "en" if language == "zh-CN" else "zh-CN"
    query = {"lang": language}  # the answer to a refused attempt speaks the same language
    if flask.request.args.get("next"):
        query["next"] = flask.request.args["next"]
    action = html.escape("/login?" + urlencode(query), quote=True)
    error_html = f'<p class="login-error" role="alert">{html.escape(error)}</p>' if error else ""
    username = username[:64]
    username_value = f' value="{html.escape(username, quote=True)}"' if username else ""
    focus_user, focus_password = ("", " autofocus") if username else (" autofocus", "")
    body = f"""<!doctype html>
<html lang="{language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{html.escape(t("login.title", language))}</title><link rel="stylesheet" href="/assets/vendor/noto-sans-sc/noto-sans-sc-400.css"><link rel="stylesheet" href="/assets/vendor/noto-sans-sc/noto-sans-sc-700.css"><link rel="stylesheet" href="/assets/login.css"></head>
<body class="plain-page"><main class="plain-card">
<h1>{html.escape(t("app.title", language))}</h1>
<form method="post" action="{action}" class="login-form">
<input type="hidden" name="csrf" value="{token}">
<label for="login-username">{html.escape(t("login.username", language))}</label>
<input id="login-username" name="username" autocomplete="username" required{username_value}{focus_user}>
<label for="login-password">{html.escape(t("login.password", language))}</label>
<input id="login-password" name="password" type="password" autocomplete="current-password" required{focus_password}>
{error_html}
<button type="submit">{html.escape(t("login.submit", language))}</button>
</form>
<p class="lang-switch"><a href="/login?lang={other}">{html.escape(t("nav.language", language))}</a></p>
</main></body></html>"""
    return flask.Response(body, status=status, mimetype="text/html")
