"""Where the recording routes read a span's segments: this machine's recordings folder, or (in the
web role of a cluster) a mirror filled from the nodes that hold them (``watchwall.roles.segment_relay``)."""

from __future__ import annotations

from pathlib import Path

from watchwall.dashboard.context import current
from watchwall.video.record.segments import default_recordings_dir

SEGMENT_RELAY = "segment_relay"  # AppContext.extras key, set by the web role


def recordings_dir_for(camera_id: str, start_utc: float, end_utc: float) -> Path:
    context = current()
    relay = context.extras.get(SEGMENT_RELAY)
    if relay is None:
        return default_recordings_dir(context.settings)
    return relay.recordings_dir(camera_id, start_utc, end_utc)
