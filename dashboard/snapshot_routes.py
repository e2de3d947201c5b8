"""``GET /snapshot/full/<camera>.jpg``: the frame on screen at the stream's full resolution, audited.

Made server-side from the main stream's newest keyframe (``video/ingest/full_snapshot.py``), not
from the player's scaled picture. Its path has no page rule of its own (``auth.page_rule`` knows
``/snapshot/<camera>.jpg``), so this route checks the camera's centre itself, before anything else.
Every snapshot is audited with its size; the answer says the size in ``X-Width`` / ``X-Height``.
"""

from __future__ import annotations

import flask

from watchwall.dashboard import access
from watchwall.dashboard.auth import audit, current_principal
from watchwall.dashboard.context import current
from watchwall.video.ingest.full_snapshot import full_resolution_jpeg


def register(server: flask.Flask) -> None:
    @server.route("/snapshot/full/<camera_id>.jpg", methods=["GET"])
    def full_snapshot(camera_id: str):
        context = current()
        try:
            place = context.site.camera(camera_id)
        except KeyError:
            flask.abort(404)
        principal = current_principal()
        if principal is None or not access.can_watch_live(principal, place.centre.code):
            raise access.Forbidden()
        fanout_of = getattr(context.media, "stream_fanout", None)  # pulled in this process only
        fanout = fanout_of(camera_id, "main") if fanout_of is not None else None
        taken = full_resolution_jpeg(fanout) if fanout is not None else None
        if taken is None:
            return flask.jsonify({"error": "no picture from this camera yet"}), 404
        audit(
            "snapshot",
            target=camera_id,
            detail={
                "width": taken.width,
                "height": taken.height,
                "bytes": len(taken.jpeg),
                "full_resolution": True,
            },
        )
        response = flask.Response(taken.jpeg, mimetype="image/jpeg")
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["X-Width"] = str(taken.width)
        response.headers["X-Height"] = str(taken.height)
        response.headers["Content-Disposition"] = f'inline; filename="{camera_id}-full.jpg"'
        return response
