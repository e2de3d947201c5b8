"""Demo clips (generated, cached, loopable H.264) and the shipped Tianshui site that uses them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest

from watchwall.config.settings import DEMO_SITE
from watchwall.config.site import STANDARD_ROOMS, DemoSource, load_site
from watchwall.video.ingest.demo_source import ascii_label, ensure_demo_clip

SMALL = DemoSource(pattern="room", width=320, height=180, fps=10, seconds=3, gop=10)
ROOT = Path(__file__).resolve().parents[2]


def packets_of(path: Path) -> list[av.Packet]:
    with av.open(str(path)) as container:
        return [packet for packet in container.demux(container.streams.video[0]) if packet.size]


def grey_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="gray") for frame in container.decode(video=0)]


def test_default_clip_is_h264_baseline_friendly_and_loops_on_keyframes(tmp_path):
    demo = DemoSource()
    path = ensure_demo_clip("qinzhou-checkin-1", demo, "qinzhou-checkin-1 Check-in room", tmp_path)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.codec_context.width, stream.codec_context.height) == (640, 360)
        assert stream.codec_context.profile in ("Main", "Constrained Baseline", "Baseline")
        assert stream.average_rate == 15
        time_base = stream.time_base
    packets = packets_of(path)
    assert len(packets) == demo.seconds * demo.fps
    assert [index for index, packet in enumerate(packets) if packet.is_keyframe] == list(
        range(0, 150, demo.gop)
    )
    # No B-frames: decode order is presentation order, so a reader may loop by offsetting timestamps.
    assert all(packet.pts == packet.dts for packet in packets)
    assert all(later.pts > earlier.pts for earlier, later in zip(packets, packets[1:], strict=False))
    duration_s = float((packets[-1].pts + packets[-1].duration) * time_base)
    assert duration_s == pytest.approx(demo.seconds, abs=0.01)
    bits_per_s = sum(packet.size for packet in packets) * 8 / duration_s
    assert 50_000 < bits_per_s < 2_000_000


def test_clip_is_generated_once_and_cached_by_its_parameters(tmp_path):
    first = ensure_demo_clip("gangu-education-1", SMALL, "gangu-education-1", tmp_path)
    stamp = first.stat().st_mtime_ns
    assert ensure_demo_clip("gangu-education-1", SMALL, "gangu-education-1", tmp_path) == first
    assert first.stat().st_mtime_ns == stamp
    other_label = ensure_demo_clip("gangu-education-1", SMALL, "another label", tmp_path)
    other_pattern = ensure_demo_clip(
        "gangu-education-1", SMALL.model_copy(update={"pattern": "bars"}), "x", tmp_path
    )
    assert len({first, other_label, other_pattern}) == 3
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        p.name for p in (first, other_label, other_pattern)
    )


@pytest.mark.parametrize("pattern", ["room", "bars", "counter"])
def test_every_pattern_moves_and_its_last_frame_leads_back_to_the_first(tmp_path, pattern):
    demo = SMALL.model_copy(update={"pattern": pattern})
    frames = grey_frames(ensure_demo_clip(f"cam-{pattern}", demo, f"cam-{pattern}", tmp_path))
    assert len(frames) == demo.seconds * demo.fps
    # The label band at the top and the clock at the bottom change at the wrap by design; look between them.
    scene = [frame[40:-30].astype(np.int16) for frame in frames]
    steps = [float(np.abs(b - a).mean()) for a, b in zip(scene, scene[1:], strict=False)]
    wrap = float(np.abs(scene[0] - scene[-1]).mean())
    assert min(steps) > 0, "something must move in every frame"
    assert wrap <= 2 * max(steps), f"a jump at the loop point: {wrap:.2f} vs steps up to {max(steps):.2f}"


def test_a_killed_generation_leaves_no_clip_behind(tmp_path):
    # Long enough that it is still encoding when killed; it is killed as soon as it starts writing.
    script = (
        "import sys; from pathlib import Path; from config.site import DemoSource;"
        "from watchwall.video.ingest.demo_source import ensure_demo_clip;"
        "ensure_demo_clip('cam-long', DemoSource(width=1280, height=720, seconds=600), 'long', Path(sys.argv[1]))"
    )
    process = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(
            path.stat().st_size for path in tmp_path.glob(".cam-long-*")
        ):
            assert process.poll() is None, "the generator ended before it could be interrupted"
            time.sleep(0.02)
        assert any(tmp_path.glob(".cam-long-*")), "no temporary file appeared within 30 s"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    assert not list(tmp_path.glob("cam-long-*.mp4")), "a half-written clip took the final name"
    (leftover,) = tmp_path.glob(".cam-long-*.mp4")
    clip = ensure_demo_clip("cam-long", SMALL, "long", tmp_path)
    assert len(packets_of(clip)) == SMALL.seconds * SMALL.fps
    assert leftover.exists(), "a recent temporary may belong to a generator still at work"
    an_hour_ago = time.time() - 3700
    os.utime(leftover, (an_hour_ago, an_hour_ago))
    ensure_demo_clip("cam-long", SMALL, "other label", tmp_path)
    assert not leftover.exists(), "a temporary left by a dead generator is cleaned up"


def test_labels_are_reduced_to_what_opencv_can_draw():
    assert ascii_label("qinzhou-checkin-1  报到登记室 Check-in") == "qinzhou-checkin-1 Check-in"
    assert ascii_label("报到登记室") == ""


def test_shipped_tianshui_site_has_the_city_and_seven_county_centres():
    site = load_site(DEMO_SITE)
    assert site.timezone == "Asia/Shanghai"
    codes = [centre.code for centre in site.centres]
    assert codes == ["tianshui", "qinzhou", "maiji", "qingshui", "qinan", "gangu", "wushan", "zhangjiachuan"]
    (city,) = [centre for centre in site.centres if centre.level == "city"]
    assert city.name.zh == "天水市社区矫正指挥中心"
    assert any(room.standard_kind == "monitoring" for room in city.rooms)
    assert [centre.name.zh for centre in site.counties] == [
        "秦州区社区矫正中心",
        "麦积区社区矫正中心",
        "清水县社区矫正中心",
        "秦安县社区矫正中心",
        "甘谷县社区矫正中心",
        "武山县社区矫正中心",
        "张家川回族自治县社区矫正中心",
    ]
    for centre in site.centres:
        assert centre.coordinates is not None
        assert 34.3 < centre.coordinates.lat < 35.2 and 104.5 < centre.coordinates.lon < 106.5
        assert all(room.standard_kind in STANDARD_ROOMS for room in centre.rooms)
        assert all(1 <= len(room.cameras) <= 2 for room in centre.rooms)
    for county in site.counties:
        assert {"checkin", "announcement", "admonition", "counselling", "education"} <= {
            r.code for r in county.rooms
        }
        assert 5 <= len(county.cameras()) <= 8
    places = site.cameras()
    assert 40 <= len(places) <= 60
    for place in places:
        demo = place.camera.demo
        assert demo is not None, f"{place.camera.id} is not a demo camera"
        assert (demo.width, demo.height, demo.fps) == (640, 360, 15)
        assert place.camera.id.startswith(f"{place.centre.code}-{place.room.code}-")
