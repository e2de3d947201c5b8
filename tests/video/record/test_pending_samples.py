"""The compiled pending samples (video/record/_fragments.c) against their Python reference
(video.record.pending_samples.PythonPendingSamples): the same outcomes, fragments and state after
every call, on a real encoded clip with and without the depacketiser's unit counts, and on random
packets of every framing with merged, backwards and far-apart timestamps; the same errors; no
reference to a packet kept once its fragment is made."""

from __future__ import annotations

import random
import struct
import subprocess
import sys

import pytest

from tests.video.record.recording_media import h264_clip
from watchwall.config.compiled_paths import pure_python_asked
from watchwall.video.codec.nal import length_prefixed
from watchwall.video.record import pending_samples
from watchwall.video.record.pending_samples import (
    APPENDED,
    FRAGMENT_DUE,
    MERGED_OR_DROPPED,
    PythonPendingSamples,
    mp4_sample,
)

try:
    from watchwall.video.record import _fragments
except ImportError:  # the suite installs the package with its extension: this is a build fault
    _fragments = None

TICKS = 90_000


def compiled():
    assert _fragments is not None, "the C extension was not built: pip install -e . with a C compiler"
    return _fragments.PendingSamples


def state(samples) -> tuple:
    return len(samples), samples.first_dts, samples.last_dts, samples.sequence


def run_both(calls, fragment_ticks: int = TICKS) -> list:
    """Every call on both implementations; what each returned (or raised), compared call by call."""
    both = (compiled()(fragment_ticks, mp4_sample), PythonPendingSamples(fragment_ticks, mp4_sample))
    record = []
    for call in calls:
        results = []
        for samples in both:
            try:
                if call[0] == "flush":
                    result = samples.flush(call[1])
                else:
                    result = samples.add(*call[1:])
                    if result == FRAGMENT_DUE:
                        result = (result, samples.take_fragment())
            except Exception as exc:  # noqa: BLE001 - the two must fail alike
                result = (type(exc), str(exc))
            results.append((result, state(samples)))
        assert results[0] == results[1], call[:1] + call[2:]
        record.append(results[0])
    return record


def clip_calls(counted: bool) -> list:
    info, raw = h264_clip(6.0, gop=30)
    calls = []
    for packet in raw:
        data = packet.data if packet.data.startswith(b"\x00\x00\x00\x01") else b"\x00" + packet.data
        units = data.count(b"\x00\x00\x01") if counted else 0
        calls.append(("add", data, units, packet.dts - raw[0].dts, 0, packet.is_keyframe))
    return [*calls, ("flush", None)]


@pytest.mark.parametrize("counted", [True, False])
def test_a_real_clip_makes_the_same_fragments(counted):
    record = run_both(clip_calls(counted))
    fragments = [result[1] for result, _ in record if isinstance(result, tuple) and result[0] == FRAGMENT_DUE]
    keyframes = [call for call in clip_calls(counted) if call[0] == "add" and call[5]]
    assert len(fragments) >= len(keyframes) - 1  # one at least at every keyframe after the first
    assert sum(count for _, count in fragments) + record[-1][0][1] == 150
    assert all(data[4:8] == b"moof" for data, _ in fragments)


def random_packet(rng: random.Random) -> tuple[bytes, int]:
    """(packet bytes, the unit count a depacketiser would give or 0) of some framing."""
    body = bytes(rng.randrange(1, 256) for _ in range(rng.randrange(1, 300)))
    kind = rng.randrange(8)
    if kind <= 2:
        return b"\x00\x00\x00\x01" + body, rng.choice([0, 1])
    if kind == 3:
        return b"\x00\x00\x00\x01\x67ab\x00\x00\x00\x01\x68c\x00\x00\x01" + body, rng.choice([0, 3])
    if kind == 4:
        return b"\x00\x00\x01" + body, 0
    if kind == 5:
        return length_prefixed([b"\x0b", body]), 0  # length-prefixed, and it starts 00 00 00 01
    if kind == 6:
        return rng.choice([b"\x00\x00\x00\x01", b"", b"\x00\x00\x00\x01\x00\x00"]), 0
    return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40))), 0


def test_random_packets_and_timestamps_make_the_same_fragments():
    rng = random.Random(20261207)
    calls, dts = [], 0
    for _ in range(3000):
        data, units = random_packet(rng)
        roll = rng.random()
        if roll < 0.1:
            pass  # the same picture again: merged
        elif roll < 0.15:
            dts -= rng.randrange(1, 9000)  # backwards: dropped
        elif roll < 0.17:
            dts += rng.randrange(90_000, 400_000)  # a gap longer than a fragment
        else:
            dts += 3600
        calls.append(("add", data, units, max(dts, 0), rng.randrange(-7200, 7200), rng.random() < 0.05))
        if rng.random() < 0.003:
            calls.append(("flush", rng.choice([None, 0, 3600])))
    record = run_both([*calls, ("flush", 1800)])
    outcomes = [
        result if isinstance(result, int) else result[0] for result, _ in record[:-1] if result is not None
    ]
    assert {MERGED_OR_DROPPED, APPENDED, FRAGMENT_DUE} <= set(outcomes)


def test_fields_out_of_range_and_failed_conversions_fail_alike():
    def refuse(data):
        raise ValueError("not a packet")

    run_both(
        [
            ("add", b"\x00\x00\x00\x01\x41x", 1, 0, 1 << 31, False),
            ("add", b"\x00\x00\x00\x01\x41y", 1, 9000, 0, True),
        ]
    )
    run_both(
        [
            ("add", b"\x00\x00\x00\x01\x41x", 1, 0, 0, False),
            ("add", b"\x00\x00\x00\x01\x41y", 1, 1 << 33, 0, False),
        ]
    )
    for samples in (compiled()(TICKS, refuse), PythonPendingSamples(TICKS, refuse)):
        with pytest.raises(ValueError, match="not a packet"):
            samples.add(b"\x00\x00\x01\x41", 0, 0, 0, True)
        assert len(samples) == 0
        with pytest.raises(RuntimeError, match="no fragment is due"):
            samples.take_fragment()
        assert samples.flush(None) is None
    with pytest.raises(struct.error):
        samples = compiled()(TICKS, mp4_sample)
        samples.add(b"\x00\x00\x00\x01\x41x", 1, 0, 1 << 31, False)
        samples.flush(None)


def test_a_packet_is_released_once_its_fragment_is_made():
    """The compiled samples hold each packet's bytes until its fragment is built, then let go:
    a node recording for weeks keeps no packet it has written (nor one it dropped)."""
    samples = compiled()(TICKS, mp4_sample)
    kept, merged, dropped = (b"\x00\x00\x00\x01\x41" + bytes([n]) * 5000 for n in (1, 2, 3))

    def references():
        return sys.getrefcount(kept), sys.getrefcount(merged), sys.getrefcount(dropped)

    before = references()
    samples.add(kept, 1, 9000, 0, True)
    samples.add(merged, 1, 9000, 0, False)
    samples.add(dropped, 1, 3600, 0, False)
    assert references() == (before[0] + 1, before[1] + 1, before[2])
    assert samples.add(b"\x00\x00\x00\x01\x41z", 1, 12_600, 0, True) == FRAGMENT_DUE
    data, count = samples.take_fragment()
    assert count == 1 and data.endswith(kept[4:] + (5001).to_bytes(4, "big") + merged[4:])
    assert references() == before


def test_the_extension_is_what_the_recorder_runs():
    """Built here, and chosen unless WATCHWALL_PURE_PYTHON asks for Python: 1 for every compiled
    path, ``recording`` for this one only, ``rtsp`` for the RTSP loop's only."""
    assert pending_samples.PendingSamples is compiled()
    assert "compiled" in pending_samples.describe()
    program = (
        "from watchwall.video.record import pending_samples; from watchwall.video.rtsp import hot_path; "
        "print(pending_samples.describe().split()[0], hot_path.describe().split()[0])"
    )
    chosen = {}
    for value in ("1", "recording", "rtsp", "0"):
        forced = subprocess.run(
            [sys.executable, "-c", program],
            env={"WATCHWALL_PURE_PYTHON": value, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        chosen[value] = forced.stdout.split()
    assert chosen == {
        "1": ["Python", "Python"],
        "recording": ["Python", "compiled"],
        "rtsp": ["compiled", "Python"],
        "0": ["compiled", "compiled"],
    }
    with pytest.raises(ValueError, match="unknown compiled path 'hevc'"):
        pure_python_asked("hevc")
