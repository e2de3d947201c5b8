"""``watchwall probe``: look at one stream from the command line (``ingest`` is a role: watchwall.roles)."""

from __future__ import annotations

import json

from watchwall.config.errors import UserError


class StreamProblem(UserError):
    """A stream that could not be probed; the message names the kind and the (redacted) URL."""

    exit_code = 3


def register(subparsers) -> None:
    probe = subparsers.add_parser("probe", help="open a stream once and measure it (codec, fps, keyframes)")
    probe.add_argument("url", help="rtsp://[user:password@]host[:port]/path, or a video file")
    probe.add_argument("--seconds", type=float, default=5.0, help="how long to read (default 5)")
    probe.add_argument("--json", action="store_true", help="print one JSON object")
    probe.add_argument(
        "--transport",
        choices=("auto", "tcp", "udp"),
        default="auto",
        help="RTP over the RTSP connection (tcp), over UDP, or auto: TCP, then UDP if refused (default)",
    )
    probe.set_defaults(func=run_probe)


def _positive(seconds: float) -> float:
    if not seconds > 0:
        raise UserError(f"--seconds must be positive, got {seconds}")
    return seconds


def run_probe(args) -> int:
    from watchwall.video.ingest.probe import probe
    from watchwall.video.ingest.source_url import source_for_url
    from watchwall.video.ingest.stream_errors import StreamFailure

    source = source_for_url(args.url, transport=args.transport)
    try:
        result = probe(source, _positive(args.seconds))
    except StreamFailure as failure:
        raise StreamProblem(f"{failure.kind}: {failure.detail}") from failure
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
        return 0
    playable = "yes" if result.browser_playable else "no (needs transcoding for the browser)"
    lines = [
        ("url", result.url),
        ("read by", _route(result.path, result.transport)),
        ("codec", f"{result.codec} ({result.profile or 'unknown profile'})"),
        ("size", f"{result.width}x{result.height}"),
        ("fps", _number(result.fps)),
        ("bitrate", "-" if result.bitrate_bps is None else f"{result.bitrate_bps / 1000:.0f} kbit/s"),
        (
            "keyframe interval",
            _keyframe_interval(result.keyframe_interval_s, result.keyframe_interval_frames),
        ),
        ("open", f"{result.open_s:.2f} s"),
        (
            "first keyframe",
            "-" if result.time_to_first_keyframe_s is None else f"{result.time_to_first_keyframe_s:.2f} s",
        ),
        ("packets", f"{result.packets} in {result.seconds:.1f} s ({result.malformed_packets} malformed)"),
        ("browser playable", playable),
    ]
    for name, value in lines:
        print(f"{name + ':':<19}{value}")
    return 0


def _route(path: str | None, transport: str | None) -> str:
    name = {"native": "WatchWall's RTSP client", "ffmpeg": "FFmpeg"}.get(path or "", path or "-")
    return f"{name} over {transport.upper()}" if transport else name


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _keyframe_interval(seconds: float | None, frames: int | None) -> str:
    if seconds is None:
        return "- (fewer than two keyframes seen)"
    return f"{seconds:g} s ({frames} frames)"
