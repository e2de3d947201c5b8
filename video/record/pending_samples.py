"""The samples of an H.264 segment's fragment in progress, and the fragment they make once it is full.

The recorder's work per packet, compiled where the package was built with its C extension
(``_fragments.c``), in Python otherwise. A recording node hands each of its cameras' 25 packets a
second to this; in Python the bookkeeping (the sample's pieces, the pending list, the fragment's
table and join) cost about 6 µs a packet, more than writing the fragment to the page cache.

``PendingSamples(fragment_ticks, general)`` takes each packet with ``add``:

- a packet whose decode time equals the last sample's is the same picture (a keyframe in several
  packets): it joins that sample; one whose decode time went backwards is dropped (it would break
  the file's timeline). ``add`` returns ``MERGED_OR_DROPPED`` for both;
- otherwise the packet is a new sample (``APPENDED``), and when it is a keyframe or the pending
  samples span ``fragment_ticks``, those samples become a fragment first (``FRAGMENT_DUE``):
  ``take_fragment()`` returns it, a moof and an mdat as bytes, and the count of its samples.

``flush(tail_duration)`` makes the fragment of what is pending at the end of a segment (None if
nothing is). A sample is the packet in MP4 framing: a packet that is one NAL unit behind a 4-byte
start code (the RTSP depacketiser counts the units: ``nal_units``) becomes its length and the
packet's bytes after the start code; any other is converted by ``general`` (``mp4_sample``).

The two implementations make the same bytes from the same calls: the tests run both.
``WATCHWALL_PURE_PYTHON=1`` (or ``recording``) in the environment picks Python
(config.compiled_paths).
"""

from __future__ import annotations

from collections.abc import Callable

from watchwall.config.compiled_paths import describe as describe_path
from watchwall.config.compiled_paths import pure_python_asked
from watchwall.video.codec import nal
from watchwall.video.codec.fmp4 import fragment_header

try:
    from watchwall.video.record import _fragments
except ImportError:  # built without a C compiler: the Python class below runs
    _fragments = None

MERGED_OR_DROPPED, APPENDED, FRAGMENT_DUE = 0, 1, 2


def mp4_sample(data: bytes) -> bytes:
    """A packet in either framing as an MP4 sample: every NAL unit behind its 4-byte length.

    In-band parameter sets stay in the sample, as FFmpeg's muxer leaves them: a camera that
    changes them mid-segment still decodes."""
    return nal.length_prefixed(nal.nal_units(data))


def sample_of(
    data: bytes, nal_units: int = 0, general: Callable[[bytes], bytes] = mp4_sample
) -> tuple[list, int]:
    """``general(data)`` as the pieces to join (without copying the packet), and its size.

    The usual packet of an RTSP camera is one NAL unit behind a 4-byte start code (a P-frame):
    its sample is its length and the packet's bytes after the start code. ``nal_units`` is how
    many units the RTSP depacketiser put into the packet (MediaPacket.nal_units); when it says
    one, that is known without looking. Otherwise one search through the packet tells (the
    search costs more than hashing the packet). Anything else (several units, 3-byte start
    codes, length-prefixed packets) takes the general way.
    """
    if one_unit(data, nal_units):
        size = len(data) - 4
        return ([size.to_bytes(4, "big"), memoryview(data)[4:]], size + 4) if size else ([], 0)
    sample = general(data)
    return [sample], len(sample)


def one_unit(data: bytes, nal_units: int) -> bool:
    """Whether ``data`` is one NAL unit behind a 4-byte start code (``nal_units``: the count the
    depacketiser made, 0 when unknown or the packet is damaged: then the bytes tell)."""
    if not data.startswith(nal.START_CODE):
        return False
    if nal_units:
        return nal_units == 1
    return data.find(b"\x00\x00\x01", 4) < 0 and not _length_prefixed(data)


def _length_prefixed(data: bytes) -> bool:
    """Whether ``data`` reads whole as 4-byte lengths and units (what nal_units tries first)."""
    offset, size = 0, len(data)
    while offset + 4 <= size:
        length = int.from_bytes(data[offset : offset + 4], "big")
        if length == 0 or offset + 4 + length > size:
            return False
        offset += 4 + length
    return offset == size


class PythonPendingSamples:
    """The reference implementation (see the module's text)."""

    def __init__(self, fragment_ticks: int, general: Callable[[bytes], bytes]) -> None:
        self.fragment_ticks = fragment_ticks
        self._general = general
        # [sample parts, sample size, dts, composition offset, keyframe] a sample
        self._pending: list[list] = []
        self._fragment: tuple[bytes, int] | None = None
        self._last_duration = 0
        self.sequence = 0

    def __len__(self) -> int:
        return len(self._pending)

    @property
    def first_dts(self) -> int | None:
        return self._pending[0][2] if self._pending else None

    @property
    def last_dts(self) -> int | None:
        return self._pending[-1][2] if self._pending else None

    def add(self, data: bytes, nal_units: int, dts: int, offset: int, keyframe: bool) -> int:
        parts, size = sample_of(data, nal_units, self._general)
        pending = self._pending
        outcome = APPENDED
        if pending:
            last = pending[-1]
            if dts == last[2]:
                last[0] += parts
                last[1] += size
                last[4] = last[4] or keyframe
                return MERGED_OR_DROPPED
            if dts < last[2]:
                return MERGED_OR_DROPPED
            if keyframe or dts - pending[0][2] >= self.fragment_ticks:
                self._fragment = self._build(dts, None)
                pending = self._pending
                outcome = FRAGMENT_DUE
        pending.append([parts, size, dts, offset, keyframe])
        return outcome

    def take_fragment(self) -> tuple[bytes, int]:
        fragment, self._fragment = self._fragment, None
        if fragment is None:
            raise RuntimeError("no fragment is due")
        return fragment

    def flush(self, tail_duration: int | None) -> tuple[bytes, int] | None:
        return self._build(None, tail_duration) if self._pending else None

    def _build(self, next_dts: int | None, tail_duration: int | None) -> tuple[bytes, int]:
        """The pending samples as one fragment; ``next_dts`` gives the last one's duration, or
        else ``tail_duration`` (the last packet's own) or the duration before it."""
        pending, self._pending = self._pending, []
        table = []
        data = []
        for index, (parts, size, dts, offset, keyframe) in enumerate(pending):
            following = pending[index + 1][2] if index + 1 < len(pending) else next_dts
            if following is not None:
                duration = following - dts
            else:
                duration = tail_duration or self._last_duration
            self._last_duration = duration
            table.append((duration, size, keyframe, offset))
            data += parts
        self.sequence += 1
        header = fragment_header(self.sequence, pending[0][2], table)
        return b"".join([header, *data]), len(table)


COMPILED = None if _fragments is None or pure_python_asked("recording") else _fragments.PendingSamples
PendingSamples = COMPILED or PythonPendingSamples


def describe() -> str:
    """For the node's log: which of the two runs here."""
    return describe_path("recording", "watchwall.video.record._fragments" if COMPILED is not None else None)
