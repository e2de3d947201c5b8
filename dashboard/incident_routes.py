"""Incidents over HTTP: ``GET /incidents/export.csv?county=&kind=&state=&overdue=&from=&to=`` (the
/incidents page's filters) and ``GET /incidents/<id>/clip`` (the recorded span linked to a camera
incident, fMP4 with Range). Both check the incident rules of the user; the export is audited."""

from __future__ import annotations

from datetime import UTC, datetime

import flask

from watchwall.audit.log import append
from watchwall.config.errors import UserError
from watchwall.dashboard import access
from watchwall.dashboard.auth import client_address, current_principal
from watchwall.dashboard.context import current
from watchwall.dashboard.incident_filters import list_arguments
from watchwall.dashboard.span_clip import span_clip_response
from watchwall.incidents.csv_export import incidents_csv
from watchwall.incidents.rules import can_read
from watchwall.incidents.store import get_incident, list_incidents

EXPORT_LIMIT = 50_000


def _error(status: int, message: str):
    return flask.jsonify({"error": message}), status


def register(server: flask.Flask) -> None:
    @server.route("/incidents/export.csv", methods=["GET"])
    def export_incidents():
        principal = current_principal()
        if principal is None:
            return _error(401, "log in first")
        context = current()
        visible = access.visible_centres(principal, context.site)
        try:
            arguments = list_arguments(flask.request.args.to_dict(), visible, context.settings.zone)
        except UserError as exc:
            return _error(400, str(exc))
        rows = list_incidents(context.engine, limit=EXPORT_LIMIT, **arguments)
        append(
            context.engine,
            actor=principal.username,
            action="incident.export",
            target="incidents",
            detail={key: value for key, value in flask.request.args.items()} | {"rows": len(rows)},
            address=client_address(),
        )
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        response = flask.Response(incidents_csv(rows), mimetype="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = f'attachment; filename="incidents-{stamp}.csv"'
        response.headers["Cache-Control"] = "private, no-store"
        return response

    @server.route("/incidents/<int:incident_id>/clip", methods=["GET"])
    def incident_clip(incident_id: int):
        principal = current_principal()
        if principal is None:
            return _error(401, "log in first")
        context = current()
        found = get_incident(context.engine, incident_id)
        if found is None or not can_read(principal, found[0]["county"]):
            return _error(404, "no such incident")
        span = next((e for e in found[2] if e["kind"] == "span" and e["camera_id"]), None)
        if span is None:
            return _error(404, "this incident has no recorded span")
        return span_clip_response(
            context,
            principal,
            span["camera_id"],
            span["start_at"],
            span["end_at"],
            "playback",
            {"incident": incident_id, "from_utc": span["start_at"], "to_utc": span["end_at"]},
        )
