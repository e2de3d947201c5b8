"""The fragment header packed in one go is the moof + mdat header built box by box from
ISO/IEC 14496-12 (mfhd; traf with tfhd default-base-is-moof, tfdt version 1, trun version 1
with data offset and per-sample duration, size, flags and composition offset)."""

from __future__ import annotations

import random
import struct

import pytest

from watchwall.video.codec.fmp4 import (
    NON_SYNC_SAMPLE_FLAGS,
    SYNC_SAMPLE_FLAGS,
    box,
    fragment_header,
    full_box,
)


def box_by_box(sequence: int, base_decode_time: int, table) -> bytes:
    entries = b"".join(
        struct.pack(">IIIi", d, s, SYNC_SAMPLE_FLAGS if k else NON_SYNC_SAMPLE_FLAGS, c)
        for d, s, k, c in table
    )

    def moof(data_offset: int) -> bytes:
        trun = full_box(b"trun", 1, 0x000F01, struct.pack(">Ii", len(table), data_offset), entries)
        tfhd = full_box(b"tfhd", 0, 0x020000, struct.pack(">I", 1))
        tfdt = full_box(b"tfdt", 1, 0, struct.pack(">Q", base_decode_time))
        return box(
            b"moof", full_box(b"mfhd", 0, 0, struct.pack(">I", sequence)), box(b"traf", tfhd, tfdt, trun)
        )

    size = len(moof(0))
    return moof(size + 8) + struct.pack(">I4s", 8 + sum(row[1] for row in table), b"mdat")


@pytest.mark.parametrize("count", [0, 1, 2, 25, 60, 300])
def test_one_pack_equals_the_boxes_built_one_by_one(count):
    rng = random.Random(count)
    table = [
        (rng.randrange(1, 10_000), rng.randrange(0, 500_000), rng.random() < 0.1, rng.randrange(-9000, 9000))
        for _ in range(count)
    ]
    sequence, base = rng.randrange(1, 2**32), rng.randrange(0, 2**63)
    assert fragment_header(sequence, base, table) == box_by_box(sequence, base, table)


def test_the_moof_says_where_its_samples_start():
    table = [(3600, 1000, True, 0), (3600, 200, False, 3600)]
    header = fragment_header(7, 0, table)
    moof_size = struct.unpack(">I", header[:4])[0]
    data_offset = struct.unpack(">i", header[moof_size - 16 * len(table) - 4 : moof_size - 16 * len(table)])[
        0
    ]
    assert data_offset == moof_size + 8 == len(header)
    assert header[-4:] == b"mdat" and struct.unpack(">I", header[-8:-4])[0] == 8 + 1200
