"""The keyframe pool: every camera's keyframe worker on a few shared threads, none starved, none backlogged."""

from __future__ import annotations

import threading

from tests.video.test_keyframes import demux, wait_for
from watchwall.config.site import DemoSource
from watchwall.video.ingest.demo_source import ensure_demo_clip
from watchwall.video.ingest.fanout import Fanout
from watchwall.video.ingest.keyframe_pool import KeyframePool
from watchwall.video.ingest.keyframes import THUMBNAIL_EVENT, KeyframeWorker
from watchwall.video.state.events import MemorySink


def pool_threads(pool: KeyframePool) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("keyframes-") and t in pool._threads]


def test_six_cameras_share_two_threads_and_each_gets_its_thumbnails(tmp_path):
    clip = ensure_demo_clip("pool", DemoSource(), "pool Archives", tmp_path)
    pool = KeyframePool(threads=2)
    sink = MemorySink()
    cameras = [f"cam{index}" for index in range(6)]
    fanouts = {camera: Fanout(camera) for camera in cameras}
    workers = {
        camera: KeyframeWorker(
            camera, fanouts[camera], sink, interval_s=5.0, thumbnail_dir=tmp_path, pool=pool
        )
        for camera in cameras
    }
    packets = demux(clip, "pool", loops=3)
    keyframes = sum(packet.is_keyframe for packet in packets)
    for worker in workers.values():
        worker.start()
    try:
        assert len(pool_threads(pool)) == 2
        # cam0 is flooded first, as fast as it can be published: it must not hold the others back,
        # and what it cannot keep up with is dropped, not queued.
        for packet in packets:
            fanouts["cam0"].publish(packet)
        for camera in cameras[1:]:
            for packet in packets:
                fanouts[camera].publish(packet)
        for camera, worker in workers.items():
            (subscription,) = fanouts[camera].subscribers
            assert subscription.maxsize == 1
            assert wait_for(
                lambda w=worker, s=subscription: s.pending() == 0 and w.processed + s.dropped == keyframes
            ), camera
            assert worker.thumbnails >= 1 and (tmp_path / f"{camera}.jpg").exists(), camera
            assert worker.running
        assert {payload["camera_id"] for payload in sink.payloads(THUMBNAIL_EVENT)} == set(cameras)
        assert len(pool_threads(pool)) == 2, "no thread per camera"
    finally:
        for worker in workers.values():
            worker.stop()
    assert not any(worker.running for worker in workers.values())
    assert all(fanout.subscribers == () for fanout in fanouts.values())
    assert wait_for(lambda: pool.threads_alive == 0), "with no camera left the pool's threads end"
