"""Live fMP4 for H.265: hvc1 sample entries with the VPS/SPS/PPS in hvcC, checked by FFmpeg's
own demuxer and decoder (Debian's Chromium has no HEVC in MSE) and by ffprobe."""

from __future__ import annotations

import io
import json
import subprocess
from fractions import Fraction

import av
import pytest

from tests.video.live.hevc_clip import hevc_packets
from watchwall.video.codec.fmp4 import to_sample
from watchwall.video.codec.hvcc import hevc_facts, hevc_parameter_sets_from
from watchwall.video.codec.nal import HEVC_PPS, HEVC_SPS, HEVC_VPS, nal_type, nal_units
from watchwall.video.ingest.packet import StreamInfo
from watchwall.video.live.channel import LiveMuxer


@pytest.fixture(scope="module")
def packets():
    return hevc_packets(width=320, height=180, frames=30, gop=15)


def muxed(packets) -> tuple[LiveMuxer, bytes, int]:
    muxer = LiveMuxer(packets[0].stream)
    fragments = [fragment for packet in packets for fragment in muxer.push(packet)]
    return muxer, muxer.init_segment + b"".join(f.data for f in fragments), len(fragments)


def test_parameter_sets_codec_string_and_record(packets):
    parameters = hevc_parameter_sets_from(None, packets[0].data)
    assert parameters is not None
    facts = hevc_facts(parameters.sps)
    assert (facts.profile_idc, facts.chroma_format, facts.bit_depth_luma) == (1, 1, 8)  # Main, 4:2:0, 8 bit
    codec = parameters.codec
    assert codec.startswith("hvc1.1.6.L") and codec.split(".")[3] == f"L{facts.level_idc}"
    record = parameters.hvcc()
    assert record[0] == 1 and record[22] == 3  # version 1; VPS, SPS and PPS arrays
    assert hevc_parameter_sets_from(record) == parameters  # read back from the record alone
    assert hevc_parameter_sets_from(None, packets[1].data) is None  # a P-frame carries none


def test_samples_leave_the_parameter_sets_to_the_record(packets):
    sample = to_sample(packets[0].data, "hevc")
    kinds = [nal_type(unit, "hevc") for unit in nal_units(sample)]
    assert kinds and not {HEVC_VPS, HEVC_SPS, HEVC_PPS} & set(kinds)


def test_hevc_fragments_decode_frame_for_frame(packets):
    muxer, data, fragments = muxed(packets)
    assert muxer.codec.startswith("hvc1.")
    assert b"hvc1" in muxer.init_segment and b"hvcC" in muxer.init_segment
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.codec_context.width, stream.codec_context.height) == (
            "hevc",
            320,
            180,
        )
        assert sum(1 for _ in container.decode(video=0)) == fragments == len(packets) - 1


def test_ffprobe_reads_hvc1_at_the_stream_size(packets, tmp_path):
    _muxer, data, fragments = muxed(packets)
    path = tmp_path / "live.mp4"
    path.write_bytes(data)
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    stream = json.loads(result.stdout)["streams"][0]
    assert (stream["codec_name"], stream["codec_tag_string"]) == ("hevc", "hvc1")
    assert (stream["width"], stream["height"]) == (320, 180)
    assert int(stream["nb_read_frames"]) == fragments


def test_other_codecs_are_still_refused():
    with pytest.raises(ValueError, match="H.264 and H.265 only"):
        LiveMuxer(StreamInfo("vp9", 640, 360, Fraction(1, 90000)))
