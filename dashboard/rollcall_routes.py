"""``GET /rollcall/calls/<id>/clip``: a roll-call's recorded span (the call to the answer + 10 s), fMP4
with Range, for whoever may read that centre's roll-calls. Each viewing is audited once (the
request for its first byte)."""

from __future__ import annotations

import flask

from watchwall.dashboard.auth import current_principal
from watchwall.dashboard.context import current
from watchwall.dashboard.span_clip import span_clip_response
from watchwall.rollcall.rules import can_read
from watchwall.rollcall.store import get_call


def _error(status: int, message: str):
    return flask.jsonify({"error": message}), status


def clip_url(call_id: int) -> str:
    return f"/rollcall/calls/{call_id}/clip"


def register(server: flask.Flask) -> None:
    @server.route("/rollcall/calls/<int:call_id>/clip", methods=["GET"])
    def rollcall_clip(call_id: int):
        principal = current_principal()
        if principal is None:
            return _error(401, "log in first")
        context = current()
        call = get_call(context.engine, call_id)
        if call is None or not can_read(principal, call["county"]):
            return _error(404, "no such roll-call")
        if call["clip_end_at"] is None:
            return _error(404, "this roll-call is still waiting for its answer: no clip yet")
        return span_clip_response(
            context,
            principal,
            call["camera_id"],
            call["clip_start_at"],
            call["clip_end_at"],
            "rollcall.clip_view",
            {
                "call_id": call_id,
                "county": call["county"],
                "from_utc": call["clip_start_at"],
                "to_utc": call["clip_end_at"],
            },
        )
