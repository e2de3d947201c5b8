"""Write-behind: a recording's written video leaves the page cache a step behind the writer, and
a closed segment is on disk and out of the cache. Residency is read with util-linux's fincore."""

from __future__ import annotations

import os
import subprocess

from tests.video.record.recording_media import h264_clip, media_packets
from watchwall.video.record.h264_segment import H264SegmentWriter
from watchwall.video.record.segments import SegmentWriter, file_sha256
from watchwall.video.record.write_behind import WriteBehind

T0 = 1_790_000_000.0
KIB = 1024


def cached_bytes(path) -> int:
    out = subprocess.run(
        ["fincore", "--bytes", "--noheadings", "--raw", "--output", "RES", str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    )
    return int(out.stdout.strip())


def append(path, chunks: int, chunk: bytes, behind: bool) -> int:
    """Append ``chunks`` times ``chunk``; the test waits for the disk after each (fdatasync) so that
    what write-behind sent is clean at its next step, as it is when a second passes between them."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        follower = WriteBehind(fd, step=256 * KIB) if behind else None
        size = 0
        for _ in range(chunks):
            size += os.write(fd, chunk)
            if follower is not None:
                follower.written(size)
            os.fdatasync(fd)
        return cached_bytes(path)
    finally:
        os.close(fd)


def test_an_open_file_keeps_about_two_steps_cached_and_plain_writes_keep_all(tmp_path):
    chunk = os.urandom(128 * KIB)
    plain = append(tmp_path / "plain.bin", 64, chunk, behind=False)
    followed = append(tmp_path / "followed.bin", 64, chunk, behind=True)
    assert plain == 64 * len(chunk)  # the kernel keeps clean written pages while memory is free
    assert followed <= 2 * 256 * KIB + 4 * KIB, followed


def test_closed_segments_are_on_disk_and_out_of_the_cache(tmp_path):
    info, raw = h264_clip(6.0)
    packets = media_packets("cam", info, raw, T0)
    for writer_class in (H264SegmentWriter, SegmentWriter):
        path = tmp_path / f"{writer_class.__name__}.mp4"
        writer = writer_class(path, info, T0)
        for packet in packets:
            writer.write(packet)
        summary = writer.close()
        assert summary.bytes == path.stat().st_size > 0
        assert cached_bytes(path) == 0, writer_class.__name__
        assert file_sha256(path) == summary.sha256  # read back from the disk, the same bytes


def test_the_followed_file_is_unchanged(tmp_path):
    data = os.urandom(3 * 256 * KIB + 1234)
    path = tmp_path / "file.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        follower = WriteBehind(fd, step=64 * KIB)
        for offset in range(0, len(data), 10_000):
            os.write(fd, data[offset : offset + 10_000])
            follower.written(min(offset + 10_000, len(data)))
        follower.finish()
    finally:
        os.close(fd)
    assert cached_bytes(path) == 0
    assert path.read_bytes() == data


def test_a_descriptor_that_refuses_the_hints_turns_write_behind_off_and_writes_on(tmp_path):
    read_end, write_end = os.pipe()  # ESPIPE for both calls, as some file systems refuse them
    try:
        follower = WriteBehind(write_end, step=4 * KIB)
        os.write(write_end, b"x" * 8 * KIB)
        follower.written(8 * KIB)
        assert not follower.enabled
        follower.written(16 * KIB)  # no second attempt, no error
        assert os.read(read_end, 16 * KIB) == b"x" * 8 * KIB
    finally:
        os.close(read_end)
        os.close(write_end)
