"""What the reader hands to its consumers: one compressed packet, never decoded."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property


@dataclass(frozen=True)
class StreamInfo:
    """The video stream's parameters, enough to decode or remux its packets elsewhere."""

    codec: str  # FFmpeg codec name: "h264", "hevc", ...
    width: int
    height: int
    time_base: Fraction
    extradata: bytes | None = None
    profile: str | None = None
    pix_fmt: str | None = None
    average_rate: Fraction | None = None

    @cached_property
    def seconds_per_tick(self) -> float:
        """``time_base`` as a float: Fraction arithmetic costs microseconds a packet."""
        return float(self.time_base)

    @property
    def browser_playable(self) -> bool:
        """Whether Chromium's MSE can play it as is (H.264; not HEVC)."""
        return self.codec in ("h264", "vp8", "vp9", "av1")


@dataclass(frozen=True)
class MediaPacket:
    camera_id: str
    data: bytes
    pts: int | None
    dts: int | None
    duration: int | None
    is_keyframe: bool
    is_corrupt: bool
    stream: StreamInfo
    arrival: float  # time.monotonic() when the reader got it
    wallclock: float  # time.time() of the packet, dated by its timestamp where it has one
    sequence: int = field(default=0)  # per camera, 0-based, gaps-free across reconnects
    # NAL units in ``data``, each behind a 4-byte start code, as the RTSP depacketiser framed them;
    # 0: not known (FFmpeg's reader, files). Saves the recorder a search through every packet.
    nal_units: int = 0

    @property
    def size(self) -> int:
        return len(self.data)

    @classmethod
    def every_field(
        cls,
        camera_id: str,
        data: bytes,
        pts: int | None,
        dts: int | None,
        duration: int | None,
        is_keyframe: bool,
        is_corrupt: bool,
        stream: StreamInfo,
        arrival: float,
        wallclock: float,
        sequence: int,
        nal_units: int,
    ) -> MediaPacket:
        """``MediaPacket(...)`` with every field given, equal to it, at under half its cost: a frozen
        dataclass's ``__init__`` sets each field through ``object.__setattr__``, about 2 µs a
        packet, on the RTSP loop's thread for every frame of every camera."""
        packet = _new_object(cls)
        packet.__dict__.update(
            camera_id=camera_id,
            data=data,
            pts=pts,
            dts=dts,
            duration=duration,
            is_keyframe=is_keyframe,
            is_corrupt=is_corrupt,
            stream=stream,
            arrival=arrival,
            wallclock=wallclock,
            sequence=sequence,
            nal_units=nal_units,
        )
        return packet


_new_object = object.__new__
