"""Which of a camera's streams a live view shows, per viewer, and the switch when that changes.

A viewer wants one stream (the full-screen view the main stream, tiles the sub stream, by the
camera's roles, or what its page asks for) and says which codecs its browser plays
(MediaSource.isTypeSupported). It gets the wanted stream when it is not down and its codec
is playable there; else the camera's other stream on the same terms; else neither, and the
page shows thumbnails. The choice is made again while it watches: a sub stream that fails
moves its tiles to the main stream (or to thumbnails), and back when it returns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from watchwall.video.ingest.health import ERROR, OFFLINE, STALLED

DOWN_STATES = (STALLED, OFFLINE, ERROR)
CODEC_FAMILIES = ("h264", "hevc")  # FFmpeg names; the browser's "avc1…" and "hvc1…"/"hev1…"
DOWN, UNPLAYABLE = "down", "unplayable"

StreamStates = dict[
    str, tuple[str, str | None]
]  # stream name -> (state, codec or None before its first packet)


@dataclass(frozen=True)
class Choice:
    """``stream`` shown (None: thumbnails), the one ``wanted``, and why they differ (``reason``
    is about the wanted stream: "down" or "unplayable"; None when it is shown)."""

    stream: str | None
    wanted: str
    reason: str | None = None

    def as_message(self) -> dict:
        return {"stream": self.stream, "want": self.wanted, "reason": self.reason}


def parse_playable(text: str | None) -> frozenset[str]:
    """The ``play`` query parameter: codec families the browser plays; H.264 when not given."""
    if not text:
        return frozenset({"h264"})
    return frozenset(part for part in text.split(",") if part in CODEC_FAMILIES)


def choose_stream(wanted: str, playable: frozenset[str], states: StreamStates) -> Choice:
    if wanted not in states:  # a camera with one stream: it is the one wanted
        wanted = "main" if "main" in states else next(iter(states))
    order = [wanted, *(name for name in states if name != wanted)]

    def why(name: str) -> str:
        _state, codec = states[name]
        return UNPLAYABLE if codec is not None and codec not in playable else DOWN

    for name in order:
        state, codec = states[name]
        if state not in DOWN_STATES and (codec is None or codec in playable):
            return Choice(name, wanted, None if name == wanted else why(wanted))
    return Choice(None, wanted, why(wanted))


class TileStream:
    """One camera on a live socket: its current choice and the viewer of the chosen stream's channel.

    ``states(camera_id)`` gives the camera's :data:`StreamStates` and raises KeyError while the
    camera is not pulled; ``wanted`` None means the camera's own default, ``default_wanted(camera_id)``.
    """

    def __init__(
        self,
        hub,
        camera_id: str,
        wanted: str,
        playable: frozenset[str],
        states: Callable[[str], StreamStates],
        wakeup: threading.Event | None = None,
    ) -> None:
        self.hub = hub
        self.camera_id = camera_id
        self.wanted = wanted
        self.playable = playable
        self.states = states
        self.wakeup = wakeup
        self.choice: Choice | None = None  # None while the camera is not pulled
        self.viewer = None
        self.viewer_stream: str | None = None
        self.switches = 0

    def update(self) -> bool:
        """Choose again and follow the choice; True when it changed."""
        try:
            choice = choose_stream(self.wanted, self.playable, self.states(self.camera_id))
        except KeyError:
            choice = None
        if choice == self.choice:
            return False
        if self.viewer is not None and (choice is None or choice.stream != self.viewer_stream):
            self.viewer.close()
            self.viewer = None
        if self.choice is not None and choice is not None and choice.stream != self.choice.stream:
            self.switches += 1
        if choice is not None and choice.stream is not None and self.viewer is None:
            try:
                self.viewer = self.hub.channel(self.camera_id, choice.stream).attach(self.wakeup)
                self.viewer_stream = choice.stream
            except KeyError:  # removed meanwhile
                choice = None
        self.choice = choice
        return True

    def close(self) -> None:
        if self.viewer is not None:
            self.viewer.close()
            self.viewer = None
