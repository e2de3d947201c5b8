"""The native RTSP client's parts: SDP, authentication, depacketising, SPS; and the client
against the real GStreamer RTSP server (digest authentication, a dropped connection)."""

from __future__ import annotations

import base64
import time
from fractions import Fraction
from urllib.parse import quote

import av
import pytest

from tests.support.rtsp_process import RTSP_PASSWORD, RTSP_USER, RtspServerProcess, wait_until
from watchwall.video.codec.nal import split_annexb
from watchwall.video.codec.parameter_sets import sequence_parameters
from watchwall.video.ingest.fanout import Fanout
from watchwall.video.ingest.health import CameraHealth
from watchwall.video.ingest.reader import CameraReader, ReaderOptions
from watchwall.video.ingest.stream_errors import AUTH, StreamFailure
from watchwall.video.ingest.stream_source import StreamSource
from watchwall.video.rtsp.auth import Credentials, parse_challenges
from watchwall.video.rtsp.depacketize import START_CODE, AccessUnit, Depacketizer
from watchwall.video.rtsp.sdp import NotDepacketised, parse_sdp
from watchwall.video.rtsp.session import RtspSession

GST_SDP = """v=0
o=- 1188340656180883 1 IN IP4 127.0.0.1
s=Session streamed with GStreamer
t=0 0
a=control:*
a=range:npt=now-
m=video 0 RTP/AVP 96
c=IN IP4 0.0.0.0
a=rtpmap:96 H264/90000
a=control:stream=0
a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0LAHtkBQfsBEAAAAwAQAAADAyDxYuSA,aMuMsg==;profile-level-id=42c01e
"""


def test_sdp_of_the_gstreamer_server():
    media, session_url = parse_sdp(GST_SDP, "rtsp://127.0.0.1:8554/cam0/")
    assert (media.codec, media.payload_type, media.clock_rate) == ("h264", 96, 90000)
    assert media.control_url == "rtsp://127.0.0.1:8554/cam0/stream=0"
    assert session_url == "rtsp://127.0.0.1:8554/cam0/"
    units = split_annexb(media.parameter_sets)
    assert [unit[0] & 0x1F for unit in units] == [7, 8]
    assert sequence_parameters(media.parameter_sets, "h264").width == 320


def test_sdp_absolute_controls_hevc_and_codecs_left_to_ffmpeg():
    hevc = (
        "v=0\r\nm=audio 0 RTP/AVP 0\r\na=control:rtsp://cam/audio\r\n"
        "m=video 0 RTP/AVP 98\r\na=rtpmap:98 H265/90000\r\na=control:rtsp://cam/track1\r\n"
        "a=fmtp:98 sprop-vps=QAEMAf//AWAAAAMAkAAAAwAAAwBdlZgJ;sprop-sps=QgEBAWAAAAMAkAAAAwAAAwBdoAKAgC0WWVmkkyvAQEAAAAMAQAAABkI=\r\n"
    )
    media, session_url = parse_sdp(hevc, "rtsp://cam/")
    assert (media.codec, media.payload_type, media.control_url) == ("hevc", 98, "rtsp://cam/track1")
    assert session_url == "rtsp://cam/"
    assert [(unit[0] >> 1) & 0x3F for unit in split_annexb(media.parameter_sets)] == [32, 33]
    parameters = sequence_parameters(media.parameter_sets, "hevc")
    assert (parameters.width, parameters.height, parameters.profile) == (1280, 720, "Main")
    mjpeg = "v=0\r\nm=video 0 RTP/AVP 26\r\na=rtpmap:26 JPEG/90000\r\n"
    with pytest.raises(NotDepacketised):
        parse_sdp(mjpeg, "rtsp://cam/")
    with pytest.raises(StreamFailure):
        parse_sdp("v=0\r\nm=audio 0 RTP/AVP 0\r\n", "rtsp://cam/")


def test_digest_answer_is_the_rfc_2617_example():
    credentials = Credentials("Mufasa", "Circle Of Life", make_cnonce=lambda: "0a4f113b")
    challenge = (
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    assert credentials.accept(parse_challenges([challenge, 'Basic realm="x"']))
    header = credentials.header("GET", "/dir/index.html")
    assert 'response="6629fae49393a05397450978507c4ef1"' in header
    assert "nc=00000001" in header and 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in header
    assert "nc=00000002" in credentials.header("GET", "/dir/index.html")  # a new count each time


def test_basic_answer():
    credentials = Credentials("user", "pa:ss")
    assert credentials.accept(parse_challenges(['Basic realm="cam"']))
    assert (
        credentials.header("DESCRIBE", "rtsp://cam/") == "Basic " + base64.b64encode(b"user:pa:ss").decode()
    )


# --- depacketising a real encoded stream -------------------------------------------------------


def encoded_frames(codec: str, width: int, height: int, count: int = 20) -> list[av.Packet]:
    encoder = av.CodecContext.create(codec, "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = Fraction(1, 25)
    encoder.options = {"preset": "ultrafast", "tune": "zerolatency", "g": "10", "bframes": "0"}
    encoder.open()
    packets = []
    for index in range(count):
        frame = av.VideoFrame(width, height, "yuv420p")
        for plane in frame.planes:
            plane.update(bytes([(index * 7 + plane.line_size) % 256]) * plane.buffer_size)
        frame.pts = index
        packets += encoder.encode(frame)
    packets += encoder.encode(None)
    return packets


def rtp_packets(units: list[bytes], timestamp: int, sequence: int, payload_type: int = 96, mtu: int = 600):
    """RFC 6184 packetisation of one access unit: small units aggregated (STAP-A), large ones in FU-A."""
    packets, small = [], []

    def header(marker: bool) -> bytes:
        nonlocal sequence
        first = (
            bytes([0x80, (0x80 if marker else 0) | payload_type, (sequence >> 8) & 0xFF, sequence & 0xFF])
            + timestamp.to_bytes(4, "big")
            + b"\x00\x00\x00\x01"
        )
        sequence = (sequence + 1) & 0xFFFF
        return first

    payloads = []
    for unit in units:
        if len(unit) < 100:
            small.append(unit)
            continue
        if small:
            payloads.append(b"\x18" + b"".join(len(u).to_bytes(2, "big") + u for u in small))
            small = []
        if len(unit) <= mtu:
            payloads.append(unit)
            continue
        body = unit[1:]
        chunks = [body[i : i + mtu] for i in range(0, len(body), mtu)]
        for index, chunk in enumerate(chunks):
            fu_header = (
                (0x80 if index == 0 else 0) | (0x40 if index == len(chunks) - 1 else 0) | (unit[0] & 0x1F)
            )
            payloads.append(bytes([(unit[0] & 0xE0) | 28, fu_header]) + chunk)
    if small:
        payloads.append(b"\x18" + b"".join(len(u).to_bytes(2, "big") + u for u in small))
    for index, payload in enumerate(payloads):
        packets.append(header(index == len(payloads) - 1) + payload)
    return packets, sequence


def depacketise(packets: list[bytes], codec: str = "h264") -> tuple[list[AccessUnit], Depacketizer]:
    depacketizer, out = Depacketizer(codec, 96), []
    for packet in packets:
        buffer = bytearray(b"junk" + packet)
        depacketizer.push(buffer, 4, len(buffer), out)
    depacketizer.flush(out)
    return out, depacketizer


def test_h264_access_units_come_back_whole_through_stap_a_and_fu_a():
    frames = encoded_frames("libx264", 320, 240)
    packets, sequence = [], 65530  # the sequence numbers wrap on the way
    timestamp = 2**32 - 3 * 3600  # and so do the timestamps
    for frame in frames:
        more, sequence = rtp_packets(split_annexb(bytes(frame)), timestamp % 2**32, sequence)
        packets += more
        timestamp += 3600
    units, depacketizer = depacketise(packets)
    assert [unit.data for unit in units] == [
        b"".join(START_CODE + unit for unit in split_annexb(bytes(frame))) for frame in frames
    ]
    assert [unit.keyframe for unit in units] == [frame.is_keyframe for frame in frames]
    assert [unit.timestamp for unit in units] == [3600 * i for i in range(len(frames))]
    assert not any(unit.corrupt for unit in units) and depacketizer.lost_packets == 0


def test_a_lost_packet_marks_its_unit_corrupt_and_drops_the_broken_fragment():
    frames = encoded_frames("libx264", 640, 480, count=4)
    packets, sequence = [], 0
    per_frame = []
    for index, frame in enumerate(frames):
        more, sequence = rtp_packets(split_annexb(bytes(frame)), index * 3600, sequence, mtu=300)
        per_frame.append(len(more))
        packets += more
    assert per_frame[1] >= 3
    lost = per_frame[0] + 1  # the second FU-A piece of the second frame
    units, depacketizer = depacketise(packets[:lost] + packets[lost + 1 :])
    assert depacketizer.lost_packets == 1
    assert [unit.corrupt for unit in units] == [False, True, False, False]
    assert len(units[1].data) < len(b"".join(START_CODE + u for u in split_annexb(bytes(frames[1]))))


def test_padding_extension_and_foreign_payload_types():
    unit = b"\x65" + bytes(range(1, 200))
    extension = b"\xbe\xde\x00\x01" + b"\x01\x02\x03\x04"
    packet = (
        bytes([0xB0, 0xE0, 0, 1]) + (90000).to_bytes(4, "big") + b"\0\0\0\1" + extension + unit + b"\0\0\x03"
    )
    other = bytes([0x80, 0x80 | 13, 0, 2]) + (90000).to_bytes(4, "big") + b"\0\0\0\1" + b"\x01\x02"
    units, depacketizer = depacketise([packet, other])
    assert [u.data for u in units] == [START_CODE + unit] and units[0].keyframe
    assert depacketizer.bad_packets == 0


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (320, 240), (1920, 1080), (352, 288)])
def test_picture_size_and_profile_from_the_h264_sps(width, height):
    keyframe = bytes(encoded_frames("libx264", width, height, count=1)[0])
    parameters = sequence_parameters(keyframe, "h264")
    assert (parameters.width, parameters.height) == (width, height)
    assert parameters.profile in ("High", "Constrained Baseline", "Baseline", "Main")
    assert parameters.pix_fmt == "yuv420p"


@pytest.mark.skipif("libx265" not in av.codecs_available, reason="PyAV built without libx265")
def test_picture_size_from_the_hevc_sps():
    keyframe = bytes(encoded_frames("libx265", 1280, 720, count=1)[0])
    parameters = sequence_parameters(keyframe, "hevc")
    assert (parameters.width, parameters.height, parameters.profile) == (1280, 720, "Main")


# --- against the real server -------------------------------------------------------------------


@pytest.fixture(scope="module")
def digest_server():
    server = RtspServerProcess(
        {"/cam0": "h264"}, user=RTSP_USER, password=RTSP_PASSWORD, extra_args=("--digest",)
    ).start()
    yield server
    server.kill()


def test_digest_authentication_against_the_gstreamer_server(digest_server):
    session = RtspSession(digest_server.url("/cam0", with_credentials=True), "cam0", open_timeout_s=5)
    try:
        media = session.open()
        units: list[AccessUnit] = []
        deadline = time.monotonic() + 10
        while not any(unit.keyframe for unit in units) and time.monotonic() < deadline:
            session.pump(time.monotonic(), units)
            time.sleep(0.04)
        assert media.codec == "h264" and any(unit.keyframe for unit in units)
    finally:
        session.close()
    wrong = digest_server.url("/cam0").replace("rtsp://", f"rtsp://{RTSP_USER}:wrong@")
    with pytest.raises(StreamFailure) as failure:
        RtspSession(wrong, "cam0", open_timeout_s=5).open()
    assert failure.value.kind == AUTH and "wrong" not in str(failure.value)


def test_native_and_ffmpeg_readers_agree_on_the_stream(digest_server):
    """The same camera through both clients: same size, codec and frame rate."""
    seen = {}
    for native in (True, False):
        fanout, health = Fanout("cam"), CameraHealth("cam", stall_after_s=2.0)
        subscription = fanout.subscribe("test", maxsize=1000)
        userinfo = f"{quote(RTSP_USER, safe='')}:{quote(RTSP_PASSWORD, safe='')}@"
        source = StreamSource(digest_server.url("/cam0").replace("rtsp://", "rtsp://" + userinfo), "cam0")
        reader = CameraReader("cam", source, fanout, health, ReaderOptions(native_rtsp=native))
        reader.start()
        try:
            wait_until(lambda h=health: h.packets >= 30, 15, what="30 packets")
        finally:
            reader.stop(2)
        packets = []
        while (packet := subscription.get(0)) is not None:
            packets.append(packet)
        info = packets[0].stream
        seen[native] = (info.codec, info.width, info.height)
        timestamps = [p.dts for p in packets if p.dts is not None]  # FFmpeg may leave the first untimed
        assert timestamps == sorted(timestamps) and len(set(timestamps)) == len(timestamps)
        assert health.malformed_packets == 0
    assert seen[True] == seen[False] == ("h264", 320, 240)


def test_a_camera_sending_b_frames_is_read_through_ffmpeg():
    """RTP carries presentation times only: pictures out of order mean B-frames, whose decode
    order FFmpeg's parser works out. The reader switches that camera over and it stays online."""
    server = RtspServerProcess({"/b": "bframes"}).start()
    try:
        fanout, health = Fanout("cam"), CameraHealth("cam", stall_after_s=2.0)
        subscription = fanout.subscribe("test", maxsize=2000)
        states: list[str] = []
        reader = CameraReader(
            "cam",
            StreamSource(server.url("/b"), "cam"),
            fanout,
            health,
            ReaderOptions(),
            on_state=lambda _camera, state, _kind, _detail: states.append(state),
        )
        reader.start()
        try:
            wait_until(lambda: not reader._native, 15, what="the switch to FFmpeg")
            wait_until(lambda: health.state == "online" and health.packets >= 60, 20, what="packets after it")
        finally:
            reader.stop(2)
        packets = []
        while (packet := subscription.get(0)) is not None:
            packets.append(packet)
        after = [p for p in packets if p.dts is not None][-40:]
        assert [p.dts for p in after] == sorted(p.dts for p in after)  # decode order
        assert any(p.pts != p.dts for p in after if p.pts is not None)  # and B-frames indeed
        assert states[:2] == ["connecting", "online"] and "error" not in states  # a switch, not an outage
    finally:
        server.kill()
