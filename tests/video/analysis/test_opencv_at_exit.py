"""A process whose daemon threads are inside OpenCV when it exits ends with its own exit code.

Without the exit hook of watchwall.video.analysis.opencv_at_exit, Python 3.11/3.12 end such a thread with
pthread_exit inside OpenCV's GIL-taking destructor and the process aborts (SIGABRT, "terminate called
without an active exception"): the five-minute demo run's ``watchwall ingest`` ended so once in CI.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import pytest

from watchwall.video.analysis.opencv_at_exit import InterpreterExiting, _Door

RUNS = 4

BUSY_THREADS = textwrap.dedent(
    """
    import sys, threading, time
    import cv2, numpy as np
    from watchwall.video.analysis.opencv_at_exit import InterpreterExiting, opencv_work

    picture = np.random.default_rng(1).integers(0, 255, (1080, 1920, 3), dtype=np.uint8)
    calls = [0, 0]

    def blur(slot):
        try:
            for _ in range(100_000):
                with opencv_work():
                    cv2.GaussianBlur(picture, (31, 31), 0)
                calls[slot] += 1
        except InterpreterExiting:
            pass

    for slot in (0, 1):
        threading.Thread(target=blur, args=(slot,), daemon=True).start()
    deadline = time.monotonic() + 30
    while min(calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    print(min(calls), flush=True)
    sys.exit(3)
    """
)


def _run(script: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout)


def test_daemon_threads_inside_opencv_do_not_abort_the_exit():
    for _ in range(RUNS):
        result = _run(BUSY_THREADS)
        assert "terminate called" not in result.stderr, result.stderr[-2000:]
        assert result.returncode == 3, (result.returncode, result.stderr[-2000:])
        assert int(result.stdout) >= 2  # both threads were calling OpenCV when the exit began


LIVE_DEMOS = textwrap.dedent(
    """
    import sys, time
    import av
    from watchwall.config.site import DemoSource
    from watchwall.video.ingest.demo_live import LiveDemo
    from watchwall.video.analysis.opencv_at_exit import calls_in_progress

    containers = []
    for index in range(2):
        source = LiveDemo(f"demo-{index}", DemoSource(pattern="room", width=1920, height=1080), "Room").open()
        containers.append(av.open(source.url, options=source.options, timeout=(10, 10)))
    packets = 0
    for _ in range(10):  # the encoders run: their pipes are read
        for container in containers:
            packets += next(container.demux(container.streams.video[0])).size > 0
    deadline = time.monotonic() + 10
    while calls_in_progress() == 0 and time.monotonic() < deadline:
        time.sleep(0)
    print(packets, calls_in_progress(), flush=True)
    sys.exit(3)  # an encoder is drawing its next frame with OpenCV
    """
)


def test_a_process_ending_while_its_demo_cameras_encode_exits_cleanly():
    for _ in range(RUNS):
        result = _run(LIVE_DEMOS)
        assert "terminate called" not in result.stderr, result.stderr[-2000:]
        assert result.returncode == 3, (result.returncode, result.stderr[-2000:])
        packets, drawing = map(int, result.stdout.split())
        assert packets == 20 and drawing >= 1


def test_the_door_waits_for_calls_inside_and_refuses_new_ones():
    door = _Door()
    inside, release = threading.Event(), threading.Event()

    def call():
        with door.work():
            inside.set()
            release.wait(10)

    worker = threading.Thread(target=call)
    worker.start()
    assert inside.wait(10)
    assert door.close(timeout=0.05) is False  # a call is still inside
    with pytest.raises(InterpreterExiting):
        with door.work():
            pass
    threading.Timer(0.1, release.set).start()
    started = time.monotonic()
    assert door.close(timeout=10) is True
    assert time.monotonic() - started < 5
    worker.join(10)
    assert door.inside == 0


def test_a_call_that_fails_leaves_the_door():
    door = _Door()
    with pytest.raises(ValueError):
        with door.work():
            raise ValueError("cv2.error")
    assert door.inside == 0
    assert door.close(timeout=0) is True
