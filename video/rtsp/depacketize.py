"""RTP payloads of H.264 (RFC 6184) and H.265 (RFC 7798) back into whole access units, Annex-B.

Hot path: about 200 RTP packets a second per 2 Mbit/s camera. Over TCP the session hands a
whole drain's packets to ``push_many`` in one call; the next FU-A pieces, most packets, are taken
there by video.rtsp.hot_path (compiled where it could be built); payloads are copied once, out of
the receive buffer.
An access unit ends at the marker bit, or when the timestamp changes without one. A lost
packet (a hole in the sequence numbers) marks the access unit it falls in as corrupt; a
fragment whose start was lost is dropped.
"""

from __future__ import annotations

from operator import attrgetter
from typing import NamedTuple

from watchwall.video.codec.nal import START_CODE
from watchwall.video.rtsp import hot_path
from watchwall.video.rtsp.hot_path import fu_a_run

_WRAP = 1 << 32
_HALF = 1 << 31


class AccessUnit(NamedTuple):
    data: bytes  # Annex-B: every NAL unit behind a 4-byte start code
    timestamp: int  # RTP clock ticks, unwrapped, 0 at the session's first packet
    keyframe: bool
    corrupt: bool
    units: int = 0  # NAL units in ``data`` (each behind its start code), as counted here; 0: not known


# What hot_path.h264_drain takes in and gives back of a Depacketizer, in its order.
_DRAIN_STATE = (
    "_units",
    "_keyframe",
    "_corrupt",
    "_in_fragment",
    "_sequence",
    "_raw_ts",
    "_ts",
    "lost_packets",
    "bad_packets",
)
_drain_state = attrgetter(*_DRAIN_STATE)


class Depacketizer:
    """One RTP video stream -> access units; ``push`` appends the units it completes to ``out``."""

    def __init__(self, codec: str, payload_type: int) -> None:
        if codec not in ("h264", "hevc"):
            raise ValueError(f"cannot depacketise {codec}")
        self.hevc = codec == "hevc"
        self.payload_type = payload_type
        self._parts: list[bytes | bytearray] = []
        self._units = 0  # start codes put into _parts: the unit's NAL units (the recorder's shortcut)
        self._keyframe = False
        self._corrupt = False
        self._in_fragment = False
        self._sequence: int | None = None
        self._raw_ts: int | None = None
        self._raw_ts_bytes = b""
        self._ts = 0  # unwrapped timestamp of the unit being built
        self.lost_packets = 0
        self.bad_packets = 0

    def push(self, buf: bytearray, start: int, end: int, out: list[AccessUnit]) -> None:
        # Fast path, most packets of a camera: a plain header (no CSRC, extension or padding) on
        # the next H.264 FU-A piece of the unit being built, in sequence, same timestamp.
        if (
            self._in_fragment
            and buf[start] == 0x80
            and end - start > 14
            and buf[start + 12] & 0x1F == 28
            and not buf[start + 13] & 0x80
            and not self.hevc
        ):
            sequence = (buf[start + 2] << 8) | buf[start + 3]
            second = buf[start + 1]
            if (
                sequence == (self._sequence + 1) & 0xFFFF
                and second & 0x7F == self.payload_type
                and buf[start + 4 : start + 8] == self._raw_ts_bytes
            ):
                self._sequence = sequence
                self._parts.append(buf[start + 14 : end])
                if buf[start + 13] & 0x40:
                    self._in_fragment = False
                if second & 0x80:
                    self._finish(out)
                return
        if end - start < 12:
            self.bad_packets += 1
            return
        first = buf[start]
        if first >> 6 != 2:
            self.bad_packets += 1
            return
        second = buf[start + 1]
        if second & 0x7F != self.payload_type:
            return  # another payload on the same channel (comfort noise, FEC ...): not ours
        sequence = (buf[start + 2] << 8) | buf[start + 3]
        raw_ts = (buf[start + 4] << 24) | (buf[start + 5] << 16) | (buf[start + 6] << 8) | buf[start + 7]
        offset = start + 12 + 4 * (first & 0x0F)
        if first & 0x10:  # header extension
            if offset + 4 > end:
                self.bad_packets += 1
                return
            offset += 4 + 4 * ((buf[offset + 2] << 8) | buf[offset + 3])
        if first & 0x20:  # padding: its length is the last byte
            end -= buf[end - 1]
        if offset >= end:
            self.bad_packets += 1
            return

        if self._sequence is not None and sequence != (self._sequence + 1) & 0xFFFF:
            self.lost_packets += (sequence - self._sequence - 1) & 0xFFFF
            self._corrupt = True
            self._in_fragment = False
        self._sequence = sequence
        if self._raw_ts is None:
            self._raw_ts, self._raw_ts_bytes = raw_ts, buf[start + 4 : start + 8]
        elif raw_ts != self._raw_ts:
            if self._parts:
                self._finish(out)
            delta = (raw_ts - self._raw_ts) % _WRAP
            self._ts += delta - _WRAP if delta >= _HALF else delta
            self._raw_ts, self._raw_ts_bytes = raw_ts, buf[start + 4 : start + 8]

        if self.hevc:
            self._hevc(buf, offset, end)
        else:
            self._h264(buf, offset, end)
        if second & 0x80:  # marker: the last packet of the access unit
            self._finish(out)

    def push_many(self, buf: bytearray, spans: list[tuple[int, int]], out: list[AccessUnit]) -> None:
        """``push`` for each packet at ``buf[start:end]`` of ``spans``, in order: one call per drain
        of a connection. H.264: compiled, all of it (video.rtsp.hot_path.h264_drain); in Python,
        the next FU-A pieces of the unit being built (most packets) are taken by
        hot_path.fu_a_run, a run at a time, and any other packet goes through ``push``."""
        push = self.push
        if not self.hevc and hot_path.h264_drain is not None:
            self._drain_compiled(buf, spans, out)
            return
        if self.hevc:
            for start, end in spans:
                push(buf, start, end, out)
            return
        index, count = 0, len(spans)
        while index < count:
            if self._in_fragment:
                index, self._sequence, self._in_fragment, marker = fu_a_run(
                    buf, spans, index, self.payload_type, self._sequence, self._raw_ts, self._parts
                )
                if marker:
                    self._finish(out)
                    continue
                if index == count:
                    return
            start, end = spans[index]
            index += 1
            push(buf, start, end, out)

    def _drain_compiled(self, buf: bytearray, spans: list[tuple[int, int]], out: list[AccessUnit]) -> None:
        raw_ts = self._raw_ts
        state = hot_path.h264_drain(
            buf, spans, self.payload_type, self._parts, _drain_state(self), out, AccessUnit
        )
        for name, value in zip(_DRAIN_STATE, state, strict=True):
            setattr(self, name, value)
        if self._raw_ts != raw_ts:  # what push's fast path compares a packet's timestamp bytes with
            self._raw_ts_bytes = self._raw_ts.to_bytes(4, "big")

    def flush(self, out: list[AccessUnit]) -> None:
        if self._parts:
            self._finish(out)

    def _finish(self, out: list[AccessUnit]) -> None:
        if self._parts:
            out.append(
                AccessUnit(b"".join(self._parts), self._ts, self._keyframe, self._corrupt, self._units)
            )
        self._parts = []
        self._units = 0
        self._keyframe = self._corrupt = self._in_fragment = False

    def _unit(self, header: int, second: int = 1) -> None:
        """Note a NAL unit by its header byte(s): a keyframe, or a header no encoder writes
        (forbidden bit, reserved type, an unreferenced IDR / parameter set), which marks the
        unit corrupt as video.codec.bitstream.is_malformed would."""
        if self.hevc:
            nal_type = (header >> 1) & 0x3F
            if header & 0x80 or nal_type > 40 or not second & 0x07:
                self._corrupt = True
            elif 16 <= nal_type <= 21:  # IRAP pictures: BLA, IDR, CRA
                self._keyframe = True
            return
        nal_type = header & 0x1F
        if header & 0x80 or not 1 <= nal_type <= 23 or (nal_type in (5, 7, 8) and not header & 0x60):
            self._corrupt = True
        elif nal_type == 5:  # IDR slice
            self._keyframe = True

    def _h264(self, buf: bytearray, offset: int, end: int) -> None:
        header = buf[offset]
        nal_type = header & 0x1F
        parts = self._parts
        if nal_type == 28:  # FU-A
            if offset + 2 > end:
                self._corrupt = True
                return
            fu = buf[offset + 1]
            if fu & 0x80:
                unit_header = (header & 0xE0) | (fu & 0x1F)
                parts.append(START_CODE + bytes((unit_header,)))
                self._units += 1
                self._in_fragment = True
                self._unit(unit_header)
            elif not self._in_fragment:
                self._corrupt = True  # the fragment's start was lost: drop the rest of it
                return
            parts.append(buf[offset + 2 : end])
            if fu & 0x40:
                self._in_fragment = False
        elif nal_type == 24:  # STAP-A
            self._aggregate(buf, offset + 1, end, hevc=False)
        elif 1 <= nal_type <= 23:
            parts.append(START_CODE)
            self._units += 1
            parts.append(buf[offset:end])
            self._unit(header)
        else:  # 0, 30, 31 undefined; STAP-B, MTAP, FU-B are for interleaved mode, which we never ask for
            self._corrupt = True

    def _hevc(self, buf: bytearray, offset: int, end: int) -> None:
        if offset + 2 > end:
            self._corrupt = True
            return
        nal_type = (buf[offset] >> 1) & 0x3F
        parts = self._parts
        if nal_type == 49:  # fragmentation unit
            if offset + 3 > end:
                self._corrupt = True
                return
            fu = buf[offset + 2]
            if fu & 0x80:
                unit_header = (buf[offset] & 0x81) | ((fu & 0x3F) << 1)
                parts.append(START_CODE + bytes((unit_header, buf[offset + 1])))
                self._units += 1
                self._in_fragment = True
                self._unit(unit_header, buf[offset + 1])
            elif not self._in_fragment:
                self._corrupt = True
                return
            parts.append(buf[offset + 3 : end])
            if fu & 0x40:
                self._in_fragment = False
        elif nal_type == 48:  # aggregation packet (no DONL: we never ask for interleaving)
            self._aggregate(buf, offset + 2, end, hevc=True)
        elif nal_type == 50:  # PACI
            self._corrupt = True
        else:
            parts.append(START_CODE)
            self._units += 1
            parts.append(buf[offset:end])
            self._unit(buf[offset], buf[offset + 1])

    def _aggregate(self, buf: bytearray, position: int, end: int, hevc: bool) -> None:
        parts = self._parts
        while position + 2 <= end:
            size = (buf[position] << 8) | buf[position + 1]
            position += 2
            if size == 0 or position + size > end:
                self._corrupt = True
                return
            parts.append(START_CODE)
            self._units += 1
            parts.append(buf[position : position + size])
            if hevc and size < 2:
                self._corrupt = True
                return
            self._unit(buf[position], buf[position + 1] if hevc else 1)
            position += size
