"""``GET /rollcall/calls/<id>/clip``: a roll-call's recorded span (the call to the answer + 10 s), fMP4
with Range, for whoever may read that centre's roll-calls. Each viewing is audited once (the
request for its first byte)."""

from __future__ import annotations

from datetime import datetime

import flask

from watchwall.audit.log import append
from watchwall.dashboard.auth import client_address, current_principal
from watchwall.dashboard.context import current
from watchwall.dashboard.recording_routes import playback_cache_dir
from watchwall.rollcall.rules import can_read
from watchwall.rollcall.store import get_call
from watchwall.video.record.playback import NoRecordingError, parse_range, playback_file, read_range
from watchwall.video.record.segments import default_recordings_dir


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
        start = datetime.fromisoformat(call["clip_start_at"].replace("Z", "+00:00")).timestamp()
        end = datetime.fromisoformat(call["clip_end_at"].replace("Z", "+00:00")).timestamp()
        settings = context.settings
        try:
            played = playback_file(
                context.engine,
                default_recordings_dir(settings),
                playback_cache_dir(settings),
                call["camera_id"],
                start,
                end,
            )
        except NoRecordingError as exc:
            return _error(404, str(exc))
        try:
            wanted = parse_range(flask.request.headers.get("Range"), played.length)
        except ValueError:
            return flask.Response(status=416, headers={"Content-Range": f"bytes */{played.length}"})
        first, last = wanted if wanted is not None else (0, played.length - 1)
        if first == 0:
            append(
                context.engine,
                actor=principal.username,
                action="rollcall.clip_view",
                target=call["camera_id"],
                detail={
                    "call_id": call_id,
                    "county": call["county"],
                    "from_utc": call["clip_start_at"],
                    "to_utc": call["clip_end_at"],
                },
                address=client_address(),
            )
        response = flask.Response(
            read_range(played.path, first, last),
            status=206 if wanted is not None else 200,
            mimetype="video/mp4",
            direct_passthrough=True,
        )
        response.headers["Accept-Ranges"] = "bytes"
        response.headers["Content-Length"] = str(last - first + 1)
        if wanted is not None:
            response.headers["Content-Range"] = f"bytes {first}-{last}/{played.length}"
        response.headers["Cache-Control"] = "private, no-store"
        return response
