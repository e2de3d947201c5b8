"""The fan-out's batch hand-over (the RTSP loop publishes a tick's packets at once, the recorder
takes all that queued up) keeps what each consumer receives, drops and counts."""

from __future__ import annotations

import dataclasses
import threading
from fractions import Fraction

from watchwall.video.ingest.fanout import Fanout
from watchwall.video.ingest.health import CameraHealth
from watchwall.video.ingest.packet import MediaPacket, StreamInfo

INFO = StreamInfo("h264", 320, 240, Fraction(1, 90000))


def packets(count: int) -> list[MediaPacket]:
    return [
        MediaPacket(
            "c", bytes([index % 256]) * 10, index, index, 3600, index % 5 == 0, False, INFO, 0.0, index
        )
        for index in range(count)
    ]


def consumers(fanout: Fanout):
    return (
        fanout.subscribe("all", maxsize=7),
        fanout.subscribe("keyframes", maxsize=1, keyframes_only=True),
        fanout.subscribe("big", maxsize=100),
    )


def test_publishing_in_batches_gives_every_consumer_what_one_by_one_gives():
    stream = packets(53)
    one_by_one, batched = Fanout("c"), Fanout("c")
    singles, batches = consumers(one_by_one), consumers(batched)
    for packet in stream:
        one_by_one.publish(packet)
    for start in range(0, len(stream), 4):  # a tick's few frames at a time
        batched.publish_many(stream[start : start + 4])
    assert batched.published == one_by_one.published == 53
    for single, batch in zip(singles, batches, strict=True):
        assert (batch.delivered, batch.dropped) == (single.delivered, single.dropped)
        assert [p.pts for p in batch.take(timeout=0)] == [p.pts for p in single.take(timeout=0)]
    assert batches[0].take(timeout=0) == []  # taken: the queue is empty
    # the newest kept: the last 7 packets, the last keyframe
    assert singles[0].dropped == 46 and batches[1].dropped == 10


def test_a_late_subscriber_starts_at_the_last_keyframe_after_batches():
    fanout = Fanout("c")
    fanout.publish_many(packets(13))
    late = fanout.subscribe("late", from_last_keyframe=True)
    assert [p.pts for p in late.take(timeout=0)] == [10, 11, 12]


def test_take_waits_for_a_batch_and_returns_empty_once_closed():
    fanout = Fanout("c")
    subscription = fanout.subscribe("r")
    threading.Timer(0.05, fanout.publish_many, args=(packets(3),)).start()
    assert [p.pts for p in subscription.take(timeout=5)] == [0, 1, 2]
    assert subscription.pending() == 0
    fanout.publish_many(packets(3))
    drained = subscription.drain(timeout=5)
    # drained one by one, pending() shows what a consumer taking one packet at a time would
    assert [(p.pts, subscription.pending()) for p in drained] == [(0, 2), (1, 1), (2, 0)]
    assert subscription.take(timeout=0.01) == []
    subscription.close()
    assert subscription.take(timeout=5) == []


def test_the_health_snapshot_as_a_dict_is_what_asdict_gives_with_its_own_containers():
    health = CameraHealth("c", centre="gangu")
    for packet in packets(12):
        health.packet(packet, packet.pts / 25)
    health.retrying(0.5, 2, "stream ended")
    snapshot = dataclasses.replace(
        health.snapshot({"recorder:c": 3}), streams={"main": {"state": "online", "packets": 12}}
    )
    values = snapshot.as_dict()
    assert values == dataclasses.asdict(snapshot)
    assert list(values) == [field.name for field in dataclasses.fields(snapshot)]
    values["gaps"].append({}), values["dropped"].clear(), values["streams"]["main"].clear()
    values["retry"].clear()
    assert snapshot.as_dict() == dataclasses.asdict(snapshot) != values
