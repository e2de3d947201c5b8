"""KeyframeWorker on real H.264 packets: thumbnails at the interval, decode only what is needed, tamper alarms."""

from __future__ import annotations

import ctypes
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from watchwall.config.site import DemoSource
from watchwall.video.ingest.demo_source import ensure_demo_clip
from watchwall.video.ingest.fanout import Fanout
from watchwall.video.ingest.keyframes import ALARM_EVENT, THUMBNAIL_EVENT, KeyframeWorker
from watchwall.video.ingest.packet import MediaPacket, StreamInfo
from watchwall.video.state.events import MemorySink

START = 1_790_000_000.0  # the wall clock of the first packet, in seconds
DEADLINE_S = 20.0
PR_SET_NAME = 15  # linux/prctl.h


def wait_for(condition, timeout: float = DEADLINE_S) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def demux(path: Path, camera_id: str, loops: int = 1) -> list[MediaPacket]:
    """The file's packets as the reader would publish them, looped, dated by their timestamps."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        context = stream.codec_context
        info = StreamInfo(
            codec=context.name,
            width=context.width,
            height=context.height,
            time_base=stream.time_base,
            extradata=context.extradata,
            profile=context.profile,
            pix_fmt=context.pix_fmt,
            average_rate=stream.average_rate,
        )
        raw = [(bytes(p), p.pts, p.dts, p.duration, p.is_keyframe) for p in container.demux(stream) if p.size]
    loop_ticks = raw[-1][1] + raw[-1][3]
    packets = []
    for loop in range(loops):
        for data, pts, dts, duration, keyframe in raw:
            pts, dts = pts + loop * loop_ticks, dts + loop * loop_ticks
            packets.append(
                MediaPacket(
                    camera_id=camera_id,
                    data=data,
                    pts=pts,
                    dts=dts,
                    duration=duration,
                    is_keyframe=keyframe,
                    is_corrupt=False,
                    stream=info,
                    arrival=time.monotonic(),
                    wallclock=START + float(pts * info.time_base),
                    sequence=len(packets),
                )
            )
    return packets


def encode(frames: list[np.ndarray], path: Path, fps: int, gop: int) -> Path:
    """Encode grey frames to H.264 as a camera would: fixed GOP, no B-frames."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        stream.bit_rate = 800_000
        stream.options = {
            "preset": "veryfast",
            "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0",
        }
        for index, grey in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), format="bgr24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@pytest.fixture(scope="module")
def demo_clip(tmp_path_factory) -> Path:
    # 10 s at 15 fps with a keyframe every 30 frames: a keyframe every 2 s.
    return ensure_demo_clip(
        "qinan-archives-1", DemoSource(), "qinan-archives-1 Archives", tmp_path_factory.mktemp("clips")
    )


def test_thumbnails_come_at_the_interval_and_other_keyframes_are_not_decoded(demo_clip, tmp_path):
    sink = MemorySink()
    worker = KeyframeWorker(
        "qinan-archives-1",
        Fanout("qinan-archives-1"),
        sink,
        interval_s=5.0,
        thumbnail_dir=tmp_path,
        centre="qinan",
    )
    decoded_at = [
        p.wallclock - START for p in demux(demo_clip, "qinan-archives-1", loops=3) if worker.handle(p)
    ]
    # Keyframes every 2 s over 30 s: 0, 2, ... 28. Due every 5 s: 0, 6, 12, 18, 24.
    assert decoded_at == pytest.approx([0, 6, 12, 18, 24])
    assert (worker.keyframes_seen, worker.decodes, worker.skipped) == (15, 5, 10)
    assert worker.thumbnails == 5 and worker.decode_errors == 0
    assert worker.latest_at == pytest.approx(START + 24)
    thumbnail = cv2.imdecode(np.frombuffer(worker.latest_jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert thumbnail.shape == (180, 320, 3)
    assert (tmp_path / "qinan-archives-1.jpg").read_bytes() == worker.latest_jpeg
    assert [path.name for path in tmp_path.iterdir()] == ["qinan-archives-1.jpg"], "no temporary file is left"
    events = sink.events
    assert [name for name, _, _ in events] == [THUMBNAIL_EVENT] * 5
    assert all(room == "qinan" for _, _, room in events)
    assert events[0][1] == {
        "camera_id": "qinan-archives-1",
        "centre": "qinan",
        "at": "2026-09-21T14:13:20.000Z",
    }
    assert worker.alarm_log == [] and worker.active_alarms == {}


def test_corrupt_keyframes_are_counted_and_the_next_good_one_is_used(demo_clip):
    worker = KeyframeWorker("cam", Fanout("cam"), MemorySink(), interval_s=5.0, analytics=False)
    packets = [p for p in demux(demo_clip, "cam") if p.is_keyframe]
    garbage = bytes(range(256)) * 8
    broken = [
        MediaPacket(**{**vars(packets[0]), "data": garbage, "is_corrupt": True}),
        MediaPacket(**{**vars(packets[0]), "data": packets[0].data[: len(packets[0].data) // 3]}),
    ]
    handled = [worker.handle(packet) for packet in [*broken, packets[1]]]
    assert handled == [False, False, True]
    assert worker.decode_errors == 2 and worker.decodes == 3 and worker.thumbnails == 1
    assert worker.latest_at == packets[1].wallclock


def test_thumbnails_and_analytics_start_no_threads_of_their_own(demo_clip, tmp_path):
    """The scaling runs on the worker's thread: libswscale left to choose starts a thread a core
    for each scaler. Native threads take their creator's name, so the ones named as this test's
    thread are its own and those it started."""
    name = b"kf-threads-test"
    packets = [p for p in demux(demo_clip, "cam") if p.is_keyframe][:3]
    seen: dict[str, object] = {}

    def named_threads() -> int:
        count = 0
        for task in Path("/proc/self/task").iterdir():
            try:
                count += (task / "comm").read_bytes().strip() == name
            except OSError:  # the task ended meanwhile
                pass
        return count

    def work() -> None:
        ctypes.CDLL(None).prctl(PR_SET_NAME, name, 0, 0, 0)
        worker = KeyframeWorker("cam", Fanout("cam"), MemorySink(), interval_s=0.0, thumbnail_dir=tmp_path)
        seen["handled"] = [worker.handle(packet) for packet in packets]
        seen["threads"] = named_threads()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(DEADLINE_S)
    assert seen["handled"] == [True, True, True]
    assert seen["threads"] == 1


def test_worker_thread_drops_old_keyframes_instead_of_queueing_them(demo_clip, tmp_path):
    fanout = Fanout("cam-threaded")
    sink = MemorySink()
    worker = KeyframeWorker("cam-threaded", fanout, sink, interval_s=5.0, thumbnail_dir=tmp_path)
    worker.start()
    try:
        (subscription,) = fanout.subscribers
        assert subscription.maxsize == 1 and subscription.keyframes_only
        packets = demux(demo_clip, "cam-threaded", loops=4)
        for packet in packets:  # as fast as possible: the worker cannot keep up, and must not fall behind
            fanout.publish(packet)
        keyframes = sum(packet.is_keyframe for packet in packets)
        assert wait_for(
            lambda: subscription.pending() == 0 and worker.processed + subscription.dropped == keyframes
        )
        assert worker.thumbnails >= 1 and (tmp_path / "cam-threaded.jpg").exists()
        # Paced like a live camera, every keyframe is seen and one in each 5 s is decoded.
        seen, thumbnails = worker.processed, worker.thumbnails
        sink.clear()
        later = demux(demo_clip, "cam-threaded", loops=8)[len(packets) :]
        for packet in later:
            fanout.publish(packet)
            if packet.is_keyframe:
                target = seen + 1
                assert wait_for(lambda target=target: worker.processed >= target)
                seen = target
        # Keyframes every 2 s, a thumbnail due every 5 s: one each 6 s over the 40 s.
        stamps = [_seconds(payload["at"]) for payload in sink.payloads(THUMBNAIL_EVENT)]
        assert worker.thumbnails - thumbnails == len(stamps) in (6, 7)
        assert [b - a for a, b in zip(stamps, stamps[1:], strict=False)] == pytest.approx(
            [6.0] * (len(stamps) - 1)
        )
    finally:
        worker.stop()
    assert not worker.running and fanout.subscribers == ()


def tamper_phases(tmp_path: Path, fps: int) -> tuple[list[np.ndarray], dict[str, tuple[float, float]]]:
    """A real demo scene, then covered, blurred, turned and frozen in turn, with normal spells between."""
    source = ensure_demo_clip(
        "tamper", DemoSource(fps=fps, seconds=4, gop=fps), "tamper Interview room", tmp_path
    )
    with av.open(str(source)) as container:
        scene = [frame.to_ndarray(format="gray") for frame in container.decode(video=0)]

    def normal(count: int, at: int) -> list[np.ndarray]:
        return [scene[(at + i) % len(scene)] for i in range(count)]

    def osd_on(picture: np.ndarray, index: int) -> np.ndarray:
        picture = picture.copy()
        cv2.putText(
            picture, f"tamper 10:00:{index // fps:02d}", (10, 340), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 1
        )
        return picture

    plan = [("normal", 8), ("covered", 6), ("normal", 8), ("defocus", 6), ("normal", 8), ("moved", 8)]
    plan += [("normal", 8), ("frozen", 20), ("normal", 8)]
    frames: list[np.ndarray] = []
    windows: dict[str, tuple[float, float]] = {}
    for kind, seconds in plan:
        count, begin = seconds * fps, len(frames)
        if kind == "normal":
            frames += normal(count, begin)
        elif kind == "covered":
            frames += [osd_on(np.full_like(scene[0], 6), begin + i) for i in range(count)]
        elif kind == "defocus":
            frames += [cv2.GaussianBlur(frame, (0, 0), 5) for frame in normal(count, begin)]
        elif kind == "moved":
            frames += [np.roll(frame, (60, 200), axis=(0, 1)) for frame in normal(count, begin)]
        elif kind == "frozen":
            frames += [scene[0]] * count
        if kind != "normal":
            windows[kind] = (begin / fps, (begin + count) / fps)
    return frames, windows


def test_tamper_alarms_are_raised_in_their_spell_and_cleared_after_it(tmp_path):
    fps = 5
    frames, windows = tamper_phases(tmp_path, fps)
    clip = encode(frames, tmp_path / "tamper.mp4", fps=fps, gop=fps)
    sink = MemorySink()
    worker = KeyframeWorker("tamper", Fanout("tamper"), sink, interval_s=1.0, centre="gangu")
    for packet in demux(clip, "tamper"):
        worker.handle(packet)
    assert worker.decode_errors == 0 and worker.decodes == len(frames) // fps
    log = worker.alarm_log
    assert sorted(entry["kind"] for entry in log) == ["covered", "defocus", "frozen", "moved"], log
    for entry in log:
        begin, end = windows[entry["kind"]]
        start_s = _seconds(entry["start"])
        end_s = _seconds(entry["end"])
        assert begin <= start_s < end, entry
        assert end <= end_s < end + 5, entry
        assert entry["camera_id"] == "tamper" and entry["centre"] == "gangu" and entry["active"] is False
    assert worker.active_alarms == {}
    alarms = [(payload["kind"], payload["active"]) for payload in sink.payloads(ALARM_EVENT)]
    assert alarms == [
        ("covered", True),
        ("covered", False),
        ("defocus", True),
        ("defocus", False),
        ("moved", True),
        ("moved", False),
        ("frozen", True),
        ("frozen", False),
    ]
    raised = sink.payloads(ALARM_EVENT)[0]
    assert raised["end"] is None and set(raised) == {
        "camera_id",
        "centre",
        "kind",
        "active",
        "start",
        "end",
        "detail",
    }


def _seconds(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp() - START
