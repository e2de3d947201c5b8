"""Another make of RTSP server for interop tests: Debian's rtsp-server-perl (Perl's RTSP::Server).

Unlike GStreamer's server it serves no file itself: ffmpeg publishes a clip to its source port
(ANNOUNCE/RECORD, with ffmpeg's own SDP) and cameras are read from its client port. It offers RTP
over UDP only and answers an RTP-over-TCP SETUP with an error, as some cameras' servers do.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SERVER = "/usr/bin/rtsp-server-perl"


def installed() -> bool:
    return Path(SERVER).exists() and shutil.which("ffmpeg") is not None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PerlRtspServer:
    log_dir: Path
    client_port: int = field(default_factory=_free_port)
    source_port: int = field(default_factory=_free_port)
    processes: list[subprocess.Popen] = field(default_factory=list)

    def start(self) -> PerlRtspServer:
        rtp_base = 30000 + (self.client_port % 1000) * 20
        self._spawn(
            "server",
            [
                SERVER,
                "--clientport", str(self.client_port),
                "--serverport", str(self.source_port),
                "--client_listen_address", "127.0.0.1",
                "--source_listen_address", "127.0.0.1",
                "--rtp_start_port", str(rtp_base),
                "--loglevel", "2",
            ],
        )  # fmt: skip
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.source_port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("rtsp-server-perl did not listen within 15 s")

    def publish(self, clip: Path, path: str) -> str:
        """ffmpeg publishes ``clip`` in a loop at its own pace; returns the URL a camera client reads."""
        self._spawn(
            f"publish{path.replace('/', '-')}",
            [
                "ffmpeg", "-nostdin", "-loglevel", "warning", "-re", "-stream_loop", "-1", "-i", str(clip),
                "-an", "-c", "copy", "-f", "rtsp", f"rtsp://127.0.0.1:{self.source_port}{path}",
            ],
        )  # fmt: skip
        return f"rtsp://127.0.0.1:{self.client_port}{path}"

    def _spawn(self, name: str, command: list[str]) -> None:
        log = (self.log_dir / f"perl-rtsp-{name}.log").open("ab")
        self.processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))

    def kill(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
