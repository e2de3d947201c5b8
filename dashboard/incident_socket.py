"""Incidents over the socket: the open incidents a page starts from, and acting on one (the wall's
acknowledge). Every message checks the user's rules again (``watchwall.incidents.rules``)."""

from __future__ import annotations

from flask_socketio import SocketIO

from watchwall.config.errors import UserError
from watchwall.dashboard import access
from watchwall.dashboard.auth import client_address, current_principal
from watchwall.dashboard.context import AppContext
from watchwall.dashboard.incident_service import publisher
from watchwall.incidents.store import act, list_incidents

OPEN_EVENT = "incidents.open"
ACT_EVENT = "incident.act"


def register(socketio: SocketIO, context: AppContext) -> None:
    publish = publisher(context)

    @socketio.on(OPEN_EVENT)
    def _open(_message=None):
        principal = current_principal()
        if principal is None:
            return {"ok": False, "error": "log in first"}
        counties = access.visible_centres(principal, context.site)
        return {"ok": True, "incidents": list_incidents(context.engine, counties=counties, open_only=True)}

    @socketio.on(ACT_EVENT)
    def _act(message):
        principal = current_principal()
        if principal is None:
            return {"ok": False, "error": "log in first"}
        message = message if isinstance(message, dict) else {}
        try:
            incident_id = int(message.get("id"))
            version = int(message["version"]) if message.get("version") is not None else None
        except (TypeError, ValueError):
            return {"ok": False, "error": "bad incident id or version"}
        try:
            summary = act(
                context.engine,
                principal,
                incident_id,
                str(message.get("action", "")),
                version=version,
                reason=message.get("reason"),
                note=message.get("note"),
                county=message.get("county"),
                known_counties=[centre.code for centre in context.site.centres],
                address=client_address(),
                settings=context.settings.incidents,
                on_change=publish,
            )
        except UserError as exc:
            return {"ok": False, "error": str(exc)}
        return {"ok": True, "incident": summary}
