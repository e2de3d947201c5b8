"""A cluster on one machine for the tests: ingest nodes as processes, each with its own data dir
(its own "disk"), on one PostgreSQL database and the local Redis, recording cameras of a
GStreamer RTSP server that streams a small pre-encoded clip (no encoding per camera)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import yaml
from sqlalchemy import text

from watchwall.cluster.status import read_status, status_json
from watchwall.config.database import make_engine

REDIS_URL = "redis://127.0.0.1:6379/0"


def write_annexb_clip(path: Path, seconds: int = 4, fps: int = 10) -> Path:
    """A small H.264 Annex-B clip, a keyframe every second, parameter sets repeated."""
    with av.open(str(path), "w", format="h264") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 320, 192, "yuv420p"
        stream.options = {
            "preset": "ultrafast",
            "x264-params": f"keyint={fps}:min-keyint={fps}:scenecut=0:bframes=0:repeat-headers=1",
        }
        for index in range(seconds * fps):
            picture = np.full((192, 320, 3), (index * 9) % 255, dtype=np.uint8)
            picture[:, (index * 8) % 320 :][:, :16] = 255
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def cluster_site(
    path: Path, rtsp_url, counties: dict[str, list[str]], pinned: dict[str, str] | None = None
) -> Path:
    """A site file: one centre per county, one room, the cameras given (ids), all on ``rtsp_url(id)``."""
    pinned = pinned or {}
    centres = []
    for county, cameras in counties.items():
        room = {
            "code": "checkin",
            "name": "报到登记室",
            "cameras": [
                {
                    "id": camera,
                    "name": camera,
                    "rtsp": rtsp_url(camera),
                    **({"pinned_to": pinned[camera]} if camera in pinned else {}),
                }
                for camera in cameras
            ],
        }
        centres.append({"code": county, "name": county, "level": "county", "rooms": [room]})
    path.write_text(yaml.safe_dump({"centres": centres}, allow_unicode=True), encoding="utf-8")
    return path


@dataclass
class NodeProcess:
    name: str
    data_dir: Path
    env: dict[str, str]
    args: list[str] = field(default_factory=list)
    process: subprocess.Popen | None = None

    def start(self) -> NodeProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir / "node.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "watchwall.roles.cli", "node", "--name", self.name, *self.args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self

    def log(self) -> str:
        path = self.data_dir / "node.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def signal(self, sig: int) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGCONT)
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def node_env(data_dir: Path, database_url: str, site: Path, segment_s: float = 4.0) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("WATCHWALL_")}
    env.update(
        WATCHWALL_DATA_DIR=str(data_dir),
        WATCHWALL_DATABASE_URL=database_url,
        WATCHWALL_REDIS_URL=REDIS_URL,
        WATCHWALL_SITE=str(site),
        WATCHWALL_RECORDING_SEGMENT_S=str(segment_s),
        WATCHWALL_THUMBNAIL_INTERVAL_S="30",
        # the cluster's one installation secret, beside the nodes' own data dirs (each its "disk")
        WATCHWALL_SECRET_KEY_FILE=str(data_dir.parent / "cluster_secret_key"),
        PYTHONUNBUFFERED="1",
    )
    return env


def cluster_status(env: dict[str, str]) -> dict:
    """The document ``watchwall cluster status --json`` prints, read by the same code in this process.

    The tests poll it every half second; a CLI process each time took the CPU of a busy 2-core
    machine from the nodes under test. The command itself is run by tests/cluster/test_status.py."""
    engine = make_engine(env["WATCHWALL_DATABASE_URL"])
    try:
        return json.loads(json.dumps(status_json(read_status(engine)), ensure_ascii=False))
    finally:
        engine.dispose()


def wait_for(predicate, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def query(database_url: str, sql: str, **params) -> list:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql), params))
    finally:
        engine.dispose()
