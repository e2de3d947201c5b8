"""The live routes' WebSocket: simple-websocket's server, made to end cleanly.

Two things go wrong at the end of a socket otherwise. simple-websocket sends from two threads
(the route's frames, and its reader thread's answer to the browser's close frame), so a frame
can follow the close frame on the wire; and werkzeug writes an HTTP response once the route
returns. Browsers take either for a broken connection (Chromium: "Invalid frame header").
"""

from __future__ import annotations

import socket
import threading

import flask
from simple_websocket import ConnectionClosed, Server
from wsproto.connection import ConnectionState

CLOSE_REPLY_WAIT_S = 2.0  # how long a closing socket waits for the browser's close frame


class LiveSocket(Server):
    """Sends and the handling of the browser's frames take turns, and nothing is sent once
    either side has started closing."""

    def __init__(self, *args, **kwargs) -> None:
        self._turn = threading.Lock()  # the handshake in Server.__init__ already needs it
        super().__init__(*args, **kwargs)

    def _open(self) -> None:
        if self.ws.state is not ConnectionState.OPEN:
            raise ConnectionClosed(self.close_reason, self.close_message)

    def send(self, data) -> None:
        with self._turn:
            self._open()
            super().send(data)

    def close(self, reason=None, message=None) -> None:
        with self._turn:
            self._open()
            super().close(reason, message)

    def _handle_events(self):  # runs on the reader thread; answers a close frame
        with self._turn:
            return super()._handle_events()


class SerialSocket:
    """The connection's socket, whose sends do not interleave and are always whole.

    simple-websocket's reader thread sends its pings with ``sock.send`` outside any lock of
    ours; while a slow viewer's send buffer is full, the kernel lets two blocked sends
    interleave their bytes, and a ping inside a video frame breaks the stream. ``send`` also
    returned what the kernel took, which simple-websocket does not check: ``sendall`` here."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._lock = threading.Lock()

    def send(self, data) -> int:
        with self._lock:
            self._sock.sendall(data)
        return len(data)

    def recv(self, size: int) -> bytes:
        return self._sock.recv(size)

    def fileno(self) -> int:
        return self._sock.fileno()

    def close(self) -> None:
        self._sock.close()


SOCKET_KEYS = ("werkzeug.socket", "gunicorn.socket")


def accept(environ: dict) -> LiveSocket:
    # The client's offer of permessage-deflate is left out: H.264 does not compress, and
    # deflating every frame costs both ends CPU for nothing.
    handshake = {key: value for key, value in environ.items() if key != "HTTP_SEC_WEBSOCKET_EXTENSIONS"}
    for key in SOCKET_KEYS:
        if key in handshake:
            handshake[key] = SerialSocket(handshake[key])
    return LiveSocket.accept(handshake, ping_interval=10)


def end(ws: LiveSocket, environ: dict) -> None:
    """The close handshake, then the end of the TCP connection (the server closes it first)."""
    try:
        ws.close()
    except (ConnectionClosed, OSError):
        pass  # the browser closed first; the reader thread has answered its close frame
    ws.thread.join(CLOSE_REPLY_WAIT_S)  # the reader thread ends on the browser's close frame
    raw = environ.get("werkzeug.socket")
    if raw is not None:
        try:
            raw.shutdown(socket.SHUT_RDWR)  # else werkzeug waits here for a next HTTP request
        except OSError:
            pass


class Ended(flask.Response):
    """What a WebSocket route returns once its socket is closed: werkzeug treats a
    ConnectionError as a dropped connection and gunicorn a StopIteration as a finished one;
    neither writes an HTTP response then (the signals flask-sock gives them too)."""

    def __call__(self, environ, start_response):
        if "werkzeug.socket" in environ:
            raise ConnectionError("WebSocket closed")
        if "gunicorn.socket" in environ:
            raise StopIteration
        return []
