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
from pathlib import Path

from watchwall.config.site import Site
from watchwall.video.ingest.fanout import Fanout
from watchwall.video.ingest.health import ERROR, CameraHealth, HealthSnapshot
from watchwall.video.ingest.packet import StreamInfo
from watchwall.video.ingest.reader import CameraReader, ReaderOptions, open_stream
from watchwall.video.ingest.source_url import source_for_camera, sub_stream_source
from watchwall.video.ingest.stream_errors import describe

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


@dataclass(frozen=True)
class PairProblem:
    """A camera's pair of streams as found on the network: ``at`` is the field's place in the site file."""

    camera_id: str
    at: tuple
    message: str
    refused: bool  # False: the stream could not be opened, nothing to say about its size


def probe_stream_pairs(
    site: Site, secrets_file: Path | None = None, options: ReaderOptions | None = None
) -> list[PairProblem]:
    """Open both streams of every camera with a sub stream (the SDP or a short probe gives the
    picture size; nothing is decoded) and name each sub stream larger than its main one."""
    options = options or ReaderOptions(open_timeout_s=5.0)
    problems = []
    for c, centre in enumerate(site.centres):
        for r, room in enumerate(centre.rooms):
            for k, camera in enumerate(room.cameras):
                if not camera.has_sub_stream:
                    continue
                where = ("centres", c, "rooms", r, "cameras", k)
                sources = {
                    "rtsp": source_for_camera(camera, camera.id, Path("."), secrets_file),
                    "sub_rtsp": sub_stream_source(camera, secrets_file),
                }
                sizes: dict[str, StreamInfo] = {}
                for field, source in sources.items():
                    try:
                        container, _stream, sizes[field] = open_stream(source, options)
                        container.close()
                    except Exception as exc:
                        message = f"{field} could not be probed: {describe(exc, source.display)}"
                        problems.append(PairProblem(camera.id, (*where, field), message, refused=False))
                    finally:
                        source.release()
                why = sub_larger_than_main(sizes.get("rtsp"), sizes.get("sub_rtsp"))
                if why is not None:
                    problems.append(PairProblem(camera.id, (*where, "sub_rtsp"), why, refused=True))
    return problems
