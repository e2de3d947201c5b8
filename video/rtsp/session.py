"""One RTSP session: RTP interleaved on the RTSP connection (RFC 2326 10.12), or over UDP.

The transport is ``tcp``, ``udp`` or ``auto``: TCP first, and UDP when the server refuses RTP over
TCP (``461 Unsupported Transport``, or ``400 Bad Request`` as some cameras answer). Over UDP the
packets go through a reorder buffer (:mod:`watchwall.video.rtsp.udp`); on both transports the
client sends RTCP receiver reports (:mod:`watchwall.video.rtsp.rtcp`) every few seconds.

:meth:`RtspSession.open` runs the handshake (DESCRIBE, SETUP, PLAY, with Basic or Digest
authentication) on a blocking socket, in short slices so a stop request is honoured within
a quarter of a second. After PLAY the socket is non-blocking and :meth:`RtspSession.pump`
drains whatever has arrived: the caller (:class:`watchwall.video.rtsp.loop.RtspLoop`) calls it for all
its sessions a few dozen times a second, which is what makes this cheaper than one FFmpeg
demuxer per camera waking for every RTP packet.
"""

from __future__ import annotations

import random
import re
import socket
import struct
import threading
import time
from urllib.parse import urlsplit

from watchwall.video.ingest.source_url import split_credentials
from watchwall.video.ingest.stream_errors import AUTH, CONFIG, NOT_FOUND, PROTOCOL, UNREACHABLE, StreamFailure
from watchwall.video.rtsp.auth import Credentials, parse_challenges
from watchwall.video.rtsp.depacketize import AccessUnit, Depacketizer
from watchwall.video.rtsp.hot_path import media_frames
from watchwall.video.rtsp.messages import MAX_MESSAGE, Response, content_length, parse_head
from watchwall.video.rtsp.rtcp import ReceptionStats, next_interval
from watchwall.video.rtsp.sdp import VideoMedia, parse_sdp
from watchwall.video.rtsp.udp import ReorderBuffer, UdpPorts

USER_AGENT = "WatchWall"
SLICE_S = 0.25  # the longest a blocking step waits before looking at the stop request
MAX_GARBAGE = 256 * 1024  # bytes between frames before the stream is declared broken
RECEIVE_CHUNK = 256 * 1024
MAX_OUTGOING = 64 * 1024  # requests and reports not yet taken by the server: more means it reads nothing
TCP, UDP, AUTO = "tcp", "udp", "auto"
TRANSPORTS = (AUTO, TCP, UDP)
TRANSPORT_REFUSALS = (461, 400)  # 461 Unsupported Transport; some cameras answer 400 Bad Request
INTERLEAVED = "RTP/AVP/TCP;unicast;interleaved=0-1"
_FRAME = struct.Struct("!BBH")  # an interleaved frame's header (RFC 2326 10.12): '$', channel, length


class TransportRefused(StreamFailure):
    """The server answered SETUP with a refusal of the transport asked for."""

    def __init__(self, detail: str, transport: str) -> None:
        super().__init__(PROTOCOL, detail)
        self.transport = transport


class RtspSession:
    def __init__(
        self,
        url: str,
        display: str,
        open_timeout_s: float,
        stop: threading.Event | None = None,
        transport: str = AUTO,
    ) -> None:
        if transport not in TRANSPORTS:
            raise StreamFailure(
                CONFIG, f"{display}: transport {transport!r} is not one of {', '.join(TRANSPORTS)}"
            )
        username, password, url = split_credentials(url)
        parts = urlsplit(url)
        if parts.scheme.lower() != "rtsp" or not parts.hostname:
            raise StreamFailure(CONFIG, f"not an rtsp:// URL: {display}")
        self.display = display
        try:
            self.host, self.port = parts.hostname, parts.port or 554
        except ValueError as exc:
            raise StreamFailure(CONFIG, f"{display}: {exc}") from exc
        self.url = url  # never the credentials on the wire
        self.credentials = Credentials(username, password or "") if username is not None else None
        self.open_timeout_s = open_timeout_s
        self._stop = stop or threading.Event()
        self._sock: socket.socket | None = None
        self._buffer = bytearray()
        self._cseq = 0
        self.session_id: str | None = None
        self.keepalive_s = 30.0
        self._last_keepalive = 0.0
        self.media: VideoMedia | None = None
        self.depacketizer: Depacketizer | None = None
        self.channel = 0
        self.session_url = self.url
        self.last_data = 0.0
        self.bytes_received = 0
        self._garbage = 0
        self.requested_transport = transport
        self.transport: str | None = None  # what the session runs over, once SETUP succeeded
        self.udp: UdpPorts | None = None
        self.reorder: ReorderBuffer | None = None
        self.stats: ReceptionStats | None = None
        self._outgoing = bytearray()
        self._control_open = True
        self._rng = random.Random()
        self._next_report = 0.0

    # --- handshake -----------------------------------------------------------------------------

    def _connect(self, deadline: float) -> None:
        try:
            self._sock = socket.create_connection(
                (self.host, self.port), timeout=max(0.1, deadline - time.monotonic())
            )
        except OSError as exc:
            raise StreamFailure(UNREACHABLE, f"{self.display}: {exc.strerror or exc}") from exc
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self._buffer.clear()

    def open(self) -> VideoMedia:
        deadline = time.monotonic() + self.open_timeout_s
        self._connect(deadline)
        describe = self._request("DESCRIBE", self.url, {"Accept": "application/sdp"}, deadline)
        base = describe.header("content-base") or describe.header("content-location") or self.url
        media, self.session_url = parse_sdp(describe.body.decode("utf-8", "replace"), base)
        setup = self._setup(media, deadline)
        session = setup.header("session")
        if not session:
            raise StreamFailure(PROTOCOL, f"{self.display}: SETUP answered without a session")
        self.session_id, _, parameters = session.partition(";")
        self.session_id = self.session_id.strip()
        timeout = re.search(r"timeout\s*=\s*(\d+)", parameters)
        if timeout:
            self.keepalive_s = max(5.0, int(timeout.group(1)) / 2)
        if self.transport == TCP:
            channels = re.search(r"interleaved\s*=\s*(\d+)", setup.header("transport") or "")
            self.channel = int(channels.group(1)) if channels else 0
        self.stats = ReceptionStats(media.clock_rate)
        self._request("PLAY", self.session_url, {"Range": "npt=0.000-"}, deadline)
        self.media = media
        self.depacketizer = Depacketizer(media.codec, media.payload_type)
        self._sock.setblocking(False)
        self.last_data = self._last_keepalive = now = time.monotonic()
        if self.udp is not None:
            self.udp.send_control(self.stats.report(now))  # opens the way back through a NAT
        self._next_report = now + next_interval(self._rng)
        return media

    def _setup(self, media: VideoMedia, deadline: float) -> Response:
        """SETUP over the transport asked for; ``auto`` tries TCP, then UDP if TCP is refused."""
        order = {AUTO: (TCP, UDP), TCP: (TCP,), UDP: (UDP,)}[self.requested_transport]
        refused = False
        for lower in order:
            try:
                try:
                    setup = self._setup_over(lower, media, deadline)
                except StreamFailure as exc:
                    if not refused or exc.kind != UNREACHABLE or self._stop.is_set():
                        raise
                    # Some servers close the connection after refusing a transport: a SETUP needs no
                    # DESCRIBE before it on a new connection (RFC 2326 10.4).
                    self._sock.close()
                    self._connect(deadline)
                    setup = self._setup_over(lower, media, deadline)
            except TransportRefused:
                if lower == order[-1]:
                    raise
                refused = True
                continue
            self.transport = lower
            return setup
        raise AssertionError("unreachable")

    def _setup_over(self, lower: str, media: VideoMedia, deadline: float) -> Response:
        if lower == TCP:
            return self._request("SETUP", media.control_url, {"Transport": INTERLEAVED}, deadline)
        local, peer = self._sock.getsockname()[0], self._sock.getpeername()[0]
        ports = UdpPorts(local, self._sock.family)
        try:
            setup = self._request("SETUP", media.control_url, {"Transport": ports.transport}, deadline)
            ports.accept(setup.header("transport"), peer, self.display)
        except BaseException:
            ports.close()
            raise
        self.udp, self.reorder = ports, ReorderBuffer()
        return setup

    def _request(self, method: str, url: str, headers: dict[str, str], deadline: float) -> Response:
        response = self._exchange(method, url, headers, deadline)
        if response.status == 401 and self.credentials is not None and not self.credentials.ready:
            if self.credentials.accept(parse_challenges(response.all("www-authenticate"))):
                response = self._exchange(method, url, headers, deadline)
        if response.status in (401, 403):
            needs = "refused the credentials" if self.credentials else "needs credentials"
            raise StreamFailure(
                AUTH, f"{self.display}: {method} {response.status} {response.reason} ({needs})"
            )
        if response.status == 404:
            raise StreamFailure(NOT_FOUND, f"{self.display}: {method} {response.status} {response.reason}")
        if method == "SETUP" and response.status in TRANSPORT_REFUSALS:
            over = "UDP" if "client_port" in headers.get("Transport", "") else "TCP"
            hint = {"TCP": "set transport: udp or auto", "UDP": "set transport: tcp or auto"}[over]
            raise TransportRefused(
                f"{self.display}: SETUP {response.status} {response.reason} (RTP over {over} refused; {hint})",
                over.lower(),
            )
        if response.status == 503:
            raise StreamFailure(UNREACHABLE, f"{self.display}: {method} {response.status} {response.reason}")
        if not 200 <= response.status < 300:
            raise StreamFailure(PROTOCOL, f"{self.display}: {method} {response.status} {response.reason}")
        return response

    def _message(self, method: str, url: str, headers: dict[str, str]) -> bytes:
        self._cseq += 1
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self._cseq}", f"User-Agent: {USER_AGENT}"]
        if self.session_id:
            lines.append(f"Session: {self.session_id}")
        if self.credentials is not None and self.credentials.ready:
            lines.append(f"Authorization: {self.credentials.header(method, url)}")
        lines += [f"{key}: {value}" for key, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")

    def _exchange(self, method: str, url: str, headers: dict[str, str], deadline: float) -> Response:
        assert self._sock is not None
        try:
            self._sock.sendall(self._message(method, url, headers))
        except OSError as exc:
            raise StreamFailure(UNREACHABLE, f"{self.display}: {exc.strerror or exc}") from exc
        while True:
            response = self._take_response()
            if response is not None:
                return response
            self._receive_blocking(deadline)

    def _receive_blocking(self, deadline: float) -> None:
        assert self._sock is not None
        while True:
            if self._stop.is_set():
                raise StreamFailure(UNREACHABLE, f"{self.display}: stopped while opening")
            left = deadline - time.monotonic()
            if left <= 0:
                raise StreamFailure(
                    UNREACHABLE, f"{self.display}: no answer within {self.open_timeout_s:g} s"
                )
            self._sock.settimeout(min(SLICE_S, left))
            try:
                self._receive(65536)
            except TimeoutError:
                continue
            return

    def _receive(self, size: int) -> bytes:
        """One recv into the buffer. A closed connection or a socket error is the stream's failure;
        TimeoutError and BlockingIOError pass through (nothing has arrived yet)."""
        try:
            chunk = self._sock.recv(size)
        except (TimeoutError, BlockingIOError, InterruptedError):
            raise
        except OSError as exc:
            raise StreamFailure(UNREACHABLE, f"{self.display}: {exc.strerror or exc}") from exc
        if not chunk:
            raise StreamFailure(UNREACHABLE, f"{self.display}: the camera closed the connection")
        self._buffer += chunk
        return chunk

    def _take_response(self) -> Response | None:
        """The answer at the head of the buffer during the handshake, if it has all arrived."""
        buffer = self._buffer
        while buffer[:1] == b"$":  # media before the PLAY answer: nothing to keep yet
            if len(buffer) < 4 or len(buffer) < 4 + ((buffer[2] << 8) | buffer[3]):
                return None
            del buffer[: 4 + ((buffer[2] << 8) | buffer[3])]
        if len(buffer) >= 5 and not buffer.startswith(b"RTSP/"):
            raise StreamFailure(PROTOCOL, f"{self.display}: the answer is not RTSP")
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > MAX_MESSAGE:
                raise StreamFailure(PROTOCOL, f"{self.display}: an RTSP answer without end")
            return None
        status_line, headers = parse_head(bytes(buffer[:end]))
        length = content_length(headers)
        if len(buffer) < end + 4 + length:
            return None
        body = bytes(buffer[end + 4 : end + 4 + length])
        del buffer[: end + 4 + length]
        fields = status_line.split(" ", 2)
        try:
            status = int(fields[1])
        except (IndexError, ValueError) as exc:
            raise StreamFailure(
                PROTOCOL, f"{self.display}: unreadable status line {status_line[:60]!r}"
            ) from exc
        return Response(status, fields[2] if len(fields) > 2 else "", headers, body)

    # --- streaming -----------------------------------------------------------------------------

    def pump(self, now: float, out: list[AccessUnit]) -> None:
        """Take in all that arrived; append the access units it completes to ``out``."""
        assert self._sock is not None and self.depacketizer is not None
        received = False
        while self._control_open:
            try:
                chunk = self._receive(RECEIVE_CHUNK)
            except (BlockingIOError, InterruptedError):
                break
            except StreamFailure:
                if self.udp is None:
                    raise
                # Over UDP the session outlives its RTSP connection (RFC 2326 1.1: a session is not a
                # connection); the RTCP reports keep it alive.
                self._control_open = False
                break
            self.bytes_received += len(chunk)
            received = True
            if len(chunk) < RECEIVE_CHUNK:
                break
        if received:
            self._parse(out, now)
            if self.udp is None:
                self.last_data = now
        if self.udp is not None:
            self._pump_udp(now, out)
        if now >= self._next_report:
            self._report(now)
        if self._outgoing and self._control_open:
            self._flush_outgoing()
        if now - self._last_keepalive >= self.keepalive_s and self._control_open:
            self._keepalive(now)

    def _pump_udp(self, now: float, out: list[AccessUnit]) -> None:
        udp, stats, reorder, push = self.udp, self.stats, self.reorder, self.depacketizer.push
        datagrams = udp.receive(udp.rtp, self.display)
        ready: list[bytes] = []
        for data, arrival in datagrams:
            self.bytes_received += len(data)
            if len(data) < 12 or data[0] >> 6 != 2:
                self.depacketizer.bad_packets += 1
                continue
            stats.packet(data, 0, arrival)
            reorder.push((data[2] << 8) | data[3], data, arrival, ready)
        reorder.expire(now, ready)
        for packet in ready:
            push(packet, 0, len(packet), out)
        if datagrams:
            self.last_data = now
        for data, arrival in udp.receive(udp.rtcp, self.display):
            stats.control(data, arrival)

    def _report(self, now: float) -> None:
        """An RTCP receiver report: over UDP to the server's RTCP port, over TCP on the RTCP channel."""
        self._next_report = now + next_interval(self._rng)
        report = self.stats.report(now)
        if self.udp is not None:
            self.udp.send_control(report)
        elif len(self._outgoing) < MAX_OUTGOING:
            self._outgoing += bytes((0x24, self.channel + 1)) + len(report).to_bytes(2, "big") + report

    def _parse(self, out: list[AccessUnit], now: float) -> None:
        buffer = self._buffer
        channel = self.channel if self.udp is None else -1  # over UDP, no media is interleaved
        control = channel + 1 if self.udp is None else -1
        size = len(buffer)
        position = 0
        spans: list[tuple[int, int]] = []  # the media packets, counted and depacketised in one call each
        frame = _FRAME.unpack_from
        try:
            while size - position >= 4:
                if channel >= 0:  # a run of media frames, usually all the drain holds
                    found, position = media_frames(buffer, position, channel)
                    spans += found
                    if size - position < 4:
                        break
                dollar, frame_channel, length = frame(buffer, position)
                if dollar == 0x24:
                    end = position + 4 + length
                    if end > size:
                        break
                    if frame_channel == control:  # (media_frames took the media channel's)
                        self.stats.control(buffer[position + 4 : end], now)
                    position = end
                    continue
                skipped = self._skip_message(buffer, position, size)
                if skipped is None:
                    break
                position = skipped
        finally:
            if spans:
                self.stats.spans(buffer, spans, now)
                self.depacketizer.push_many(buffer, spans, out)
        del buffer[:position]

    def _skip_message(self, buffer: bytearray, position: int, size: int) -> int | None:
        """Past an RTSP message between frames (a keep-alive answer, a server request), or past
        garbage up to the next frame. None: the message is not complete yet."""
        if buffer.startswith(b"RTSP/", position) or re.match(
            rb"[A-Z_]+ \S+ RTSP/", buffer[position : position + 256]
        ):
            end = buffer.find(b"\r\n\r\n", position)
            if end < 0:
                if size - position > MAX_MESSAGE:
                    raise StreamFailure(PROTOCOL, f"{self.display}: an RTSP message without end")
                return None
            _, headers = parse_head(bytes(buffer[position:end]))
            after = end + 4 + content_length(headers)
            return None if after > size else after
        following = buffer.find(b"$", position + 1)
        skipped = (following if following >= 0 else size) - position
        self._garbage += skipped
        if self._garbage > MAX_GARBAGE:
            raise StreamFailure(PROTOCOL, f"{self.display}: {self._garbage} bytes of neither RTP nor RTSP")
        return position + skipped

    def _keepalive(self, now: float) -> None:
        """Servers end a session that says nothing for its timeout (60 s by default)."""
        self._last_keepalive = now
        if len(self._outgoing) < MAX_OUTGOING:
            self._outgoing += self._message("OPTIONS", self.session_url, {})
        self._flush_outgoing()

    def _flush_outgoing(self) -> None:
        """Send what waits, whole: a request or a report cut in the middle would break the framing."""
        while self._outgoing:
            try:
                sent = self._sock.send(self._outgoing)
            except (BlockingIOError, InterruptedError):
                return  # the socket's buffer is full: the rest goes next time
            except OSError as exc:
                if self.udp is not None:
                    self._control_open = False
                    self._outgoing.clear()
                    return
                raise StreamFailure(UNREACHABLE, f"{self.display}: {exc.strerror or exc}") from exc
            del self._outgoing[:sent]

    def close(self) -> None:
        sock, self._sock = self._sock, None
        udp, self.udp = self.udp, None
        if udp is not None:
            if self.stats is not None:
                udp.send_control(self.stats.goodbye(time.monotonic()))
            udp.close()
        if sock is None:
            return
        if self.session_id and self._control_open:
            try:
                sock.send(bytes(self._outgoing) + self._message("TEARDOWN", self.session_url, {}))
            except OSError:
                pass
        sock.close()
