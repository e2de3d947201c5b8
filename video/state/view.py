"""The one narrow interface through which the web side sees the media plane.

Pages, sockets and /metrics ask a :class:`MediaView` for health, open alarms, the latest
thumbnail, a camera's live channel and the recorders' figures; they never reach into ingest
objects. :class:`LocalMediaView` answers from the media plane of the same process (``watchwall
serve``); ``watchwall.video.state.shared_state.SharedStateView`` answers from what ingest nodes publish
in Redis (the web role), where live channels are not in the process.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Protocol

from watchwall.video.ingest.health import HealthSnapshot
from watchwall.video.ingest.supervisor import IngestService
from watchwall.video.live.channel import LiveChannel, LiveHub

SNAPSHOT_FIELDS = frozenset(field.name for field in fields(HealthSnapshot))


def snapshot_from_dict(values: dict) -> HealthSnapshot:
    """A health snapshot read back from JSON (keys of a newer or older writer are tolerated)."""
    known = {key: value for key, value in values.items() if key in SNAPSHOT_FIELDS}
    return HealthSnapshot(**known)


class MediaView(Protocol):
    def health(self) -> dict[str, HealthSnapshot]:
        """Every camera being pulled, by id."""

    def camera_health(self, camera_id: str) -> HealthSnapshot | None: ...

    def alarms(self, camera_id: str) -> list[dict]:
        """The camera's alarm log (``active`` ones are open)."""

    def thumbnail(self, camera_id: str) -> bytes | None:
        """The latest keyframe thumbnail as JPEG."""

    def live_channel(self, camera_id: str, stream: str = "main") -> LiveChannel | None:
        """The camera's live channel (of one of its streams) in this process, or None (not pulled here)."""

    def channel(self, camera_id: str, stream: str = "main") -> LiveChannel:
        """As :meth:`live_channel`, raising KeyError when there is none (a live hub's interface)."""

    def stream_states(self, camera_id: str) -> dict[str, tuple[str, str | None]]:
        """(state, codec) of each of the camera's streams; KeyError when it is not pulled."""

    def recorder_figures(self) -> dict[str, dict]:
        """Per camera: segments_closed, packets_written, bytes_written, errors."""


class LocalMediaView:
    """The media plane of this process."""

    def __init__(self, ingest: IngestService, live: LiveHub | None, recorders: dict | None = None) -> None:
        self._ingest = ingest
        self._live = live
        self._recorders = recorders if recorders is not None else ingest.recorders

    def health(self) -> dict[str, HealthSnapshot]:
        return self._ingest.health()

    def camera_health(self, camera_id: str) -> HealthSnapshot | None:
        if camera_id not in self._ingest.places:
            return None
        try:
            return self._ingest.camera_health(camera_id)
        except KeyError:  # removed meanwhile
            return None

    def alarms(self, camera_id: str) -> list[dict]:
        if camera_id not in self._ingest.places:
            return []
        return self._ingest.alarm_log(camera_id)

    def thumbnail(self, camera_id: str) -> bytes | None:
        worker = self._ingest.keyframe_workers.get(camera_id)
        return worker.latest_jpeg if worker is not None else None

    def live_channel(self, camera_id: str, stream: str = "main") -> LiveChannel | None:
        if self._live is None or camera_id not in self._ingest.fanouts:
            return None
        try:
            return self._live.channel(camera_id, stream)
        except KeyError:
            return None

    def channel(self, camera_id: str, stream: str = "main") -> LiveChannel:
        channel = self.live_channel(camera_id, stream)
        if channel is None:
            raise KeyError(camera_id)
        return channel

    def stream_states(self, camera_id: str) -> dict[str, tuple[str, str | None]]:
        return self._ingest.stream_states(camera_id)

    def stream_fanout(self, camera_id: str, stream: str = "main"):
        """The camera's fan-out of one stream in this process (full-resolution snapshots), or None."""
        try:
            return self._ingest.stream_fanout(camera_id, stream)
        except KeyError:
            return None

    def recorder_figures(self) -> dict[str, dict]:
        return {
            camera_id: {
                name: getattr(recorder, name, 0)
                for name in ("segments_closed", "packets_written", "bytes_written", "errors")
            }
            for camera_id, recorder in list(self._recorders.items())
        }
