"""Cap the C allocator's arenas before the ingest starts its per-camera threads.

glibc gives each thread that allocates under contention an arena of its own, up to eight per
core, and an arena keeps its freed memory: every camera's reader, keyframe and recorder threads
(FFmpeg packets and pictures are allocated with malloc) each hold one. A few arenas shared by all
threads serve the ingest's contention, which is low (its threads mostly wait on sockets), and save
that memory per camera (measured in benchmarks/streams, "Arenas").

``WATCHWALL_MALLOC_ARENAS`` sets the cap (default 2); 0 leaves glibc's default. An explicit
``MALLOC_ARENA_MAX`` in the environment is glibc's own setting and wins.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's malloc.h
DEFAULT_ARENAS = 2
_applied: int | None = None


def arenas_wanted(environ=os.environ) -> int:
    """The cap asked for; 0 for none. A value that is not a whole number >= 0 is refused."""
    raw = environ.get("WATCHWALL_MALLOC_ARENAS", str(DEFAULT_ARENAS)).strip()
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ValueError(
            f"WATCHWALL_MALLOC_ARENAS must be a whole number >= 0 (0: glibc's default), not {raw!r}"
        )
    return value


def cap_malloc_arenas(environ=os.environ) -> int | None:
    """Apply the cap once per process; the cap applied, or None when left to glibc."""
    global _applied
    if _applied is not None:
        return _applied
    wanted = arenas_wanted(environ)
    if wanted == 0 or "MALLOC_ARENA_MAX" in environ:
        return None
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError, TypeError):  # not glibc (musl, macOS): nothing to cap
        return None
    if mallopt(M_ARENA_MAX, wanted) != 1:
        log.warning("mallopt(M_ARENA_MAX, %d) failed; the allocator keeps its default arenas", wanted)
        return None
    _applied = wanted
    return wanted
