"""The recording player of /recordings: what a day's timeline shows, and which span a click plays.

Pure helpers over ``watchwall.video.record.playback`` (timeline, seek) for the page's callbacks: the span to play
from a click on the timeline (or from the day's first recording), skipping a gap to where
recording resumes, and the URL the player fetches it from.
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode

from watchwall.config.timestamps import utc_iso
from watchwall.dashboard.context import AppContext
from watchwall.dashboard.i18n import t
from watchwall.video.record.models import (
    GAP_CAMERA_OFFLINE,
    GAP_DROPPED,
    GAP_RECORDER_CRASHED,
    GAP_RECORDER_STOPPED,
    GAP_STALLED,
)
from watchwall.video.record.playback import playback_file, seek, timeline
from watchwall.video.record.segments import default_recordings_dir
from watchwall.video.state.events import ALARM_KINDS

PLAY_WINDOW_S = 30 * 60
JUMPS_S = (-300, -30, 30, 300)  # the player's jump buttons, in seconds
GAP_REASONS = (GAP_CAMERA_OFFLINE, GAP_STALLED, GAP_RECORDER_STOPPED, GAP_RECORDER_CRASHED, GAP_DROPPED)


def timeline_labels(language: str) -> dict[str, str]:
    labels = {
        "recording": t("rec.row.recording", language),
        "gaps": t("rec.row.gaps", language),
        "alarms": t("rec.row.alarms", language),
        "empty": t("rec.empty", language),
    }
    labels.update({f"gap.{reason}": t(f"rec.gap.{reason}", language) for reason in GAP_REASONS})
    labels.update({f"alarm.{kind}": t(f"alarm.{kind}", language) for kind in ALARM_KINDS})
    return labels


def camera_alarms(context: AppContext, camera_id: str) -> list[dict]:
    """The media plane's alarms of the camera (held in memory while it runs), dated for the timeline."""
    if context.media is None:
        return []
    alarms = []
    for alarm in context.media.alarms(camera_id):
        if alarm.get("start"):
            at = datetime.fromisoformat(str(alarm["start"]).replace("Z", "+00:00")).timestamp()
            alarms.append({**alarm, "at_utc": at})
    return alarms


def day_timeline(context: AppContext, camera_id: str, day: date) -> dict:
    return timeline(
        context.engine, camera_id, day, context.settings.zone, alarms=camera_alarms(context, camera_id)
    )


def play_span(
    context: AppContext, camera_id: str, data: dict, clicked: float | None
) -> tuple[float, float, str]:
    """(from, to, note) to play: from the click (or where recording resumes after it), else the day's first."""
    note = ""
    if clicked is None:
        start = data["segments"][0]["start_utc"] if data["segments"] else data["start_utc"]
    else:
        answer = seek(context.engine, camera_id, clicked)
        start = clicked
        if answer.segment is None and answer.next_start_utc is not None:
            note = answer.gap_reason or ""
            start = answer.next_start_utc
    return start, min(start + PLAY_WINDOW_S, data["end_utc"]), note


def clicked_instant(click) -> float | None:
    """The epoch seconds a timeline click carries in its ``customdata``; None for anything else."""
    try:
        return float(click["points"][0]["customdata"][0])
    except (TypeError, KeyError, IndexError, ValueError):
        return None


def play_url(camera_id: str, start: float, end: float) -> str:
    return f"/recordings/play/{camera_id}?" + urlencode({"from": utc_iso(start), "to": utc_iso(end)})


def seek_request_instant(value) -> float | None:
    """The epoch seconds of the player's seek request (``"<epoch>|<nonce>"``, set by a jump out of the
    loaded span); None for anything else."""
    try:
        epoch = float(str(value).split("|", 1)[0])
    except (TypeError, ValueError):
        return None
    return epoch if 0 < epoch < 1e11 else None


def played_span(context: AppContext, camera_id: str, start: float, end: float) -> tuple[float, float]:
    """Where the file the player will fetch really starts and ends (the keyframe at or before ``start``):
    the player's time 0 is this instant, which the playhead adds its ``currentTime`` to. The file is
    made here once and cached; the playback route serves (and audits) that same file."""
    from watchwall.dashboard.recording_routes import playback_cache_dir

    played = playback_file(
        context.engine,
        default_recordings_dir(context.settings),
        playback_cache_dir(context.settings),
        camera_id,
        start,
        end,
    )
    return played.actual_start_utc, played.actual_end_utc
