"""What an incident can be about, how severe it is, and the reasons it may be closed with."""

from __future__ import annotations

from watchwall.video.state.events import Event

CAMERA_KINDS = (
    "offline",
    "stalled",
    "video_loss",
    "covered",
    "defocus",
    "frozen",
    "moved",
    "recorder_error",
    "disk_full",
)
SUBJECT_KINDS = ("missed_checkin", "out_of_area", "rollcall_failed", "checkin_no_face")
KINDS = CAMERA_KINDS + SUBJECT_KINDS

SEVERITIES = ("low", "medium", "high")
SEVERITY = {
    "offline": "high",
    "stalled": "medium",
    "video_loss": "high",
    "covered": "high",
    "defocus": "low",
    "frozen": "medium",
    "moved": "medium",
    "recorder_error": "high",
    "disk_full": "high",
    "missed_checkin": "medium",
    "out_of_area": "high",
    "rollcall_failed": "medium",
    "checkin_no_face": "medium",  # a video-verified check-in whose recorded span shows no face
}

# Fixed list; the free text beside it says what was done.
CLOSE_REASONS = ("device_repaired", "phone_verified", "home_visited", "false_alarm", "other")

# The media plane's events that open incidents (video.ingest.supervisor / keyframes, video.record.recorder).
ALARM_EVENT = Event.CAMERA_ALARM
DISK_FULL_EVENT = Event.RECORDER_DISK_FULL
WRITE_ERROR_EVENT = Event.RECORDER_WRITE_ERROR
SOURCE_EVENTS = (ALARM_EVENT, DISK_FULL_EVENT, WRITE_ERROR_EVENT)

# A lost stream is one problem whatever state the reader reported first.
_VIDEO_LOSS_STATES = {"offline": "offline", "stalled": "stalled", "error": "video_loss"}


def kind_of_event(event: str, payload: dict) -> str | None:
    """The incident kind an event opens (or recovers), None for events that are no incident."""
    if event == DISK_FULL_EVENT:
        return "disk_full"
    if event == WRITE_ERROR_EVENT:
        return "recorder_error"
    if event != ALARM_EVENT:
        return None
    kind = payload.get("kind")
    if kind == "video_loss":
        state = (payload.get("detail") or {}).get("state")
        return _VIDEO_LOSS_STATES.get(state, "video_loss")
    return kind if kind in CAMERA_KINDS else None


def problem_key(kind: str, camera_id: str | None = None, subject: str | None = None, extra: str = "") -> str:
    """What makes two reports one continuing problem: the camera's lost video is one problem
    (offline, stalled and video loss alike), each tamper kind another; a subject's kind another."""
    if camera_id is not None:
        family = "video" if kind in _VIDEO_LOSS_STATES.values() else kind
        return f"camera:{camera_id}:{family}"
    return f"subject:{subject}:{kind}{':' + extra if extra else ''}"
