"""A camera's two streams: main (recorded, full quality, often H.265) and sub (small, H.264).

Each stream has its own reader, fan-out and health, so one down is not the other down.
The pure decisions about the pair live here: whether a sub stream may be used (its
picture must not be larger than the main one's; known only once both have sent a
parameter set, so the ingest checks it, and ``watchwall site check --probe`` can check it
ahead), and the short summary of each stream that ``watchwall ingest --json`` and the
camera's health show.
"""

from __future__ import annotations

from dataclasses import dataclass

from watchwall.video.ingest.fanout import Fanout
from watchwall.video.ingest.health import ERROR, CameraHealth, HealthSnapshot
from watchwall.video.ingest.packet import StreamInfo
from watchwall.video.ingest.reader import CameraReader

MAIN, SUB = "main", "sub"
STREAMS = (MAIN, SUB)
REFUSED = "refused"  # the error kind of a sub stream the ingest will not use


@dataclass
class StreamPipe:
    """One stream of a camera: what reads it, where its packets go, how it is doing."""

    name: str
    fanout: Fanout
    health: CameraHealth
    reader: CameraReader
    refused: str | None = None  # why the stream is not used (a sub larger than its main)


def sub_larger_than_main(main: StreamInfo | None, sub: StreamInfo | None) -> str | None:
    """Why a sub stream is refused (the field named), or None. Unknown sizes refuse nothing."""
    if main is None or sub is None:
        return None
    if sub.width > main.width or sub.height > main.height:
        return (
            f"sub_rtsp: the sub stream's picture {sub.width}x{sub.height} is larger than the main "
            f"stream's {main.width}x{main.height}; swap rtsp and sub_rtsp, or give the camera's smaller profile"
        )
    return None


def stream_summary(snapshot: HealthSnapshot, refused: str | None = None) -> dict:
    """State, codec, size, rate and packets of one stream (``ingest --json``'s ``streams``)."""
    return {
        "state": ERROR if refused else snapshot.state,
        "error_kind": REFUSED if refused else snapshot.error_kind,
        "detail": refused or snapshot.detail,
        "codec": snapshot.codec,
        "width": snapshot.width,
        "height": snapshot.height,
        "fps": snapshot.fps,
        "bitrate_bps": snapshot.bitrate_bps,
        "packets": snapshot.packets,
        "reconnects": snapshot.reconnects,
        "last_packet_age_s": snapshot.last_packet_age_s,
    }
