"""Start, stall, kill and restart the GStreamer RTSP test server from the test process.

Also two misbehaving peers: a TCP server that answers junk, and a port nothing listens on.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

SERVER_SCRIPT = Path(__file__).with_name("gst_rtsp_server.py")
SYSTEM_PYTHON = "/usr/bin/python3"  # the one with python3-gi; the venv has no gi
RTSP_USER = "viewer"
RTSP_PASSWORD = "Tianshui#4821-rtsp"  # with a "#", which must be percent-encoded in a URL


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.05, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class RtspServerProcess:
    """One gst_rtsp_server.py process; ``mounts`` maps a path such as ``/cam0`` to its kind."""

    def __init__(
        self,
        mounts: dict[str, str],
        port: int | None = None,
        user: str | None = None,
        password: str | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.mounts = dict(mounts)
        self.port = port or free_port()
        self.user = user
        self.password = password
        self.extra_args = extra_args
        self.process: subprocess.Popen | None = None
        self._stderr = None
        self._lines: queue.Queue[str] = queue.Queue()

    def url(self, path: str, with_credentials: bool = False) -> str:
        credentials = f"{self.user}:{self.password}@" if with_credentials and self.user else ""
        return f"rtsp://{credentials}127.0.0.1:{self.port}{path}"

    def start(self, timeout: float = 20.0) -> RtspServerProcess:
        command = [SYSTEM_PYTHON, str(SERVER_SCRIPT), "--port", str(self.port)]
        for path, kind in self.mounts.items():
            command += ["--mount", f"{path}={kind}"]
        if self.user:
            command += ["--user", self.user, "--password", self.password or ""]
        command += list(self.extra_args)
        self._lines = queue.Queue()
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
            env={**os.environ, "GST_DEBUG": "0"},
        )
        threading.Thread(target=self._read_lines, args=(self.process,), daemon=True).start()
        line = self._expect("ready", timeout)
        if line is None or not line.startswith("ready") or not wait_for_port(self.port, timeout):
            self._stderr.seek(0)
            errors = self._stderr.read()[-2000:]
            self.kill()
            raise RuntimeError(f"RTSP test server did not start on port {self.port}: {line!r}\n{errors}")
        return self

    def _read_lines(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self._lines.put(line.strip())

    def _expect(self, prefix: str, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                line = self._lines.get(timeout=min(remaining, 0.2))
            except queue.Empty:
                if self.process is None or self.process.poll() is not None:
                    return None  # it died
                continue
            if line.startswith(prefix) or line.startswith("error"):
                return line

    def _command(self, verb: str, path: str, timeout: float = 5.0) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(f"{verb} {path}\n")
        self.process.stdin.flush()
        answer = self._expect(f"ok {verb}", timeout)
        if answer != f"ok {verb} {path}":
            raise RuntimeError(f"RTSP test server did not {verb} {path}: {answer!r}")

    def receiver_reports(self, path: str, timeout: float = 5.0) -> tuple[int, int]:
        """(clients whose RTCP receiver report the server read, highest sequence one reported)."""
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(f"rtcp {path}\n")
        self.process.stdin.flush()
        answer = self._expect(f"ok rtcp {path} ", timeout)
        if answer is None or not answer.startswith(f"ok rtcp {path} "):
            raise RuntimeError(f"RTSP test server did not answer rtcp {path}: {answer!r}")
        fields = dict(item.split("=") for item in answer.split()[3:])
        return int(fields["reports"]), int(fields["highest"])

    def stall(self, path: str) -> None:
        """Drop the mount's buffers from now on; its RTSP sessions stay connected."""
        self._command("stall", path)

    def resume(self, path: str) -> None:
        self._command("resume", path)

    def drop(self, path: str) -> None:
        """The path is gone: its clients disconnected, new requests answered 404; other paths play on."""
        self._command("drop", path)

    def kill(self) -> None:
        """SIGKILL, as a crash or power cut would: no RTSP TEARDOWN, no TCP goodbye from the app."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        else:  # it ended by itself (a crash, or its stdin closed): say so in the test's warnings
            self._stderr.seek(0)
            warnings.warn(
                f"RTSP test server on port {self.port} had ended by itself, exit code "
                f"{self.process.returncode}: {self._stderr.read()[-2000:]!r}",
                stacklevel=2,
            )
        self.process.wait(timeout=10)
        for stream in (self.process.stdin, self.process.stdout, self._stderr):
            try:
                stream.close()
            except OSError:
                pass
        self.process = None

    def restart(self, timeout: float = 20.0) -> RtspServerProcess:
        """Start again on the same port."""
        self.kill()
        return self.start(timeout)


class GarbageServer:
    """Accepts TCP connections and answers anything with bytes that are not RTSP.

    With ``silent=True`` it answers nothing and holds each connection open until stopped,
    as a wedged camera does.
    """

    def __init__(self, silent: bool = False) -> None:
        self.silent = silent
        self._held: list[socket.socket] = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="garbage-server", daemon=True)

    def start(self) -> GarbageServer:
        self._thread.start()
        return self

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            if self.silent:
                self._held.append(conn)
                continue
            with conn:
                conn.settimeout(1.0)
                try:
                    conn.recv(4096)
                    conn.sendall(b"\x00\xff\xfeHELLO this is not RTSP\r\n\r\n" * 8)
                except OSError:
                    pass

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._held:
            conn.close()
        self.sock.close()


def closed_port() -> int:
    """A loopback port that refuses connections (bound then released; nothing listens on it)."""
    return free_port()
