"""The receive path's per-drain calls (``Depacketizer.push_many``, ``ReceptionStats.packets``) give
what one call per packet gives, on a real encoded H.264 stream with losses and odd packets."""

from __future__ import annotations

from tests.video.rtsp.test_rtsp_client import encoded_frames, rtp_packets
from watchwall.video.codec.nal import split_annexb
from watchwall.video.rtsp.depacketize import Depacketizer
from watchwall.video.rtsp.rtcp import ReceptionStats
from watchwall.video.rtsp.session import RtspSession

STATS_FIELDS = (
    "ssrc",
    "base_seq",
    "max_seq",
    "cycles",
    "received",
    "jitter",
    "extended_max",
    "cumulative_lost",
)


def counts(stats: ReceptionStats) -> list:
    """Every figure a receiver report is built from."""
    return [getattr(stats, name) for name in STATS_FIELDS]


def stream_packets() -> list[bytes]:
    """20 pictures in STAP-A and FU-A packets (sequence numbers and timestamps wrapping), then
    damaged: packets lost (an FU-A start, a middle piece, a marker), one of another payload type,
    one too short, one with padding and a CSRC, one with the SSRC of a new encoder."""
    packets, sequence, timestamp = [], 65500, 2**32 - 5 * 3600
    for frame in encoded_frames("libx264", 320, 240, count=20):
        more, sequence = rtp_packets(split_annexb(bytes(frame)), timestamp % 2**32, sequence, mtu=100)
        packets += more
        timestamp += 3600
    assert len(packets) > 60
    fu_a_start = next(i for i, p in enumerate(packets) if p[12] & 0x1F == 28 and p[13] & 0x80)
    middle = next(i for i, p in enumerate(packets) if p[12] & 0x1F == 28 and not p[13] & 0xC0 and i > 40)
    marker = next(i for i, p in enumerate(packets) if p[1] & 0x80 and i > 50)
    for index in sorted((fu_a_start, middle, marker), reverse=True):
        del packets[index]
    packets[30] = packets[30][:1] + bytes([(packets[30][1] & 0x80) | 97]) + packets[30][2:]
    packets.insert(35, b"\x80\x60\x00")
    padded = packets[45]
    packets[45] = bytes([0xA1]) + padded[1:12] + b"\x00\x00\x00\x07" + padded[12:] + b"\x00\x00\x03"
    packets[55] = packets[55][:8] + b"\x00\x00\x00\x02" + packets[55][12:]
    return packets


def framed(packets: list[bytes]) -> tuple[bytearray, list[tuple[int, int]]]:
    buffer, spans = bytearray(b"$\x00"), []
    for packet in packets:
        buffer += b"junk"
        spans.append((len(buffer), len(buffer) + len(packet)))
        buffer += packet
    return buffer, spans


def test_push_many_gives_what_push_gives_packet_by_packet():
    packets = stream_packets()
    one, one_out = Depacketizer("h264", 96), []
    for packet in packets:
        one.push(bytearray(packet), 0, len(packet), one_out)
    buffer, spans = framed(packets)
    many, many_out = Depacketizer("h264", 96), []
    for cut in (0, 17, 18, 40, len(spans)):  # drains of various sizes, one of them empty
        many.push_many(buffer, spans[:cut], many_out)
        spans = spans[cut:]
    many.push_many(buffer, spans, many_out)
    one.flush(one_out)
    many.flush(many_out)
    assert len(one_out) >= 18 and any(unit.corrupt for unit in one_out)
    assert many_out == one_out
    assert (many.lost_packets, many.bad_packets) == (one.lost_packets, one.bad_packets)
    assert one.lost_packets >= 3 and one.bad_packets >= 1


def test_packets_counts_as_packet_does():
    packets = [p for p in stream_packets() if len(p) >= 12]
    one, many = ReceptionStats(90000, "a"), ReceptionStats(90000, "a")
    buffer, spans = framed(packets)
    for drain in range(0, len(packets), 9):
        arrival = 100.0 + drain * 0.013
        for packet in packets[drain : drain + 9]:
            one.packet(packet, 0, arrival)
        many.packets(buffer, [start for start, _ in spans[drain : drain + 9]], arrival)
    assert counts(many) == counts(one)
    assert one.jitter > 0 and one.base_seq != 65500  # the new SSRC started the counts over


def test_an_access_unit_counts_its_nal_units():
    """``AccessUnit.units`` is how many start codes the unit's bytes hold (the recorder takes a
    one-unit packet's framing from it instead of searching the packet), damaged units included."""
    out = []
    depacketizer = Depacketizer("h264", 96)
    for packet in stream_packets():
        depacketizer.push(bytearray(packet), 0, len(packet), out)
    depacketizer.flush(out)
    assert len(out) >= 18 and any(unit.units > 1 for unit in out)
    for unit in out:
        assert unit.units == len(split_annexb(unit.data)), unit


def reference_counts(stats: ReceptionStats, packet: bytes, arrival: float) -> None:
    """RFC 3550 A.1 and A.8 for one packet, as ``ReceptionStats`` counted each before it took a
    drain's packets at once (the jitter's arithmetic included, to the last bit)."""
    sequence = (packet[2] << 8) | packet[3]
    timestamp, ssrc = int.from_bytes(packet[4:8], "big"), int.from_bytes(packet[8:12], "big")
    if ssrc != stats.ssrc:
        stats.ssrc, stats.base_seq, stats.max_seq, stats.cycles = ssrc, sequence, sequence, 0
        stats.received = stats.expected_prior = stats.received_prior = 0
        stats.jitter, stats._last_arrival = 0.0, None
    else:
        ahead = (sequence - stats.max_seq) & 0xFFFF
        if 0 < ahead < 0x8000:
            if sequence < stats.max_seq:
                stats.cycles += 1 << 16
            stats.max_seq = sequence
    stats.received += 1
    if stats._last_arrival is not None:
        step = (timestamp - stats._last_ts) % 2**32
        if step >= 2**31:
            step -= 2**32
        d = abs((arrival - stats._last_arrival) * stats.clock_rate - step)
        stats.jitter += (d - stats.jitter) / 16
    stats._last_arrival, stats._last_ts = arrival, timestamp


def test_spans_count_as_rfc_3550_does_packet_by_packet():
    """``ReceptionStats.spans`` (a drain's packets, most of a frame's sharing one arrival and one
    timestamp) against the per-packet reference: same counts, the same jitter bit for bit; a span
    shorter than an RTP header is not counted."""
    packets = stream_packets()
    reference, batched = ReceptionStats(90000, "a"), ReceptionStats(90000, "a")
    buffer, spans = framed(packets)
    for drain in range(0, len(packets), 11):
        arrival = 100.0 + drain * 0.0137
        for packet in packets[drain : drain + 11]:
            if len(packet) >= 12:
                reference_counts(reference, packet, arrival)
        batched.spans(buffer, spans[drain : drain + 11], arrival)
        assert (batched.jitter, batched.received, batched.max_seq) == (
            reference.jitter,
            reference.received,
            reference.max_seq,
        )
    assert counts(batched) == counts(reference)
    assert reference.jitter > 0 and reference.received < len(packets)  # the short packet was skipped


def test_interleaved_framing_as_packet_by_packet():
    """``RtspSession._parse`` on an RTSP connection's bytes, arriving in arbitrary pieces: RTP on
    channel 0 (with padding, an extension and a CSRC list among them), RTCP sender reports on
    channel 1, a frame of another channel, an RTSP answer between frames, and garbage; the same
    units, losses and statistics as the packets pushed one by one."""
    packets = stream_packets()
    sender_report = bytes([0x80, 200, 0, 6]) + bytes(range(24))
    wire = bytearray()
    for index, packet in enumerate(packets):
        wire += b"$\x00" + len(packet).to_bytes(2, "big") + packet
        if index % 17 == 3:
            wire += b"$\x01" + len(sender_report).to_bytes(2, "big") + sender_report
        if index == 20:
            wire += b"RTSP/1.0 200 OK\r\nCSeq: 7\r\nContent-Length: 4\r\n\r\nabcd"
        if index == 31:
            wire += b"$\x02\x00\x05hello"
        if index == 47:
            wire += b"garbage!"
    session = RtspSession("rtsp://127.0.0.1:1/cam", "cam", 1.0, transport="tcp")
    session.depacketizer, session.stats, session.channel = Depacketizer("h264", 96), ReceptionStats(90000), 0
    units: list = []
    for start in range(0, len(wire), 777):  # each piece cuts a frame somewhere
        session._buffer += wire[start : start + 777]
        session._parse(units, 5.0 + start / 1e5)
    session.depacketizer.flush(units)

    one, one_units = Depacketizer("h264", 96), []
    for packet in packets:
        one.push(bytearray(packet), 0, len(packet), one_units)
    one.flush(one_units)
    assert units == one_units and len(units) >= 18
    assert (session.depacketizer.lost_packets, session.depacketizer.bad_packets) == (
        one.lost_packets,
        one.bad_packets,
    )
    reference = ReceptionStats(90000)
    for packet in packets:
        if len(packet) >= 12:
            reference_counts(reference, packet, 5.0)
    fields = ("ssrc", "base_seq", "max_seq", "cycles", "received", "extended_max", "cumulative_lost")
    assert [getattr(session.stats, name) for name in fields] == [getattr(reference, name) for name in fields]
    assert session.stats.sender_reports == len(range(3, len(packets), 17))
    assert not session._buffer and session._garbage == len(b"garbage!")


def test_a_sender_report_read_after_the_drain_began_gives_a_zero_delay():
    """Over UDP a sender report is stamped when its datagram is read, which can be later than the
    ``now`` of the drain that then reports: DLSR is 0 then, not a negative number (which no
    32-bit field holds)."""
    packets = [p for p in stream_packets() if len(p) >= 12][:5]
    stats = ReceptionStats(90000, "a")
    for packet in packets:
        stats.packet(packet, 0, 10.0)
    sender_report = bytes([0x80, 200, 0, 6]) + bytes(range(24))
    stats.control(sender_report, 10.02)
    report = stats.report(10.0)
    assert int.from_bytes(report[28:32], "big") == 0  # DLSR, the report block's last word
    assert int.from_bytes(report[24:28], "big") == stats.last_sr != 0
    later = stats.report(10.52)
    assert int.from_bytes(later[28:32], "big") == int(0.5 * 65536)
