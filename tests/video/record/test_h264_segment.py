"""WatchWall's own H.264 segment writer against FFmpeg's muxer (the PyAV SegmentWriter) on the
same packets: the same samples, keyframes and timestamps come back out, B-frames included,
and a file cut short by a crash still plays up to its last whole fragment."""

from __future__ import annotations

import io
from dataclasses import replace
from fractions import Fraction

import av
import numpy as np

from tests.video.record.recording_media import decode_frames, h264_clip, media_packets
from watchwall.video.codec.nal import START_CODE, length_prefixed, nal_units
from watchwall.video.ingest.packet import StreamInfo
from watchwall.video.record.h264_segment import H264SegmentWriter
from watchwall.video.record.pending_samples import sample_of
from watchwall.video.record.segments import SegmentWriter, cut_to_complete_fragments, file_sha256

T0 = 1_790_000_000.0


def demuxed(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size]
        seconds = [float(p.pts * stream.time_base) for p in packets]
        return [(round(s, 4), p.is_keyframe, bytes(p)) for s, p in zip(seconds, packets, strict=True)]


def write(writer_class, path, info, packets):
    writer = writer_class(path, info, T0)
    for packet in packets:
        writer.write(packet)
    return writer.close()


def test_same_samples_keyframes_and_times_as_ffmpegs_muxer(tmp_path):
    info, raw = h264_clip(4.0)
    packets = media_packets("cam", info, raw, T0)
    ours = write(H264SegmentWriter, tmp_path / "ours.mp4", info, packets)
    theirs = write(SegmentWriter, tmp_path / "theirs.mp4", info, packets)
    assert demuxed(tmp_path / "ours.mp4") == demuxed(tmp_path / "theirs.mp4")
    assert [s for s, key, _ in demuxed(tmp_path / "ours.mp4") if key] == [0.0, 1.0, 2.0, 3.0]
    assert decode_frames(tmp_path / "ours.mp4") == len(raw) == 100
    assert ours.packets == theirs.packets == len(raw)
    assert (ours.start_utc, ours.end_utc) == (theirs.start_utc, theirs.end_utc)
    assert (
        ours.sha256 == file_sha256(tmp_path / "ours.mp4")
        and ours.bytes == (tmp_path / "ours.mp4").stat().st_size
    )


def b_frame_clip(frames: int = 50):
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mpegts") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.options = {"preset": "ultrafast", "x264-params": "keyint=25:scenecut=0:bframes=2:b-adapt=0"}
        for index in range(frames):
            picture = np.full((240, 320, 3), (index * 5) % 256, np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = index, Fraction(1, 25)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with av.open(io.BytesIO(buffer.getvalue()), format="mpegts") as source:
        video = source.streams.video[0]
        info = StreamInfo("h264", 320, 240, video.time_base, video.codec_context.extradata)
        raw = [p for p in source.demux(video) if p.size]
        packets = media_packets("cam", info, [_raw(p) for p in raw], T0)
    return info, packets


def _raw(packet):
    from tests.video.record.recording_media import RawPacket

    return RawPacket(bytes(packet), packet.pts, packet.dts, 3600, packet.is_keyframe)


def test_b_frames_keep_their_order_and_times(tmp_path):
    info, packets = b_frame_clip()
    assert any(p.pts != p.dts for p in packets)
    write(H264SegmentWriter, tmp_path / "ours.mp4", info, packets)
    write(SegmentWriter, tmp_path / "theirs.mp4", info, packets)
    ours, theirs = demuxed(tmp_path / "ours.mp4"), demuxed(tmp_path / "theirs.mp4")
    assert [data for _, _, data in ours] == [data for _, _, data in theirs]
    assert [s for s, _, _ in ours] == [s for s, _, _ in theirs]
    assert decode_frames(tmp_path / "ours.mp4") == 50


def test_a_file_cut_by_a_crash_plays_up_to_its_last_whole_fragment(tmp_path):
    info, raw = h264_clip(4.0)
    path = tmp_path / "cut.mp4"
    writer = H264SegmentWriter(path, info, T0)
    for packet in media_packets("cam", info, raw, T0)[:70]:  # 2.8 s: two fragments written, one pending
        writer.write(packet)
    on_disk = path.read_bytes()  # what a kill -9 leaves: the writer was never closed
    (tmp_path / "crashed.mp4").write_bytes(on_disk[: len(on_disk) - 100])  # and a torn last write
    cut_to_complete_fragments(tmp_path / "crashed.mp4")
    assert decode_frames(tmp_path / "crashed.mp4") == 25  # the first fragment; the torn second is cut
    assert decode_frames(path) == 50  # the untorn file: both written fragments
    writer.abandon()


def test_parameter_sets_in_band_only(tmp_path):
    info, raw = h264_clip(2.0)
    bare = replace(info, extradata=None)
    keyframe = raw[0].data
    assert keyframe.startswith(b"\x00\x00\x00\x01") or keyframe.startswith(b"\x00\x00\x01")
    write(H264SegmentWriter, tmp_path / "inband.mp4", bare, media_packets("cam", bare, raw, T0))
    assert decode_frames(tmp_path / "inband.mp4") == 50


def test_the_one_unit_shortcut_makes_the_same_sample_as_the_general_conversion():
    """sample_of skips the general split for a one-unit Annex-B packet; every framing comes
    out as length_prefixed(nal_units(...)) would make it, the odd ones included."""
    _, raw = h264_clip(2.0)
    one_unit = b"\x00\x00\x00\x01\x41" + bytes(range(1, 200))
    packets = [p.data for p in raw] + [
        one_unit,
        one_unit + b"\x00\x00",  # trailing zeros of the last unit are kept
        b"\x00\x00\x01\x41abc",  # a 3-byte start code
        b"\x00\x00\x00\x01\x67ab\x00\x00\x00\x01\x68c\x00\x00\x01\x65dd",  # SPS, PPS, slice
        length_prefixed([b"\x0b", b"\x41" + bytes(range(1, 50))]),  # length-prefixed, starts 00 00 00 01
        length_prefixed([b"\x65abc"]),
        b"\x00\x00\x00\x01",  # a start code and nothing
        b"",
    ]
    for data in packets:
        assert b"".join(sample_of(data)[0]) == length_prefixed(nal_units(data)), data[:16]


def test_a_packet_whose_unit_count_is_known_makes_the_same_sample_and_the_same_file(tmp_path):
    """A packet of the RTSP depacketiser says how many NAL units it holds (MediaPacket.nal_units);
    one unit skips the search through the packet. The samples, and the segment file byte for
    byte, are those made without the count; a damaged packet is looked at as before."""
    info, raw = h264_clip(4.0)
    # as an RTSP camera sends them: no access unit delimiter, no SEI; a keyframe in one packet,
    # the slices of a P-frame one a packet (one picture in two packets: one sample)
    plain = []
    for packet in media_packets("cam", info, raw, T0):
        units = [START_CODE + u for u in nal_units(packet.data) if u[0] & 0x1F not in (6, 9)]
        pieces = [b"".join(units)] if packet.is_keyframe else units
        plain += [replace(packet, data=piece) for piece in pieces]
    counted = [replace(p, nal_units=len(nal_units(p.data))) for p in plain]
    assert any(p.nal_units == 1 for p in counted) and any(p.nal_units > 1 for p in counted)
    for packet in counted:
        assert sample_of(packet.data, packet.nal_units) == sample_of(packet.data), packet.sequence
        assert b"".join(sample_of(packet.data, packet.nal_units)[0]) == length_prefixed(
            nal_units(packet.data)
        )
    first = write(H264SegmentWriter, tmp_path / "plain.mp4", info, plain)
    second = write(H264SegmentWriter, tmp_path / "counted.mp4", info, counted)
    third = write(
        H264SegmentWriter, tmp_path / "corrupt.mp4", info, [replace(p, is_corrupt=True) for p in counted]
    )
    assert (tmp_path / "plain.mp4").read_bytes() == (tmp_path / "counted.mp4").read_bytes()
    assert first.sha256 == second.sha256 == third.sha256 == file_sha256(tmp_path / "counted.mp4")


def test_a_pending_fragment_says_when_it_is_due(tmp_path):
    """The recorder sleeps until the pending fragment is full (video.record.recorder._batch_wait)."""
    info, raw = h264_clip(2.0)
    writer = H264SegmentWriter(tmp_path / "due.mp4", info, T0)
    assert writer.fragment_due_s() == 1.0
    for packet in media_packets("cam", info, raw, T0)[:11]:  # 0.0 to 0.4 s at 25 fps
        writer.write(packet)
    assert abs(writer.fragment_due_s() - 0.6) < 1e-9
    writer.close()
