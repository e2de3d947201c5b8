"""``GET /state/link``: whether this web process can read the cameras' shared state (Redis).

The pages ask every few seconds (``assets/state-link.js``) and, while the answer is no, show a
"connection lost" banner and grey the camera tiles, so nobody takes the last values for live ones;
they clear it by themselves when the store answers again. A web role without a shared store (one
machine, ``watchwall serve``) always answers yes.
"""

from __future__ import annotations

import flask

from watchwall.dashboard.context import current
from watchwall.dashboard.i18n import normalise, t
from watchwall.dashboard.language import page_language

PATH = "/state/link"


def register(server: flask.Flask) -> None:
    @server.route(PATH)
    def state_link():
        context = current()
        probe = getattr(context.media, "state_problem", None)
        problem = probe() if probe is not None else None
        asked = flask.request.args.get("lang")  # the page's own language, not remembered as a choice
        language = normalise(asked) if asked else page_language(None)
        response = flask.jsonify(
            {"ok": problem is None, "message": t("link.ok" if problem is None else "link.lost", language)}
        )
        response.headers["Cache-Control"] = "no-store"
        return response
