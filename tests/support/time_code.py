"""A capture time painted into a picture as black and white blocks, and read back from it.

The live-edge lag benchmark's camera paints the wall-clock time of each frame's creation
(milliseconds since the epoch) into its luma plane; whatever decodes the picture later (PyAV,
Chromium) reads the blocks back. 64 blocks of 16x16 px in 4 rows of 16 at (16, 16): an 8-bit
start marker, the 48-bit time (most significant bit first) and an 8-bit checksum (the sum of the
time's six bytes). Blocks that large survive x264 at a modest bitrate; a frame whose marker or
checksum does not match (a smeared frame) is rejected, not misread.

Only the standard library: the RTSP test server runs it under the system Python.
"""

from __future__ import annotations

BLOCK = 16
COLUMNS, ROWS = 16, 4
ORIGIN_X, ORIGIN_Y = 16, 16
MARKER = (1, 0, 1, 1, 0, 0, 1, 0)
TIME_BITS = 48
BLACK, WHITE = 16, 235  # video-range luma
SAMPLE = 8  # the side of the square read at each block's centre (away from ringing at its edges)
WIDTH_NEEDED = ORIGIN_X + COLUMNS * BLOCK
HEIGHT_NEEDED = ORIGIN_Y + ROWS * BLOCK


def _checksum(value: int) -> int:
    return sum(value.to_bytes(TIME_BITS // 8, "big")) & 0xFF


def bits_for(epoch_ms: int) -> list[int]:
    if not 0 <= epoch_ms < 1 << TIME_BITS:
        raise ValueError(f"{epoch_ms} does not fit in {TIME_BITS} bits")
    time_bits = [(epoch_ms >> (TIME_BITS - 1 - index)) & 1 for index in range(TIME_BITS)]
    check = _checksum(epoch_ms)
    return [*MARKER, *time_bits, *((check >> (7 - index)) & 1 for index in range(8))]


def paint(luma: bytearray, stride: int, epoch_ms: int) -> None:
    """Paint ``epoch_ms`` into an 8-bit luma plane (rows of ``stride`` bytes), in place."""
    for index, bit in enumerate(bits_for(epoch_ms)):
        row, column = divmod(index, COLUMNS)
        left = ORIGIN_X + column * BLOCK
        line = bytes([WHITE if bit else BLACK]) * BLOCK
        for y in range(ORIGIN_Y + row * BLOCK, ORIGIN_Y + (row + 1) * BLOCK):
            start = y * stride + left
            luma[start : start + BLOCK] = line


def block_levels(luma: bytes, stride: int) -> list[int]:
    """The mean level of the centre of each of the 64 blocks (what the browser's reader sends too)."""
    levels = []
    margin = (BLOCK - SAMPLE) // 2
    for index in range(COLUMNS * ROWS):
        row, column = divmod(index, COLUMNS)
        left = ORIGIN_X + column * BLOCK + margin
        top = ORIGIN_Y + row * BLOCK + margin
        total = sum(
            sum(luma[y * stride + left : y * stride + left + SAMPLE]) for y in range(top, top + SAMPLE)
        )
        levels.append(round(total / (SAMPLE * SAMPLE)))
    return levels


def decode_levels(levels: list[int] | tuple[int, ...]) -> int | None:
    """The painted time from the 64 block levels, or None when marker or checksum do not match."""
    if len(levels) != COLUMNS * ROWS:
        return None
    threshold = (BLACK + WHITE) / 2
    bits = [1 if level > threshold else 0 for level in levels]
    if tuple(bits[: len(MARKER)]) != MARKER:
        return None
    value = 0
    for bit in bits[len(MARKER) : len(MARKER) + TIME_BITS]:
        value = (value << 1) | bit
    check = 0
    for bit in bits[len(MARKER) + TIME_BITS :]:
        check = (check << 1) | bit
    return value if check == _checksum(value) else None
