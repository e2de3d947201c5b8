"""One recorded span of one camera answered as fMP4 with Range: the clip of an incident or of a
roll-call. The caller has checked who may see it; the viewing is audited once, on the request for
its first byte."""

from __future__ import annotations

from datetime import datetime

import flask

from watchwall.audit.log import append
from watchwall.dashboard.auth import client_address
from watchwall.dashboard.recording_routes import playback_cache_dir
from watchwall.video.record.playback import NoRecordingError, parse_range, playback_file, read_range
from watchwall.video.record.segments import default_recordings_dir


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def span_clip_response(
    context, principal, camera_id: str, start_at: str, end_at: str, action: str, detail: dict
):
    """The span [start_at, end_at) (ISO UTC) of ``camera_id``; 404 without recording, 416 for a bad Range."""
    settings = context.settings
    try:
        played = playback_file(
            context.engine,
            default_recordings_dir(settings),
            playback_cache_dir(settings),
            camera_id,
            _epoch(start_at),
            _epoch(end_at),
        )
    except NoRecordingError as exc:
        return flask.jsonify({"error": str(exc)}), 404
    try:
        wanted = parse_range(flask.request.headers.get("Range"), played.length)
    except ValueError:
        return flask.Response(status=416, headers={"Content-Range": f"bytes */{played.length}"})
    first, last = wanted if wanted is not None else (0, played.length - 1)
    if first == 0:
        append(
            context.engine,
            actor=principal.username,
            action=action,
            target=camera_id,
            detail=detail,
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
