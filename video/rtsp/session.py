"""One RTSP session over TCP, RTP interleaved on the same connection (RFC 2326 10.12).

:meth:`RtspSession.open` runs the handshake (DESCRIBE, SETUP, PLAY, with Basic or Digest
authentication) on a blocking socket, in short slices so a stop request is honoured within
a quarter of a second. After PLAY the socket is non-blocking and :meth:`RtspSession.pump`
drains whatever has arrived: the caller (:class:`watchwall.video.rtsp.loop.RtspLoop`) calls it for all
its sessions a few dozen times a second, which is what makes this cheaper than one FFmpeg
demuxer per camera waking for every RTP packet.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from urllib.parse import unquote, urlsplit

from watchwall.video.ingest.source_url import split_userinfo
from watchwall.video.ingest.stream_errors import AUTH, CONFIG, NOT_FOUND, PROTOCOL, UNREACHABLE, StreamFailure
from watchwall.video.rtsp.auth import Credentials, parse_challenges
from watchwall.video.rtsp.depacketize import AccessUnit, Depacketizer
from watchwall.video.rtsp.sdp import VideoMedia, parse_sdp

USER_AGENT = "WatchWall"
SLICE_S = 0.25  # the longest a blocking step waits before looking at the stop request
MAX_MESSAGE = 64 * 1024  # an RTSP answer longer than this is not an answer
MAX_GARBAGE = 256 * 1024  # bytes between frames before the stream is declared broken
RECEIVE_CHUNK = 256 * 1024


def split_credentials(url: str) -> tuple[str | None, str | None, str]:
    """(user, password, URL without them), percent-decoded; raw passwords work too."""
    userinfo, bare = split_userinfo(url)
    if userinfo is None:
        return None, None, url
    user, _, password = userinfo.partition(":")
    return unquote(user), unquote(password), bare


class Response:
    def __init__(self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status, self.reason, self.headers, self.body = status, reason, headers, body

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key == name), None)

    def all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key == name]


def parse_head(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    lines = head.decode("utf-8", "replace").split("\r\n")
    headers = []
    for line in lines[1:]:
        key, colon, value = line.partition(":")
        if colon:
            headers.append((key.strip().lower(), value.strip()))
    return lines[0], headers


def content_length(headers: list[tuple[str, str]]) -> int:
    value = next((v for k, v in headers if k == "content-length"), "0")
    try:
        length = int(value)
    except ValueError as exc:
        raise StreamFailure(PROTOCOL, f"unreadable Content-Length {value!r}") from exc
    if not 0 <= length <= MAX_MESSAGE:
        raise StreamFailure(PROTOCOL, f"Content-Length {length} out of range")
    return length


class RtspSession:
    def __init__(
        self, url: str, display: str, open_timeout_s: float, stop: threading.Event | None = None
    ) -> None:
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
        self.credentials = Credentials(username, password) if username is not None else None
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

    # --- handshake -----------------------------------------------------------------------------

    def open(self) -> VideoMedia:
        deadline = time.monotonic() + self.open_timeout_s
        try:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.open_timeout_s)
        except OSError as exc:
            raise StreamFailure(UNREACHABLE, f"{self.display}: {exc.strerror or exc}") from exc
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        describe = self._request("DESCRIBE", self.url, {"Accept": "application/sdp"}, deadline)
        base = describe.header("content-base") or describe.header("content-location") or self.url
        media, self.session_url = parse_sdp(describe.body.decode("utf-8", "replace"), base)
        transport = "RTP/AVP/TCP;unicast;interleaved=0-1"
        setup = self._request("SETUP", media.control_url, {"Transport": transport}, deadline)
        session = setup.header("session")
        if not session:
            raise StreamFailure(PROTOCOL, f"{self.display}: SETUP answered without a session")
        self.session_id, _, parameters = session.partition(";")
        self.session_id = self.session_id.strip()
        timeout = re.search(r"timeout\s*=\s*(\d+)", parameters)
        if timeout:
            self.keepalive_s = max(5.0, int(timeout.group(1)) / 2)
        channels = re.search(r"interleaved\s*=\s*(\d+)", setup.header("transport") or "")
        self.channel = int(channels.group(1)) if channels else 0
        self._request("PLAY", self.session_url, {"Range": "npt=0.000-"}, deadline)
        self.media = media
        self.depacketizer = Depacketizer(media.codec, media.payload_type)
        self._sock.setblocking(False)
        self.last_data = self._last_keepalive = time.monotonic()
        return media

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
        self._sock.sendall(self._message(method, url, headers))
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
        while True:
            try:
                chunk = self._receive(RECEIVE_CHUNK)
            except (BlockingIOError, InterruptedError):
                break
            self.bytes_received += len(chunk)
            received = True
            if len(chunk) < RECEIVE_CHUNK:
                break
        if received:
            self.last_data = now
            self._parse(out)
        if now - self._last_keepalive >= self.keepalive_s:
            self._keepalive(now)

    def _parse(self, out: list[AccessUnit]) -> None:
        buffer = self._buffer
        push = self.depacketizer.push
        channel = self.channel
        size = len(buffer)
        position = 0
        while size - position >= 4:
            if buffer[position] == 0x24:
                length = (buffer[position + 2] << 8) | buffer[position + 3]
                if size - position - 4 < length:
                    break
                if buffer[position + 1] == channel:
                    push(buffer, position + 4, position + 4 + length, out)
                position += 4 + length
                continue
            skipped = self._skip_message(buffer, position, size)
            if skipped is None:
                break
            position = skipped
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
        try:
            self._sock.send(self._message("OPTIONS", self.session_url, {}))
        except (BlockingIOError, InterruptedError):
            pass  # the socket's buffer is full of our own requests: try again next time
        except OSError as exc:
            raise StreamFailure(UNREACHABLE, f"{self.display}: {exc.strerror or exc}") from exc

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is None:
            return
        if self.session_id:
            try:
                sock.send(self._message("TEARDOWN", self.session_url, {}))
            except OSError:
                pass
        sock.close()
