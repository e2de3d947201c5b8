"""A recording keeps only its last MiB or two in the page cache: written video goes to disk soon and
leaves memory, instead of piling up dirty for the kernel's flusher.

Left alone, Linux keeps every written page cached, dirty for up to 30 s and then clean until memory
runs short. A node recording 100 cameras at 2 Mbit/s adds 25 MB a second that nobody reads back
soon: the cache grows through the whole memory, evicting what the node and its database do read, and
the flusher writes it in bursts. Each new page is also a page the kernel has to find: on a virtual
machine whose host backs memory on first touch, writing into never-used pages cost 2.6-2.9 ms of CPU
a MB here, against 0.2 ms a MB into pages used before (benchmarks/README.md, "Write-behind").

So, as a streaming writer (PostgreSQL's ``*_flush_after``, ``dd oflag=nocache``), each writer asks
the disk to start writing what it wrote (``sync_file_range(SYNC_FILE_RANGE_WRITE)``, which does not
wait) every ``step`` bytes, and drops from the cache what it sent one step before, clean by then
(``posix_fadvise(POSIX_FADV_DONTNEED)``). The kernel hands the freed pages to the next write, warm.

At close the rest is written and waited for (``fdatasync``) before the caller enters the segment's
hash in the index: a closed row never names bytes that a power cut could still take back.
"""

from __future__ import annotations

import ctypes
import logging
import os

log = logging.getLogger(__name__)

STEP_BYTES = 1 << 20  # 4 s of a 2 Mbit/s camera: writeback in 1 MiB requests, a few pages cached
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
SYNC_FILE_RANGE_WRITE = 2  # linux/fs.h


def _sync_file_range():
    """glibc's ``sync_file_range`` (Linux), or None: Python's os module has no binding for it."""
    try:
        function = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (AttributeError, OSError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_START_WRITEBACK = _sync_file_range()
_DROP = getattr(os, "posix_fadvise", None)


class WriteBehind:
    """Follows one file being appended to through ``fd``; :meth:`written` after each write."""

    def __init__(self, fd: int, step: int = STEP_BYTES) -> None:
        self.fd = fd
        self.step = step
        self.enabled = _DROP is not None
        self._sent = 0  # writeback started for the bytes before this offset
        self._dropped = 0  # the cache no longer holds the whole pages before this offset

    def written(self, end: int) -> None:
        """The file now ends at ``end``: start its writeback a step at a time, drop the step before."""
        if not self.enabled or end - self._sent < self.step:
            return
        sent_before = self._sent
        try:
            if _START_WRITEBACK is not None:
                if _START_WRITEBACK(self.fd, sent_before, end - sent_before, SYNC_FILE_RANGE_WRITE) != 0:
                    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
            if sent_before > self._dropped:
                _DROP(self.fd, self._dropped, sent_before - self._dropped, os.POSIX_FADV_DONTNEED)
                self._dropped = sent_before - sent_before % PAGE  # a partial page is kept by the kernel
        except OSError as exc:
            self._give_up(exc)
            return
        self._sent = end

    def finish(self) -> None:
        """The file is complete: wait until all of it is on disk, then drop it from the cache.

        Raises OSError when the disk cannot take it (the caller treats it as a write error)."""
        os.fdatasync(self.fd)
        if self.enabled:
            try:
                _DROP(self.fd, 0, 0, os.POSIX_FADV_DONTNEED)
            except OSError as exc:
                self._give_up(exc)

    def _give_up(self, exc: OSError) -> None:
        """A file system that refuses the hints (some network ones): the page cache as usual."""
        self.enabled = False
        log.info("write-behind off for fd %d: %s", self.fd, exc)
