#!/usr/bin/python3
"""A real RTSP server for the tests, built on GStreamer's gst-rtsp-server.

Run by the system Python (it needs ``gi``), never by the venv:

    /usr/bin/python3 tests/support/gst_rtsp_server.py --port 8554 \
        --mount /cam0=h264 --mount /hevc=h265 --mount /valve=valve \
        --mount /broken=broken

Mount kinds: ``h264`` (live test pattern, shared media), ``h265``, ``valve``
(H.264 whose buffers can be dropped at run time while the RTSP session stays
open; one media per client, because a client reconnecting into a shared,
dropping media wedges the server), ``broken`` (H.264 corrupted by
``breakmydata``), ``bframes`` (H.264 Main with two B-frames between references, so RTP
timestamps arrive out of order), ``mjpeg`` (JPEG pictures, RFC 2435: a codec the recorder cannot
keep), ``file:PATH`` (a pre-encoded H.264 Annex-B file, or H.265 when it ends in .h265/.hevc, played
in a loop in real time: the server parses and packetizes it but encodes nothing, for benchmarks),
``timecode`` (H.264 of pictures made in real time here, each with the wall-clock time of its making
painted in as blocks, tests/support/time_code.py: the live-edge lag benchmark's camera).
With ``--user``/``--password`` every mount needs those credentials (basic authentication, or digest
with ``--digest``); anyone else is answered 401. ``--protocols udp`` offers RTP over UDP only
(``set_protocols``): a SETUP asking for TCP is answered ``461 Unsupported Transport``, as many
encoders and cameras answer it. A generated kind may carry its own picture size,
``/main=h265@640x360 --mount /sub=h264@320x180`` (a camera's main and sub streams); others take
``--width``/``--height``.

Control lines on stdin, each answered with one line on stdout:
``stall /valve`` -> ``ok stall /valve``; ``resume /valve`` -> ``ok resume /valve``;
``rtcp /path`` -> ``ok rtcp /path reports=N highest=S`` where N counts the clients of the
mount's media whose RTCP receiver report the server's RTP session has read, and S is the highest
extended sequence number one of them reported; ``drop /path`` -> ``ok drop /path``: the path is
gone (its mount removed, the clients playing it disconnected, a new request answered 404) while
the server's other paths play on, as when a camera's sub-stream encoder dies.
When ready it prints ``ready <port>``. It quits when stdin closes, so it never
outlives the test process that started it.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
gi.require_version("GstRtsp", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402
from time_code import HEIGHT_NEEDED, WIDTH_NEEDED, paint  # noqa: E402 (beside this script)

KINDS = ("h264", "h265", "valve", "broken", "bframes", "mjpeg", "timecode")
PROTOCOLS = {"tcp": "TCP", "udp": "UDP"}
FILE_KIND = "file:"


def pattern_source(width: int, height: int, fps: int) -> str:
    return (
        f"videotestsrc is-live=true pattern=ball ! video/x-raw,width={width},height={height},"
        f"framerate={fps}/1,format=I420"
    )


def h264_encoder(fps: int, keyframe_s: float) -> str:
    gop = max(1, round(fps * keyframe_s))
    return (
        f"x264enc tune=zerolatency speed-preset=ultrafast bitrate=400 key-int-max={gop} "
        "! video/x-h264,profile=baseline"
    )


def launch_line(kind: str, width: int, height: int, fps: int, keyframe_s: float) -> str:
    if kind.startswith(FILE_KIND):
        # The parser dates the buffers (DTS) from the stream's frame rate; the RTSP sinks pace them.
        # A .h265 / .hevc file is H.265, anything else H.264.
        location = kind[len(FILE_KIND) :]
        codec = "h265" if location.endswith((".h265", ".hevc")) else "h264"
        return (
            f'( multifilesrc location="{location}" loop=true '
            f'caps="video/x-{codec},stream-format=byte-stream" ! {codec}parse name=parse '
            f"! rtp{codec}pay name=pay0 pt=96 config-interval=-1 )"
        )
    source = pattern_source(width, height, fps)
    gop = max(1, round(fps * keyframe_s))
    if kind == "timecode":
        # threads=1: zerolatency's sliced threads cut a picture into slices that FFmpeg's RTSP
        # reader hands on as separate pictures, half a time code each
        return (
            f"( appsrc name=frames is-live=true do-timestamp=true format=time "
            f"caps=video/x-raw,format=I420,width={width},height={height},framerate={fps}/1 "
            f"! x264enc tune=zerolatency speed-preset=ultrafast threads=1 bitrate=1500 key-int-max={gop} "
            "! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
        )
    if kind == "h265":
        return (
            f"( {source} ! x265enc tune=zerolatency speed-preset=ultrafast bitrate=400 key-int-max={gop} "
            "! h265parse config-interval=-1 ! rtph265pay name=pay0 pt=96 config-interval=-1 )"
        )
    if kind == "valve":
        return (
            f"( {source} ! valve name=stall drop=false ! {h264_encoder(fps, keyframe_s)} "
            "! rtph264pay name=pay0 pt=96 config-interval=-1 )"
        )
    if kind == "bframes":
        return (
            f"( {source} ! x264enc speed-preset=ultrafast bitrate=400 key-int-max={gop} bframes=2 b-adapt=false "
            "! video/x-h264,profile=main ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
        )
    if kind == "mjpeg":
        return f"( {source} ! jpegenc quality=50 ! rtpjpegpay name=pay0 pt=26 )"
    if kind == "broken":
        return (
            f"( {source} ! {h264_encoder(fps, keyframe_s)} ! h264parse ! video/x-h264,stream-format=byte-stream "
            "! breakmydata probability=0.03 seed=7 "
            "! rtph264pay name=pay0 pt=96 config-interval=-1 )"
        )
    return f"( {source} ! {h264_encoder(fps, keyframe_s)} ! rtph264pay name=pay0 pt=96 config-interval=-1 )"


class ValveMount:
    """The valves of every media made for one path; new media start in the current state."""

    def __init__(self) -> None:
        self.dropping = False
        self.valves: list = []

    def on_media_configure(self, _factory, media) -> None:
        valve = media.get_element().get_by_name("stall")
        if valve is None:
            return
        valve.set_property("drop", self.dropping)
        self.valves.append(valve)
        media.connect(
            "unprepared", lambda _media: self.valves.remove(valve) if valve in self.valves else None
        )

    def set_dropping(self, dropping: bool) -> None:
        self.dropping = dropping
        for valve in list(self.valves):
            valve.set_property("drop", dropping)


def date_file_frames(_factory, media) -> None:
    """The parser sets only the DTS of a raw H.264/H.265 file; without B-frames the PTS equals it."""

    def copy_dts_to_pts(_pad, info):
        buffer = info.get_buffer()
        buffer.pts = buffer.dts
        return Gst.PadProbeReturn.OK

    parse = media.get_element().get_by_name("parse")
    parse.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, copy_dts_to_pts)


def answer_not_seekable(_factory, media) -> None:
    """Every mount is a live camera: it answers the seeking query "not seekable".

    videotestsrc answers it "seekable" even when live, and gst-rtsp-server (1.22) then runs a
    flushing seek for each PLAY that carries a Range. On a shared media two clients' PLAYs then
    race: the second one's "prerolled again" can come before the new segment has reached the
    RTP session, and gst_rtsp_media_get_rates aborts the whole server on its g_assert."""

    def on_query(_pad, info):
        query = info.get_query()
        if query is None or query.type != Gst.QueryType.SEEKING:
            return Gst.PadProbeReturn.OK
        query.set_seeking(Gst.Format.TIME, False, -1, -1)
        return Gst.PadProbeReturn.HANDLED

    payloader = media.get_element().get_by_name("pay0")
    payloader.get_static_pad("src").add_probe(Gst.PadProbeType.QUERY_UPSTREAM, on_query)


class TimeCodeFrames:
    """Feeds a ``timecode`` media's appsrc in real time: each I420 picture is made (a bar moving
    on grey, the time code painted with time.time() of that moment) just before it is pushed."""

    def __init__(self, width: int, height: int, fps: int) -> None:
        if width < WIDTH_NEEDED or height < HEIGHT_NEEDED:
            raise SystemExit(f"a timecode mount needs at least {WIDTH_NEEDED}x{HEIGHT_NEEDED}")
        self.width, self.height, self.fps = width, height, fps

    def on_media_configure(self, _factory, media) -> None:
        source = media.get_element().get_by_name("frames")
        stop = threading.Event()
        media.connect("unprepared", lambda _media: stop.set())
        threading.Thread(target=self._feed, args=(source, stop), daemon=True).start()

    def _feed(self, source, stop: threading.Event) -> None:
        width, height = self.width, self.height
        chroma = bytes([128]) * (2 * (width // 2) * (height // 2))
        grey = bytes([128]) * (width * height)
        interval, started = 1.0 / self.fps, time.monotonic()
        index = 0
        while not stop.is_set():
            index += 1
            luma = bytearray(grey)
            bar = (index * 8) % width
            for y in range(HEIGHT_NEEDED + 16, height):
                luma[y * width + bar : y * width + min(width, bar + 16)] = bytes([235]) * min(16, width - bar)
            paint(luma, width, round(time.time() * 1000))
            if source.get_state(0)[1] == Gst.State.PLAYING:  # one queued before would reach the viewer stale
                picture = bytes(luma) + chroma
                buffer = Gst.Buffer.new_allocate(None, len(picture), None)
                buffer.fill(0, picture)  # a copy: new_wrapped's memory is not kept alive by PyGObject
                if source.emit("push-buffer", buffer) != Gst.FlowReturn.OK:
                    return  # the media is going away
            stop.wait(max(0.0, started + index * interval - time.monotonic()))


class MediaRegistry:
    """The media made for each path, for the ``rtcp`` query."""

    def __init__(self) -> None:
        self.medias: dict[str, list] = {}

    def watch(self, path: str, factory) -> None:
        factory.connect(
            "media-configure", lambda _factory, media: self.medias.setdefault(path, []).append(media)
        )

    def receiver_reports(self, path: str) -> tuple[int, int]:
        reports, highest = 0, 0
        for media in self.medias.get(path, []):
            for index in range(media.n_streams()):
                session = media.get_stream(index).get_rtpsession()
                if session is None:
                    continue
                stats = session.get_property("stats")
                for source in stats.get_value("source-stats") or []:
                    if source.get_value("internal") or not source.get_value("have-rb"):
                        continue
                    reports += 1
                    highest = max(highest, source.get_value("rb-exthighestseq") or 0)
        return reports, highest


def build_server(
    args: argparse.Namespace,
) -> tuple[GstRtspServer.RTSPServer, dict[str, ValveMount], MediaRegistry]:
    server = GstRtspServer.RTSPServer()
    server.set_address(args.address)
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    valves: dict[str, ValveMount] = {}
    registry = MediaRegistry()
    protocols = GstRtsp.RTSPLowerTrans(0)
    for name in (args.protocols or "tcp,udp").split(","):
        if name not in PROTOCOLS:
            raise SystemExit(f"bad --protocols {args.protocols!r}: want a list of {', '.join(PROTOCOLS)}")
        protocols |= getattr(GstRtsp.RTSPLowerTrans, PROTOCOLS[name])
    for spec in args.mount:
        path, _, kind = spec.partition("=")
        width, height = args.width, args.height
        if "@" in kind and not kind.startswith(FILE_KIND):
            kind, _, size = kind.partition("@")
            width, height = (int(part) for part in size.split("x"))
        if (kind not in KINDS and not kind.startswith(FILE_KIND)) or not path.startswith("/"):
            raise SystemExit(
                f"bad --mount {spec!r}: want /path=KIND[@WxH] with KIND one of {', '.join(KINDS)}, {FILE_KIND}PATH"
            )
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch_line(kind, width, height, args.fps, args.keyframe_s))
        factory.set_protocols(protocols)
        registry.watch(path, factory)
        factory.connect("media-configure", answer_not_seekable)
        if kind == "valve":
            factory.set_shared(False)
            valve = ValveMount()
            factory.connect("media-configure", valve.on_media_configure)
            valves[path] = valve
        else:
            factory.set_shared(True)
        if kind.startswith(FILE_KIND):
            factory.connect("media-configure", date_file_frames)
        if kind == "timecode":
            factory.connect("media-configure", TimeCodeFrames(width, height, args.fps).on_media_configure)
        if args.user:
            factory.set_permissions(viewer_permissions())
        mounts.add_factory(path, factory)
    if args.user:
        # Every mount then needs these credentials; anyone else gets 401.
        auth = GstRtspServer.RTSPAuth()
        if args.digest:
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
            auth.add_digest(args.user, args.password or "", role_token("viewer"))
        else:
            auth.add_basic(
                GstRtspServer.RTSPAuth.make_basic(args.user, args.password or ""), role_token("viewer")
            )
        server.set_auth(auth)
    return server, valves, registry


def viewer_permissions():
    permissions = GstRtspServer.RTSPPermissions()
    permissions.add_permission_for_role("viewer", "media.factory.access", True)
    permissions.add_permission_for_role("viewer", "media.factory.construct", True)
    return permissions


def role_token(role: str):
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, role)
    return token


def drop_path(server: GstRtspServer.RTSPServer, path: str) -> None:
    """Remove the mount and disconnect every client with a session on it (each of the test's
    readers has a connection of its own per path, so no other path's client is touched)."""
    server.get_mount_points().remove_factory(path)

    def on_path(client, *_args) -> bool:
        found = []

        def probe(_client, session, *_rest):
            found.extend(media for media in session.filter(None) if media.matches(path)[0])
            return GstRtspServer.RTSPFilterResult.KEEP

        client.session_filter(probe)
        return bool(found)

    server.client_filter(
        lambda _server, client, *_args: (
            GstRtspServer.RTSPFilterResult.REMOVE if on_path(client) else GstRtspServer.RTSPFilterResult.KEEP
        )
    )


def serve_control(
    valves: dict[str, ValveMount],
    registry: MediaRegistry,
    loop: GLib.MainLoop,
    server: GstRtspServer.RTSPServer,
    paths: set[str],
) -> None:
    """Read control lines from stdin; apply them on the GLib main loop and answer."""

    def apply(verb: str, path: str) -> bool:
        if verb == "drop":
            drop_path(server, path)
            paths.discard(path)
        else:
            valves[path].set_dropping(verb == "stall")
        print(f"ok {verb} {path}", flush=True)
        return False

    def report(path: str) -> bool:
        reports, highest = registry.receiver_reports(path)
        print(f"ok rtcp {path} reports={reports} highest={highest}", flush=True)
        return False

    for line in sys.stdin:
        verb, _, path = line.strip().partition(" ")
        if (verb in ("stall", "resume") and path in valves) or (verb == "drop" and path in paths):
            GLib.idle_add(apply, verb, path)
        elif verb == "rtcp" and path:
            GLib.idle_add(report, path)
        elif verb == "quit":
            break
        elif verb:
            print(f"error unknown command {line.strip()!r}", flush=True)
    else:  # told apart from a crash when a test finds the server gone (RtspServerProcess.kill)
        print("stdin closed: quitting", file=sys.stderr, flush=True)
    GLib.idle_add(loop.quit)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mount", action="append", default=[], help="/path=KIND")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--digest", action="store_true", help="digest authentication instead of basic")
    parser.add_argument("--protocols", help="lower transports offered, e.g. udp (default: tcp,udp)")
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--keyframe-s", type=float, default=1.0)
    args = parser.parse_args()
    Gst.init(None)
    server, valves, registry = build_server(args)
    if server.attach(None) == 0:
        print(f"error cannot listen on {args.address}:{args.port}", flush=True)
        sys.exit(1)
    loop = GLib.MainLoop()
    paths = {spec.partition("=")[0] for spec in args.mount}
    threading.Thread(target=serve_control, args=(valves, registry, loop, server, paths), daemon=True).start()
    print(f"ready {args.port}", flush=True)
    loop.run()
