"""The live cells of a camera's row in /admin: state, frame rate, last packet, recorder, who reads
it over which transport, and open incidents.

Open incidents come from whichever feature keeps them: it puts a callable ``camera_id -> int`` in
``AppContext.extras[OPEN_INCIDENTS]``; until one does, the cell shows "–".
"""

from __future__ import annotations

from datetime import datetime

from watchwall.dashboard.context import AppContext
from watchwall.dashboard.i18n import t

OPEN_INCIDENTS = "open_incidents"  # extras key: a callable camera_id -> number of open incidents
LIVE_COLUMNS = ("live", "fps", "last_packet", "recorder", "read_by", "incidents")
NONE = "–"


def live_headers(language: str) -> list[str]:
    return [t(f"admin.col.{key}", language) for key in LIVE_COLUMNS]


def live_cells(context: AppContext, camera_id: str, language: str) -> list[str]:
    """One string per column of :data:`LIVE_COLUMNS`; dashes for a camera that is not pulled here."""
    snapshot = _snapshot(context, camera_id)
    incidents = _open_incidents(context, camera_id)
    if snapshot is None:
        return [t("admin.not_pulled", language), NONE, NONE, NONE, NONE, incidents]
    state = t(f"state.{snapshot.state}", language)
    if snapshot.error_kind:
        state += f" ({snapshot.error_kind})"
    return [
        state,
        NONE if snapshot.fps is None else f"{snapshot.fps:g}",
        _last_packet(context, snapshot.last_packet_at, snapshot.last_packet_age_s),
        recorder_label(snapshot.recorder, language),
        read_by(snapshot.path, snapshot.transport, language),
        incidents,
    ]


def read_by(path: str | None, transport: str | None, language: str) -> str:
    if path is None:
        return NONE
    name = t(f"admin.path.{path}", language)
    return f"{name} · {transport.upper()}" if transport else name


def recorder_label(state: str | None, language: str) -> str:
    """The recorder's state; the ones known here translated, the codec named as it is."""
    if state is None:
        return t("admin.recorder.none", language)
    prefix, colon, detail = state.partition(": codec ")
    key = f"admin.recorder.{prefix.replace(' ', '_')}"
    label = t(key, language)
    if label == key:  # a state this page has no words for: as the recorder says it
        return state
    return label.format(codec=detail) if colon else label


def _snapshot(context: AppContext, camera_id: str):
    """None when no process pulls the camera (disabled, or its node is gone)."""
    return context.media.camera_health(camera_id) if context.media is not None else None


def _last_packet(context: AppContext, at: str | None, age_s: float | None) -> str:
    if at is None:
        return NONE
    local = datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(context.settings.zone)
    text = local.strftime("%H:%M:%S")
    return text if age_s is None else f"{text} ({age_s:.0f} s)"


def _open_incidents(context: AppContext, camera_id: str) -> str:
    count = context.extras.get(OPEN_INCIDENTS)
    if count is None:
        return NONE
    return str(count(camera_id))
