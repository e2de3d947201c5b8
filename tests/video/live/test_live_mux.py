"""Live fMP4: the camera's packets remuxed (never re-encoded) and shared by viewers."""

from __future__ import annotations

import io
import time
from fractions import Fraction
from pathlib import Path

import av
import pytest

from watchwall.config.site import DemoSource
from watchwall.video.codec.fmp4 import parameter_sets_from, to_sample
from watchwall.video.codec.nal import nal_units, split_annexb
from watchwall.video.ingest.demo_source import ensure_demo_clip
from watchwall.video.ingest.fanout import Fanout
from watchwall.video.ingest.packet import MediaPacket, StreamInfo
from watchwall.video.live.channel import LiveChannel, LiveMuxer


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    demo = DemoSource(width=320, height=180, fps=15, seconds=4, gop=15)
    return ensure_demo_clip("live-test", demo, "live test", tmp_path_factory.mktemp("clips"))


def packets_of(path: Path, camera_id: str = "cam") -> list[MediaPacket]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        context = stream.codec_context
        info = StreamInfo(
            codec=context.name,
            width=context.width,
            height=context.height,
            time_base=stream.time_base,
            extradata=bytes(context.extradata) if context.extradata else None,
        )
        result = []
        for index, packet in enumerate(container.demux(stream)):
            if packet.size == 0:
                continue
            result.append(
                MediaPacket(
                    camera_id=camera_id,
                    data=bytes(packet),
                    pts=packet.pts,
                    dts=packet.dts,
                    duration=packet.duration,
                    is_keyframe=packet.is_keyframe,
                    is_corrupt=packet.is_corrupt,
                    stream=info,
                    arrival=time.monotonic(),
                    wallclock=time.time(),
                    sequence=index,
                )
            )
        return result


def decoded_frames(data: bytes) -> int:
    with av.open(io.BytesIO(data)) as container:
        return sum(1 for _ in container.decode(video=0))


SPS = bytes([0x67, 0x4D, 0x40, 0x1F, 0xAA])
PPS = bytes([0x68, 0xEE, 0x3C, 0x80])


def test_parameter_sets_and_codec_string_from_avcc_and_annexb():
    annexb = b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x01" + PPS
    avcc = (
        bytes([1, 0x4D, 0x40, 0x1F, 0xFF, 0xE1]) + len(SPS).to_bytes(2, "big") + SPS + b"\x01\x00\x04" + PPS
    )
    for extradata in (annexb, avcc):
        parameters = parameter_sets_from(extradata)
        assert (parameters.sps, parameters.pps) == (SPS, PPS)
        assert parameters.codec == "avc1.4D401F"
        assert parameter_sets_from(parameters.avcc()) == parameters
    assert parameter_sets_from(None, annexb + b"\x00\x00\x01\x65\x88") == parameter_sets_from(annexb)
    assert parameter_sets_from(None) is None


def test_samples_are_length_prefixed_without_parameter_sets():
    idr = b"\x65\x88\x84\x00"
    annexb = (
        b"\x00\x00\x00\x01\x09\xf0"
        + b"\x00\x00\x00\x01"
        + SPS
        + b"\x00\x00\x01"
        + PPS
        + b"\x00\x00\x01"
        + idr
    )
    assert split_annexb(annexb) == [b"\x09\xf0", SPS, PPS, idr]
    assert to_sample(annexb) == len(idr).to_bytes(4, "big") + idr
    assert nal_units(to_sample(annexb)) == [idr]


def test_mjpeg_is_not_muxed_for_the_browser():
    with pytest.raises(ValueError, match="H.264 and H.265 only"):
        LiveMuxer(StreamInfo("mjpeg", 640, 360, Fraction(1, 90000)))


def test_muxed_fragments_play_frame_for_frame(clip):
    packets = packets_of(clip)
    muxer = LiveMuxer(packets[0].stream)
    fragments = [fragment for packet in packets for fragment in muxer.push(packet)]
    assert muxer.init_segment is not None and muxer.init_segment[4:8] == b"ftyp"
    assert muxer.codec == parameter_sets_from(packets[0].stream.extradata).codec
    assert len(fragments) == len(packets) - 1  # one frame per fragment; the last waits for its successor
    assert [f.keyframe for f in fragments] == [p.is_keyframe for p in packets[:-1]]
    assert all(f.data[4:8] == b"moof" for f in fragments)
    assert decoded_frames(muxer.init_segment + b"".join(f.data for f in fragments)) == len(fragments)
    muxer.close()


def test_muxer_waits_for_a_keyframe_and_survives_repeated_timestamps(clip):
    packets = packets_of(clip)
    first_key = next(i for i, p in enumerate(packets) if p.is_keyframe and i > 0)
    muxer = LiveMuxer(packets[0].stream)
    assert muxer.push(packets[first_key - 1]) == [] and muxer.init_segment is None
    fragments = []
    for packet in packets[first_key:]:
        fragments += muxer.push(packet)
        fragments += muxer.push(packet)  # the same timestamps again, as a glitching camera sends
    assert decoded_frames(muxer.init_segment + b"".join(f.data for f in fragments)) == len(fragments)


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def drain(viewer, timeout: float = 0.2) -> list[tuple[str, object]]:
    messages = []
    while (message := viewer.get(timeout)) is not None:
        messages.append(message)
    return messages


def test_one_mux_many_viewers_and_a_late_joiner_starts_at_a_keyframe(clip):
    packets = packets_of(clip)
    fanout = Fanout("cam")
    channel = LiveChannel("cam", fanout, max_backlog=1000)
    first = channel.attach()
    for packet in packets[:20]:
        fanout.publish(packet)
    wait_for(lambda: channel.fragments >= 19)
    late = channel.attach()
    messages = drain(late)
    assert messages[0][0] == "init"
    codec, init = messages[0][1]
    fragments = [payload for kind, payload in messages[1:] if kind == "fragment"]
    assert fragments, "the late joiner gets the fragments since the last keyframe"
    assert decoded_frames(init + b"".join(fragments)) == len(fragments)
    assert len(fanout.subscribers) == 1, "one mux per camera, however many viewers"
    early = drain(first)
    assert sum(kind == "fragment" for kind, _ in early) == 19
    first.close()
    late.close()
    wait_for(lambda: not fanout.subscribers)  # nobody watches: the channel stops muxing


def test_a_viewer_that_falls_behind_jumps_to_the_live_edge(clip):
    packets = packets_of(clip)[:50]  # ends a few frames after a keyframe (GOP 15)
    fanout = Fanout("cam")
    channel = LiveChannel("cam", fanout, max_backlog=10)
    slow = channel.attach()
    fast = channel.attach()
    received = []
    for packet in packets:
        fanout.publish(packet)
        wait_for(lambda p=packet: channel.fragments >= p.sequence or p is packets[0])
        received += drain(fast, timeout=0.0)
    wait_for(lambda: channel.fragments == len(packets) - 1)
    received += drain(fast)
    assert sum(kind == "fragment" for kind, _ in received) == len(packets) - 1
    assert slow.jumps >= 1
    messages = drain(slow)
    kinds = [kind for kind, _ in messages]
    assert kinds[0] == "init" and "jump" in kinds
    after_jump = kinds.index("jump")
    assert len(messages) - 1 <= 10 + 2
    # after the jump the stream restarts on a keyframe, so it decodes from there
    fragments = [payload for kind, payload in messages[after_jump + 1 :] if kind == "fragment"]
    assert decoded_frames(messages[0][1][1] + b"".join(fragments)) == len(fragments)
    slow.close()
    fast.close()


def test_new_stream_parameters_reset_the_viewers(clip, tmp_path):
    packets = packets_of(clip)
    other_clip = ensure_demo_clip(
        "other", DemoSource(width=160, height=96, fps=15, seconds=2, gop=15), "o", tmp_path
    )
    other = packets_of(other_clip)
    fanout = Fanout("cam")
    channel = LiveChannel("cam", fanout, max_backlog=1000)
    viewer = channel.attach()
    for packet in packets[:10] + other[:10]:
        fanout.publish(packet)
    wait_for(lambda: channel.resets == 1 and channel.fragments >= 18)
    kinds = [kind for kind, _ in drain(viewer)]
    assert kinds.count("init") == 2 and "reset" in kinds
    assert kinds.index("reset") < len(kinds) - 1 - kinds[::-1].index("init")
    viewer.close()


def test_a_new_channel_starts_from_the_cameras_last_keyframe_at_once(clip):
    packets = packets_of(clip)
    fanout = Fanout("cam")
    for packet in packets[:20]:  # the camera runs before anyone watches
        fanout.publish(packet)
    last_key = max(i for i, p in enumerate(packets[:20]) if p.is_keyframe)
    channel = LiveChannel("cam", fanout, max_backlog=1000)
    viewer = channel.attach()
    wait_for(lambda: channel.fragments >= 20 - last_key - 1)
    messages = drain(viewer)
    assert messages[0][0] == "init", "a picture without waiting for the next keyframe"
    fragments = [payload for kind, payload in messages if kind == "fragment"]
    assert len(fragments) == 20 - last_key - 1
    assert decoded_frames(messages[0][1][1] + b"".join(fragments)) == len(fragments)
    viewer.close()


def test_fanout_hands_a_late_subscriber_the_current_gop_only_when_it_fits(clip):
    packets = packets_of(clip)[:20]
    fanout = Fanout("cam")
    for packet in packets:
        fanout.publish(packet)
    last_key = max(i for i, p in enumerate(packets) if p.is_keyframe)
    roomy = fanout.subscribe("roomy", maxsize=100, from_last_keyframe=True)
    assert roomy.pending() == len(packets) - last_key and roomy.get(0).is_keyframe
    tight = fanout.subscribe("tight", maxsize=2, from_last_keyframe=True)
    assert tight.pending() == 0
    plain = fanout.subscribe("plain")
    assert plain.pending() == 0


def test_a_first_frame_without_timestamps_still_plays(clip):
    from dataclasses import replace

    packets = packets_of(clip)[:16]
    packets[0] = replace(packets[0], pts=None, dts=None)  # as some RTSP servers (ipycam's ffmpeg) send it
    muxer = LiveMuxer(packets[0].stream)
    fragments = [fragment for packet in packets for fragment in muxer.push(packet)]
    assert fragments[0].keyframe
    assert decoded_frames(muxer.init_segment + b"".join(f.data for f in fragments)) == len(fragments) == 15


def test_viewers_of_several_channels_wake_one_waiting_thread(clip):
    """What a wall page's single socket relies on: one event set by any of its viewers."""
    import threading

    packets = packets_of(clip)[:10]
    fanouts = [Fanout("a"), Fanout("b")]
    channels = [LiveChannel(fanout.camera_id, fanout, max_backlog=1000) for fanout in fanouts]
    wakeup = threading.Event()
    viewers = [channel.attach(wakeup) for channel in channels]
    assert not wakeup.is_set()  # no camera has sent anything yet
    for packet in packets:
        fanouts[1].publish(packet)
    assert wakeup.wait(5.0), "the second camera's messages wake the waiting thread"
    wakeup.clear()
    wait_for(lambda: channels[1].fragments == len(packets) - 1)
    assert viewers[0].get(timeout=0) is None
    assert [kind for kind, _ in drain(viewers[1])][:2] == ["init", "fragment"]
    for packet in packets:
        fanouts[0].publish(packet)
    assert wakeup.wait(5.0)
    for viewer in viewers:
        viewer.close()


def test_a_main_stream_fanout_keeps_an_h265_gop_as_its_keyframe_alone_and_an_h264_one_whole(clip):
    from tests.video.live.hevc_clip import hevc_packets

    hevc = hevc_packets(frames=20, gop=15)  # a keyframe, 14 others, a keyframe, 4 others
    fanout = Fanout("cam", whole_gop_codecs=frozenset({"h264"}))
    for packet in hevc:
        fanout.publish(packet)
    live = fanout.subscribe("live", maxsize=100, from_last_keyframe=True)
    assert live.pending() == 0, "a live view of H.265 starts at the next keyframe"
    snapshot = fanout.subscribe("snapshot", maxsize=100, keyframes_only=True, from_last_keyframe=True)
    assert snapshot.pending() == 1 and snapshot.get(0) is hevc[15]
    h264 = packets_of(clip)[:20]
    for packet in h264:
        fanout.publish(packet)
    last_key = max(i for i, p in enumerate(h264) if p.is_keyframe)
    roomy = fanout.subscribe("roomy", maxsize=100, from_last_keyframe=True)
    assert roomy.pending() == len(h264) - last_key and roomy.get(0) is h264[last_key]
