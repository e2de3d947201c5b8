"""Roll-calls over the socket: what a page shows (``rollcall.active``) and the duty officer's 到
(``rollcall.answer``). Every message checks the user's rules again (``watchwall.rollcall.rules``);
an answer that is not the user's to give, or too late, changes nothing and says why."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask_socketio import SocketIO

from watchwall.config.errors import UserError
from watchwall.dashboard import access
from watchwall.dashboard.auth import client_address, current_principal
from watchwall.dashboard.context import AppContext
from watchwall.dashboard.i18n import normalise, t
from watchwall.dashboard.rollcall_service import call_publisher
from watchwall.rollcall import rules
from watchwall.rollcall.store import answer, failed_count, list_calls, utcnow

ACTIVE_EVENT = "rollcall.active"
ANSWER_EVENT = "rollcall.answer"
RECENT_S = 600  # decided calls stay on the wall's board this long


def names(context: AppContext, language: str) -> dict:
    return {
        "centres": {centre.code: centre.label.get(language) for centre in context.site.centres},
        "cameras": {place.camera.id: place.camera.name.get(language) for place in context.site.cameras()},
    }


LABEL_KEYS = (
    "prompt", "answer", "answered", "seconds", "camera", "state.called", "state.answered", "state.passed",
    "state.failed", "reason.no_answer", "reason.no_face", "reason.no_recording", "face.yes", "face.no",
    "board.title", "board.empty", "refused", "failed_today",
)  # fmt: skip


def labels(language: str) -> dict:
    return {key: t(f"rollcall.{key}", language) for key in LABEL_KEYS}


def register(socketio: SocketIO, context: AppContext) -> None:
    publish = call_publisher(context)

    @socketio.on(ACTIVE_EVENT)
    def _active(message=None):
        principal = current_principal()
        if principal is None:
            return {"ok": False, "error": "log in first"}
        language = normalise((message or {}).get("lang") if isinstance(message, dict) else None)
        counties = [
            c for c in access.visible_centres(principal, context.site) if rules.can_read(principal, c)
        ]
        calls = list_calls(
            context.engine, counties=counties, open_or_since=utcnow() - timedelta(seconds=RECENT_S), limit=100
        )
        for call in calls:
            call["answerable"] = call["state"] == "called" and rules.can_answer(principal, call["county"])
            call["watch"] = access.can_watch_live(principal, call["county"])  # inspectors see no live video
        midnight = datetime.combine(
            utcnow().astimezone(context.settings.zone).date(), time(0), tzinfo=context.settings.zone
        )
        return {
            "ok": True,
            "calls": calls,
            "names": names(context, language),
            "labels": labels(language),
            "failed_today": failed_count(context.engine, midnight, counties),
        }

    @socketio.on(ANSWER_EVENT)
    def _answer(message=None):
        principal = current_principal()
        if principal is None:
            return {"ok": False, "error": "log in first"}
        try:
            call_id = int((message or {}).get("id"))
        except (TypeError, ValueError, AttributeError):
            return {"ok": False, "error": 'bad request: send {"id": <roll-call id>}'}
        try:
            summary = answer(
                context.engine,
                context.site,
                context.settings.rollcall,
                principal,
                call_id,
                address=client_address(),
            )
        except UserError as exc:
            return {"ok": False, "error": str(exc)}
        publish(summary)
        return {"ok": True, "call": summary}
