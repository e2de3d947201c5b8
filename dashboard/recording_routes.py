"""Recorded video over HTTP for inspectors and county supervisors (their county's cameras only):
playback with Range, seek, and evidence export (inspectors; supervisors where the setting
``supervisors_may_export`` grants it).

``GET /recordings/play/<camera>?from=ISO&to=ISO`` answers fMP4 (206 for a byte
range, 416 for one outside the file) and is audited once per playback: on the
first request of any byte range of the span, once per user, camera and span (a player
that starts in the middle is audited too; a player's further ranges are not).
``GET /recordings/seek/<camera>?at=ISO`` says where an instant is in the
index. ``POST /recordings/export`` (camera, from, to, reason) answers the
signed evidence zip as a download. Camera ids are looked up in the site, never
used as paths before that, and every route checks the camera's centre against
the principal.
"""

from __future__ import annotations

import functools
import html
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import flask

from watchwall.audit.listing import AuditLog
from watchwall.config.errors import UserError
from watchwall.config.plain_text import unsafe_reason
from watchwall.config.plausible import implausible
from watchwall.config.site import CameraPlace
from watchwall.config.timestamps import utc_iso
from watchwall.dashboard import access, view_audit
from watchwall.dashboard.auth import client_address, current_principal
from watchwall.dashboard.context import current
from watchwall.dashboard.recordings_source import recordings_dir_for
from watchwall.video.record.evidence_cli import parse_instant
from watchwall.video.record.export import export_clip, package_name
from watchwall.video.record.playback import (
    NoRecordingError,
    parse_range,
    playback_file,
    prune_playback_cache,
    read_range,
    seek,
)
from watchwall.video.record.signing import load_or_create_signing_key

MAX_SPAN_S = 24 * 3600
MAX_REASON_CHARS = 500


class BadRequest(Exception):
    """Input the route cannot use; its message is shown to the user (HTTP 400)."""


@dataclass(frozen=True)
class Span:
    start_utc: float
    end_utc: float


def playback_cache_dir(settings) -> Path:
    return Path(settings.data_dir) / "cache" / "playback"


def text_field(value: object, name: str) -> str:
    """A request field that must be text (a JSON number, list or object is refused)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest(f"'{name}' must be text, not {type(value).__name__}")
    problem = unsafe_reason(value)
    if problem:
        raise BadRequest(f"'{name}': {problem}")
    return value


def instant(value: object, name: str) -> float:
    text = text_field(value, name)
    if not text.strip():
        raise BadRequest(f"'{name}' is required: an ISO 8601 time such as 2026-11-26T09:30:00+08:00")
    try:
        epoch = parse_instant(text, current().settings.zone)
        problem = implausible(datetime.fromtimestamp(epoch, UTC))
    except UserError as exc:
        raise BadRequest(f"'{name}': {exc}") from None
    except (OverflowError, ValueError, OSError):
        problem = "is outside the years a date may have"
    if problem:
        raise BadRequest(f"'{name}': {text} {problem}")
    return epoch


def checked_span(start_text: object, end_text: object) -> Span:
    span = Span(instant(start_text, "from"), instant(end_text, "to"))
    if span.end_utc <= span.start_utc:
        raise BadRequest("'to' must come after 'from'")
    if span.end_utc - span.start_utc > MAX_SPAN_S:
        raise BadRequest(f"the span may be at most {MAX_SPAN_S // 3600} hours")
    return span


def camera_for(camera_id: str, allowed) -> CameraPlace:
    """The camera's place in the site (404 if unknown), if ``allowed(principal, centre)`` (403 if not)."""
    try:
        place = current().site.camera(camera_id)
    except KeyError:
        flask.abort(404)
    principal = current_principal()
    if principal is None or not allowed(principal, place.centre.code):
        raise access.Forbidden()
    return place


def error_response(status: int, message: str):
    if "text/html" in flask.request.headers.get("Accept", ""):
        body = (
            '<!doctype html><html><head><meta charset="utf-8"><title>WatchWall</title>'
            '<link rel="stylesheet" href="/assets/login.css"></head><body class="plain-page">'
            f'<main class="plain-card"><h1>{status}</h1><p class="rec-error">{html.escape(message)}</p>'
            '<p><a href="/recordings">&larr;</a></p></main></body></html>'
        )
        return flask.Response(body, status=status, mimetype="text/html")
    return flask.jsonify({"error": message}), status


def audit_log() -> AuditLog:
    return AuditLog(current().engine)


def answers_errors(view):
    """Input and recording errors of these routes as a clear 400 / 404 (not the app-wide handlers)."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except BadRequest as exc:
            return error_response(400, str(exc))
        except NoRecordingError as exc:
            return error_response(404, str(exc))
        except UserError as exc:
            return error_response(409, str(exc))

    return wrapped


def register(server: flask.Flask) -> None:
    @server.route("/recordings/play/<camera_id>", methods=["GET"])
    @answers_errors
    def play(camera_id: str):
        camera_for(camera_id, access.can_see_recordings)
        args = flask.request.args
        span = checked_span(args.get("from"), args.get("to"))
        context = current()
        settings = context.settings
        played = playback_file(
            context.engine,
            recordings_dir_for(camera_id, span.start_utc, span.end_utc),
            playback_cache_dir(settings),
            camera_id,
            span.start_utc,
            span.end_utc,
        )
        try:
            wanted = parse_range(flask.request.headers.get("Range"), played.length)
        except ValueError:
            response = flask.Response(status=416)
            response.headers["Content-Range"] = f"bytes */{played.length}"
            response.headers["Accept-Ranges"] = "bytes"
            return response
        first, last = wanted if wanted is not None else (0, played.length - 1)
        span_text = (utc_iso(span.start_utc), utc_iso(span.end_utc))
        if view_audit.views().playback(current_principal().username, camera_id, span_text):
            prune_playback_cache(playback_cache_dir(settings))
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
        response.headers["X-Actual-Start"] = utc_iso(played.actual_start_utc)
        response.headers["X-Actual-End"] = utc_iso(played.actual_end_utc)
        return response

    @server.route("/recordings/seek/<camera_id>", methods=["GET"])
    @answers_errors
    def seek_instant(camera_id: str):
        camera_for(camera_id, access.can_see_recordings)
        at = instant(flask.request.args.get("at"), "at")
        answer = seek(current().engine, camera_id, at)
        segment = answer.segment
        return flask.jsonify(
            {
                "camera": camera_id,
                "at": utc_iso(at),
                "recorded": segment is not None,
                "segment_start": utc_iso(segment.start_utc) if segment else None,
                "segment_end": utc_iso(segment.end_utc) if segment else None,
                "offset_s": answer.offset_s,
                "gap_reason": answer.gap_reason,
                "next_start": utc_iso(answer.next_start_utc) if answer.next_start_utc else None,
            }
        )

    @server.route("/recordings/export", methods=["POST"])
    @answers_errors
    def export():
        values = flask.request.get_json(silent=True) if flask.request.is_json else flask.request.form
        if not isinstance(values, dict):  # the form is a dict too
            raise BadRequest(
                'the body must be a JSON object: {"camera": ..., "from": ..., "to": ..., "reason": ...}'
            )
        camera_id = text_field(values.get("camera"), "camera")
        if not camera_id:
            raise BadRequest("'camera' is required")
        may_export = current().settings.supervisors_may_export
        place = camera_for(camera_id, lambda who, centre: access.can_export(who, centre, may_export))
        span = checked_span(values.get("from"), values.get("to"))
        reason = text_field(values.get("reason"), "reason").strip()
        if not reason:
            raise BadRequest("a reason is required for every export")
        if len(reason) > MAX_REASON_CHARS:
            raise BadRequest(f"the reason may be at most {MAX_REASON_CHARS} characters")
        return _export_download(place, span, reason)


def _export_download(place: CameraPlace, span: Span, reason: str):
    context = current()
    settings = context.settings
    camera_id = place.camera.id
    name = package_name(camera_id, span.start_utc, settings.zone)
    scratch = Path(tempfile.mkdtemp(prefix="watchwall-export-", dir=settings.ensure_data_dir()))
    out = scratch / name
    try:
        export_clip(
            context.engine,
            recordings_dir_for(camera_id, span.start_utc, span.end_utc),
            camera_id,
            span.start_utc,
            span.end_utc,
            out,
            signing_key=load_or_create_signing_key(settings.ensure_data_dir()),
            zone=settings.zone,
            user=current_principal().username,
            reason=reason,
            place=_place_description(place),
            audit=audit_log(),
            address=client_address(),
        )
        size = out.stat().st_size
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    response = flask.Response(_read_then_delete(out, scratch), mimetype="application/zip")
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _read_then_delete(path: Path, folder: Path):
    try:
        yield from read_range(path, 0, path.stat().st_size - 1)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _place_description(place: CameraPlace) -> dict:
    return {
        "name": place.camera.name.model_dump(),
        "centre": place.centre.code,
        "centre_name": place.centre.name.model_dump(),
        "room": place.room.code,
        "room_name": place.room.name.model_dump(),
    }
