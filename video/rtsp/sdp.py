"""The video description of an RTSP session, read from the DESCRIBE answer's SDP."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from watchwall.video.codec.nal import START_CODE
from watchwall.video.ingest.stream_errors import PROTOCOL, UNSUPPORTED_CODEC, StreamFailure

# RTP encoding names this client depacketises, and the FFmpeg codec name they become.
DEPACKETISED = {"H264": "h264", "H265": "hevc"}


class NotDepacketised(StreamFailure):
    """A video codec that exists but that this client does not unpack (MJPEG, MPEG-4 part 2 ...)."""

    def __init__(self, encoding: str) -> None:
        super().__init__(UNSUPPORTED_CODEC, f"RTP video encoding {encoding} is not depacketised here")
        self.encoding = encoding


@dataclass(frozen=True)
class VideoMedia:
    codec: str  # FFmpeg name: "h264" or "hevc"
    payload_type: int
    clock_rate: int
    control_url: str
    parameter_sets: bytes | None  # Annex-B, from sprop-parameter-sets / sprop-vps,sps,pps


def resolve_control(control: str | None, base_url: str) -> str:
    """RFC 2326 C.1.1: an absolute control URL as is, a relative one against the base, ``*`` is the base."""
    if not control or control == "*":
        return base_url
    if "://" in control:
        return control
    return base_url if control == base_url else base_url.rstrip("/") + "/" + control.lstrip("/")


def _parameter_sets(codec: str, fmtp: dict[str, str]) -> bytes | None:
    if codec == "h264":
        encoded = [part for part in fmtp.get("sprop-parameter-sets", "").split(",") if part]
    else:
        encoded = [fmtp[key] for key in ("sprop-vps", "sprop-sps", "sprop-pps") if fmtp.get(key)]
    units = []
    for item in encoded:
        try:
            units.append(base64.b64decode(item + "=" * (-len(item) % 4)))
        except (binascii.Error, ValueError):
            return None  # a damaged sprop: the in-band parameter sets will do
    return b"".join(START_CODE + unit for unit in units if unit) or None


def parse_sdp(text: str, base_url: str) -> tuple[VideoMedia, str]:
    """The first video media of ``text`` that this client can unpack, and the session's control URL."""
    session_control: str | None = None
    medias: list[dict] = []
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        kind, value = line[0], line[2:]
        if kind == "m":
            fields = value.split()
            medias.append(
                {"type": fields[0], "formats": fields[3:], "rtpmap": {}, "fmtp": {}, "control": None}
            )
        elif kind == "a":
            name, _, attribute = value.partition(":")
            target = medias[-1] if medias else None
            if name == "control":
                if target is None:
                    session_control = attribute.strip()
                else:
                    target["control"] = attribute.strip()
            elif name == "rtpmap" and target is not None:
                payload, _, encoding = attribute.partition(" ")
                target["rtpmap"][payload.strip()] = encoding.strip()
            elif name == "fmtp" and target is not None:
                payload, _, parameters = attribute.partition(" ")
                target["fmtp"][payload.strip()] = dict(
                    (key.strip().lower(), val.strip())
                    for key, _, val in (item.partition("=") for item in parameters.split(";"))
                    if key.strip()
                )
    videos = [media for media in medias if media["type"] == "video"]
    if not videos:
        raise StreamFailure(UNSUPPORTED_CODEC, "the camera describes no video stream")
    session_url = resolve_control(session_control, base_url)
    unsupported = None
    for media in videos:
        for payload in media["formats"]:
            encoding = media["rtpmap"].get(payload, "")
            name, _, rate = encoding.partition("/")
            codec = DEPACKETISED.get(name.upper())
            if codec is None:
                unsupported = unsupported or name or f"payload type {payload}"
                continue
            try:
                payload_type, clock_rate = int(payload), int(rate.split("/")[0] or 90000)
            except ValueError as exc:
                raise StreamFailure(PROTOCOL, f"unreadable rtpmap {encoding!r}") from exc
            video = VideoMedia(
                codec=codec,
                payload_type=payload_type,
                clock_rate=clock_rate,
                control_url=resolve_control(media["control"], base_url),
                parameter_sets=_parameter_sets(codec, media["fmtp"].get(payload, {})),
            )
            return video, session_url
    raise NotDepacketised(unsupported or "unknown")
