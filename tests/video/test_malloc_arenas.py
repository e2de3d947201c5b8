"""The ingest caps glibc's malloc arenas: threads that would each get an arena share a few."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from watchwall.video.ingest.malloc_arenas import arenas_wanted

PROGRAM = """
import ctypes, sys, threading
from watchwall.video.ingest.malloc_arenas import cap_malloc_arenas
print(cap_malloc_arenas(), flush=True)
barrier = threading.Barrier(8)
def work():
    barrier.wait(timeout=20)
    kept = [bytearray(4096 + i) for i in range(200)]  # past pymalloc: malloc itself
    barrier.wait(timeout=20)
threads = [threading.Thread(target=work) for _ in range(8)]
for thread in threads: thread.start()
for thread in threads: thread.join(30)
ctypes.CDLL(None).malloc_stats()  # one "Arena N:" block per arena, on stderr
"""


def arenas_used(setting: str) -> tuple[str, int]:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    env["WATCHWALL_MALLOC_ARENAS"] = setting
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout.strip(), sum(1 for line in done.stderr.splitlines() if line.startswith("Arena "))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_threads_share_the_capped_arenas():
    applied, capped = arenas_used("2")
    default, uncapped = arenas_used("0")
    assert applied == "2" and default == "None"
    assert 1 <= capped <= 2
    assert uncapped > capped  # without the cap the eight threads got arenas of their own


@pytest.mark.parametrize("raw", ["-1", "two", "1.5"])
def test_a_bad_setting_is_refused_by_name(raw):
    with pytest.raises(ValueError, match="WATCHWALL_MALLOC_ARENAS"):
        arenas_wanted({"WATCHWALL_MALLOC_ARENAS": raw})


def test_the_default_is_two_and_zero_leaves_glibc_alone():
    assert arenas_wanted({}) == 2
    assert arenas_wanted({"WATCHWALL_MALLOC_ARENAS": "0"}) == 0
