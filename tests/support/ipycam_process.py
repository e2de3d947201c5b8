"""Start and stop the virtual ONVIF camera (``ipycam_launcher.py``) from the test process.

The camera runs under ipycam's own venv, made by ``.ci/ipycam-setup.sh``. In CI (``CI`` set)
a missing venv is an error; on a workstation the setup script is run once to make it.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = Path(__file__).with_name("ipycam_launcher.py")
SETUP_SCRIPT = ROOT / ".ci" / "ipycam-setup.sh"


def ipycam_venv() -> Path:
    explicit = os.environ.get("WATCHWALL_IPYCAM_VENV")
    if explicit:
        return Path(explicit)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "watchwall-test" / "ipycam-venv"


def ipycam_python() -> Path:
    """The interpreter of ipycam's venv; raises RuntimeError with the fix when it is missing."""
    python = ipycam_venv() / "bin" / "python"
    if python.exists():
        return python
    if os.environ.get("CI"):
        raise RuntimeError(f"ipycam venv missing at {python.parent.parent}: run bash {SETUP_SCRIPT} first")
    subprocess.run(["bash", str(SETUP_SCRIPT)], check=True, timeout=600)
    return python


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@dataclass
class IpycamProcess:
    """One running camera; ``ready`` is the launcher's READY payload."""

    process: subprocess.Popen
    host: str
    onvif_port: int
    rtsp_port: int
    ready: dict = field(default_factory=dict)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.onvif_port}"

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        # The camera spawns one ffmpeg per RTSP client, in its own process group.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=timeout)
        if self.process.stdout:
            self.process.stdout.close()


def start_ipycam(
    workdir: Path,
    *,
    host: str = "127.0.0.1",
    rtsp: bool = True,
    user: str = "",
    password_env: str = "",
    clock_offset: float = 0.0,
    name: str = "Test Camera",
    mode: str = "camera",
    command_prefix: list[str] | None = None,
    env: dict[str, str] | None = None,
    ready_timeout: float = 60.0,
) -> IpycamProcess:
    onvif_port = free_port() if host == "127.0.0.1" else 8080
    rtsp_port = (free_port() if host == "127.0.0.1" else 8554) if rtsp else 0
    command = [*(command_prefix or []), str(ipycam_python()), str(LAUNCHER)]
    command += [
        "--mode",
        mode,
        "--host",
        host,
        "--onvif-port",
        str(onvif_port),
        "--rtsp-port",
        str(rtsp_port),
    ]
    command += ["--workdir", str(workdir), "--name", name, "--clock-offset", str(clock_offset)]
    if user:
        command += ["--user", user, "--password-env", password_env]
    log = open(workdir / "ipycam.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=log,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    log.close()
    camera = IpycamProcess(process, host, onvif_port, rtsp_port)
    deadline = time.monotonic() + ready_timeout
    line = b""
    while time.monotonic() < deadline and process.poll() is None:
        readable, _, _ = select.select([process.stdout], [], [], 0.5)
        if readable:
            line = process.stdout.readline()
            if line.startswith(b"READY "):
                camera.ready = json.loads(line[len(b"READY ") :])
                return camera
    camera.stop()
    errors = (workdir / "ipycam.log").read_text(errors="replace")[-2000:]
    raise RuntimeError(f"ipycam did not become ready within {ready_timeout:g} s: {line!r}\n{errors}")
