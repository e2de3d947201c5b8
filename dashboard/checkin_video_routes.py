"""``GET /checkins/video/<id>/snapshot.jpg``: the stored frame of a video-verified check-in.

Only for those who see the check's county (a county supervisor: their county; city command,
inspectors and administrators: all they are given); every view is audited (a subject's picture).
"""

from __future__ import annotations

import flask

from watchwall.dashboard import access
from watchwall.dashboard.auth import audit, current_principal
from watchwall.dashboard.checkin_video_query import snapshot_of
from watchwall.dashboard.context import current

VIEWER_ROLES = ("city_command", "county_supervisor", "inspector", "admin")


def may_see_checks(principal, county: str) -> bool:
    return (
        principal is not None and principal.role in VIEWER_ROLES and access.can_see_centre(principal, county)
    )


def register(server: flask.Flask) -> None:
    @server.route("/checkins/video/<int:video_id>/snapshot.jpg", methods=["GET"])
    def checkin_video_snapshot(video_id: int):
        found = snapshot_of(current().engine, video_id)
        if found is None:
            flask.abort(404)
        county, camera_id, jpeg = found
        if not may_see_checks(current_principal(), county):
            raise access.Forbidden()
        if jpeg is None:
            flask.abort(404)
        audit(
            "checkin_video.snapshot",
            target=f"checkin_video:{video_id}",
            detail={"camera": camera_id, "county": county},
        )
        response = flask.Response(jpeg, mimetype="image/jpeg")
        response.headers["Cache-Control"] = "private, no-store"  # each view is fetched, so each is audited
        return response
