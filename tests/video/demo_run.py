"""The five-minute run of the shipped demo site, started as the session starts so it overlaps the suite.

`watchwall ingest --seconds 300` is its own process: the test that reads its report waits only for
what is left of the five minutes when it comes to run, instead of five minutes of its own.
"""

from __future__ import annotations

import atexit
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from watchwall.config.settings import DEMO_SITE

ROOT = Path(__file__).resolve().parents[2]
# one camera of each demo pattern of the shipped site, as the wall shows them
CAMERAS = ("tianshui-command-1", "qinzhou-checkin-1", "tianshui-entrance-1")
SECONDS = 300

_run: tuple[subprocess.Popen, Path] | None = None


def start() -> None:
    """Start the run once (the session's start, or the test itself when run alone)."""
    global _run
    if _run is not None:
        return
    folder = Path(tempfile.mkdtemp(prefix="watchwall-demo-run-"))
    env = {"WATCHWALL_DATA_DIR": str(folder), "PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"}
    args = [sys.executable, "-m", "watchwall.roles.cli", "ingest", "--site", str(DEMO_SITE)]
    args += ["--seconds", str(SECONDS), "--json"]
    for camera in CAMERAS:
        args += ["--camera", camera]
    process = subprocess.Popen(
        args,
        env=env,
        cwd=ROOT,
        stdout=(folder / "report.json").open("wb"),
        stderr=(folder / "stderr.log").open("wb"),
    )
    _run = process, folder
    atexit.register(_stop)


def report(timeout: float = 480) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of the run, waiting for its end (within ``timeout`` seconds)."""
    start()
    process, folder = _run
    process.wait(timeout=timeout)
    return (
        process.returncode,
        (folder / "report.json").read_text(errors="replace"),
        (folder / "stderr.log").read_text(errors="replace"),
    )


def _stop() -> None:
    if _run is None:
        return
    process, folder = _run
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)
    shutil.rmtree(folder, ignore_errors=True)
