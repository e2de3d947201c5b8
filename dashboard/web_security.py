"""What every response carries, and which pages may open the sockets.

- Security headers on every response (pages, assets, API, socket.io): a Content-Security-Policy
  that allows no inline script but Dash's own (by their SHA-256, ``Dash.csp_hashes``), framing
  refused twice (``frame-ancestors 'none'``, ``X-Frame-Options: DENY``), ``nosniff``, a
  Referrer-Policy; no ``Server`` header from the app, and the HTTP server's without a version.
- WebSocket origins: ``/live`` and socket.io accept a browser's connection only from the
  ``public_origins`` setting, or, when it is empty, from the serving host itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from werkzeug.serving import WSGIRequestHandler

SERVER_NAME = "WatchWall"
STATIC_HEADERS = (
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)


def content_security_policy(script_hashes: Sequence[str]) -> str:
    """Styles may be inline (React and plotly set style attributes); scripts only from this site
    or one of Dash's inline scripts by hash; media from MSE's blob: URLs; sockets to this host."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


class SecurityHeaders:
    """WSGI middleware: the headers above on every response, whoever answers it.

    ``script_hashes`` is asked once, at the first response: by then Dash has collected every
    inline script (its renderer and any clientside callback)."""

    def __init__(self, app, script_hashes: Callable[[], Sequence[str]]) -> None:
        self.app = app
        self._script_hashes = script_hashes
        self._policy: str | None = None

    def policy(self) -> str:
        if self._policy is None:
            self._policy = content_security_policy(self._script_hashes())
        return self._policy

    def __call__(self, environ, start_response):
        def with_headers(status, headers, exc_info=None):
            present = {name.lower() for name, _ in headers}
            # the HTTP server names itself (BannerlessRequestHandler; gunicorn says "gunicorn")
            headers = [(name, value) for name, value in headers if name.lower() != "server"]
            if "content-security-policy" not in present:
                headers.append(("Content-Security-Policy", self.policy()))
            headers.extend((name, value) for name, value in STATIC_HEADERS if name.lower() not in present)
            return start_response(status, headers, exc_info)

        return self.app(environ, with_headers)


class BannerlessRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler without its "Werkzeug/x.y Python/x.y" banner."""

    def version_string(self) -> str:
        return SERVER_NAME


def serving_origin(environ: dict) -> str:
    return f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}".lower()


def origin_allowed(origin: str | None, environ: dict, public_origins: Sequence[str]) -> bool:
    """A browser's Origin is allowed when it is one of ``public_origins`` (or, with none set, the
    host that serves this request). Clients that send no Origin are not browsers: the session
    cookie decides for them."""
    if not origin:
        return True
    wanted = [_normal_origin(o) for o in public_origins] or [_normal_origin(serving_origin(environ))]
    return _normal_origin(origin) in wanted


def _normal_origin(origin: str) -> str:
    parts = urlsplit(origin.strip().lower())
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port and parts.port != default_port else ""
    except ValueError:  # a port that is not a number: matches nothing
        return "invalid:"
    return f"{parts.scheme}://{host}{port}"
