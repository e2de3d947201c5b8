"""The benchmark's flapping cameras: threads that lose and regain their video every ``period`` seconds.

Shared by the one-process shape (``run.py --shape serve``) and the ingest node's process
(``node_process.py``, ``--shape node``).
"""

from __future__ import annotations

import os
import random
import resource
import threading
import time
from pathlib import Path

from watchwall.config.site import Site

CENTRES = ("tianshui", "qinzhou", "maiji", "qingshui", "qinan", "gangu", "wushan", "zhangjiachuan")


def site_document(cameras: int) -> dict:
    per_centre: dict[str, list] = {code: [] for code in CENTRES}
    for index in range(cameras):
        code = CENTRES[index % len(CENTRES)]
        per_centre[code].append(
            {"id": f"{code}-cam{index}", "name": f"cam {index}", "rtsp": "rtsp://127.0.0.1:9/x"}
        )
    return {
        "centres": [
            {
                "code": code,
                "name": code,
                "level": "city" if code == "tianshui" else "county",
                "rooms": [{"code": "checkin", "name": "报到登记室", "cameras": cams}],
            }
            for code, cams in per_centre.items()
        ]
    }


def make_site(cameras: int) -> Site:
    return Site.model_validate(site_document(cameras))


class Sinks:
    """The sink the camera threads emit through, and the slice they are in; switched between slices."""

    def __init__(self, plain, with_incidents) -> None:
        self.plain, self.with_incidents = plain, with_incidents
        self.current = plain
        self.slice = -1  # warm-up

    def switch(self, number: int, mode: str) -> None:
        self.current = self.plain if mode == "baseline" else self.with_incidents
        self.slice = number


class Camera(threading.Thread):
    def __init__(
        self, camera_id: str, centre: str, sinks: Sinks, period: float, stop: threading.Event
    ) -> None:
        super().__init__(name=f"camera-{camera_id}", daemon=True)
        self.camera_id, self.centre, self.sinks, self.period, self.stop = (
            camera_id,
            centre,
            sinks,
            period,
            stop,
        )
        self.cpu: dict[int, float] = {}  # slice -> thread CPU seconds spent emitting
        self.events: dict[int, int] = {}
        self.phase = random.random() * period / 2

    def run(self) -> None:
        lost = False
        if self.stop.wait(self.phase):
            return
        while not self.stop.is_set():
            lost = not lost
            sink, number = self.sinks.current, self.sinks.slice
            started = time.thread_time()
            now = time.time()
            state = "stalled" if lost else "online"
            sink.emit(
                "camera.status",
                {"camera_id": self.camera_id, "centre": self.centre, "state": state, "sent": now},
                room=self.centre,
            )
            sink.emit(
                "camera.alarm",
                {
                    "camera_id": self.camera_id,
                    "centre": self.centre,
                    "kind": "video_loss",
                    "active": lost,
                    "detail": {"state": "stalled"},
                    "sent": now,
                    "slice": number,
                },
                room=self.centre,
            )
            self.cpu[number] = self.cpu.get(number, 0.0) + time.thread_time() - started
            self.events[number] = self.events.get(number, 0) + 2
            self.stop.wait(self.period / 2)


def start_cameras(site: Site, sinks: Sinks, period: float, stop: threading.Event) -> list[Camera]:
    cameras = [Camera(place.camera.id, place.centre.code, sinks, period, stop) for place in site.cameras()]
    for camera in cameras:
        camera.start()
    return cameras


def per_slice_totals(cameras: list[Camera]) -> dict[int, dict[str, float]]:
    """Slice -> the camera threads' CPU seconds and events, summed over every camera."""
    totals: dict[int, dict[str, float]] = {}
    for camera in cameras:
        for number, seconds in camera.cpu.items():
            entry = totals.setdefault(number, {"cpu_s": 0.0, "events": 0})
            entry["cpu_s"] += seconds
            entry["events"] += camera.events.get(number, 0)
    return totals


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def thread_cpu_seconds(thread: threading.Thread) -> float:
    """Another thread's CPU time (user + system), from /proc (10 ms ticks)."""
    fields = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its live children (gunicorn's master and worker)."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        pending += [int(child) for child in children]
    return total
