"""RTCP for a receiver (RFC 3550): reception statistics, sender reports in, receiver reports out.

A receiver that says nothing looks dead to some servers, and RFC 3550 6 asks every participant
to report. :class:`ReceptionStats` keeps what a report block needs (A.1 sequence bookkeeping,
A.3 loss, A.8 jitter), learns the last sender report's time (for LSR / DLSR), and
:meth:`ReceptionStats.report` builds the compound packet to send: a receiver report (RR) with one
report block, then an SDES with our CNAME (6.1: every compound packet carries both).

Arrival times are taken when the client reads its socket (per datagram over UDP, per drain of the
connection over TCP), so over TCP the jitter includes the RTSP loop's tick.
"""

from __future__ import annotations

import os
import random
import socket
import struct
from collections.abc import Iterable, Sequence
from operator import attrgetter

from watchwall.video.rtsp.hot_path import reception

RTCP_VERSION = 2
SR, RR, SDES, BYE = 200, 201, 202, 203
SDES_CNAME = 1
MIN_INTERVAL_S = 5.0  # RFC 3550 6.2: the recommended minimum
_COMPENSATION = 2.71828 - 1.5  # 6.3.1: e - 3/2, so the randomised interval averages the chosen one
_WRAP = 1 << 32


# What hot_path.reception takes in and gives back of a ReceptionStats, in its order.
_RECEPTION_STATE = ("ssrc", "max_seq", "cycles", "received", "jitter", "_last_arrival", "_last_ts")
_reception_state = attrgetter(*_RECEPTION_STATE)


def next_interval(rng: random.Random) -> float:
    """Seconds to the next report: the minimum, randomised by [0.5, 1.5] (RFC 3550 6.3.1)."""
    return MIN_INTERVAL_S * rng.uniform(0.5, 1.5) / _COMPENSATION


class ReceptionStats:
    """One RTP source as received; ``packet`` is called for every RTP packet, as it arrives."""

    def __init__(self, clock_rate: int, cname: str | None = None) -> None:
        self.clock_rate = clock_rate
        self.own_ssrc = int.from_bytes(os.urandom(4), "big")
        self.cname = (cname or f"watchwall@{socket.gethostname()}")[:255]
        self.ssrc: int | None = None
        self.base_seq = 0
        self.max_seq = 0
        self.cycles = 0
        self.received = 0
        self.expected_prior = 0
        self.received_prior = 0
        self.jitter = 0.0  # in RTP timestamp units
        self._last_arrival: float | None = None
        self._last_ts = 0
        self.last_sr = 0  # middle 32 bits of the last sender report's NTP timestamp
        self.last_sr_at: float | None = None  # when it arrived (monotonic seconds)
        self.sender_reports = 0
        self.reports_sent = 0

    def packet(self, buf: bytes | bytearray, start: int, arrival: float) -> None:
        """Count one RTP packet (header at ``buf[start:]``; at least 12 bytes)."""
        self.spans(buf, ((start, start + 12),), arrival)

    def packets(self, buf: bytes | bytearray, starts: Iterable[int], arrival: float) -> None:
        """Count the RTP packets whose headers are at ``starts`` (each at least 12 bytes), all
        arrived at ``arrival``."""
        self.spans(buf, [(start, start + 12) for start in starts], arrival)

    def spans(self, buf: bytes | bytearray, spans: Sequence[tuple[int, int]], arrival: float) -> None:
        """Count the RTP packets at ``buf[start:end]`` of ``spans``, all arrived at ``arrival``;
        one shorter than an RTP header (12 bytes) is not one. One call per drain of a connection
        (video.rtsp.hot_path.reception does the counting)."""
        *state, restarted_at = reception(buf, spans, arrival, self.clock_rate, *_reception_state(self))
        for name, value in zip(_RECEPTION_STATE, state, strict=True):
            setattr(self, name, value)
        if restarted_at is not None:  # the first packet, or a new SSRC: its numbering starts here
            self.base_seq = restarted_at
            self.expected_prior = self.received_prior = 0

    @property
    def extended_max(self) -> int:
        return self.cycles + self.max_seq

    @property
    def cumulative_lost(self) -> int:
        if self.ssrc is None:
            return 0
        return self.extended_max - self.base_seq + 1 - self.received

    def control(self, data: bytes | bytearray, arrival: float) -> None:
        """Read a compound RTCP packet from the server; a sender report sets LSR."""
        position = 0
        while position + 4 <= len(data):
            first, kind = data[position], data[position + 1]
            length = 4 * (((data[position + 2] << 8) | data[position + 3]) + 1)
            if first >> 6 != RTCP_VERSION or position + length > len(data):
                return  # not RTCP, or cut short: nothing more to trust in it
            if kind == SR and length >= 28:
                ntp = data[position + 8 : position + 16]
                self.last_sr = int.from_bytes(ntp[2:6], "big")
                self.last_sr_at = arrival
                self.sender_reports += 1
            position += length

    def report(self, now: float) -> bytes:
        """The compound packet RR + SDES(CNAME) to send now (RFC 3550 6.4.2, 6.5)."""
        if self.ssrc is None:
            receiver = struct.pack("!BBHI", 0x80, RR, 1, self.own_ssrc)  # no source heard yet
        else:
            expected = self.extended_max - self.base_seq + 1
            expected_interval = expected - self.expected_prior
            received_interval = self.received - self.received_prior
            self.expected_prior, self.received_prior = expected, self.received
            lost_interval = expected_interval - received_interval
            fraction = (
                (lost_interval << 8) // expected_interval if expected_interval and lost_interval > 0 else 0
            )
            lost = max(-(1 << 23), min((1 << 23) - 1, self.cumulative_lost)) & 0xFFFFFF
            delay = 0
            if self.last_sr_at is not None:
                # max(0, ...): over UDP a sender report is stamped when its datagram is read, which
                # can be after the ``now`` of the drain that reports
                delay = max(0, min(_WRAP - 1, int((now - self.last_sr_at) * 65536)))
            receiver = struct.pack(
                "!BBHIIIIIII",
                0x81,
                RR,
                7,
                self.own_ssrc,
                self.ssrc,
                (min(fraction, 255) << 24) | lost,
                self.extended_max & 0xFFFFFFFF,
                min(_WRAP - 1, int(self.jitter)),
                self.last_sr,
                delay,
            )
        cname = self.cname.encode("utf-8")[:255]
        chunk = struct.pack("!IBB", self.own_ssrc, SDES_CNAME, len(cname)) + cname + b"\x00"
        chunk += b"\x00" * (-len(chunk) % 4)
        description = struct.pack("!BBH", 0x81, SDES, len(chunk) // 4) + chunk
        self.reports_sent += 1
        return receiver + description

    def goodbye(self, now: float) -> bytes:
        """RR + SDES + BYE, for leaving (6.6)."""
        return self.report(now) + struct.pack("!BBHI", 0x81, BYE, 1, self.own_ssrc)
