"""OpenCV calls made off the main thread, let finish before the interpreter exits.

Python 3.11 and 3.12 end a daemon thread that asks for the GIL back once finalisation has begun with
``pthread_exit``. OpenCV's bindings give the GIL up for a call and take it back in a C++ destructor,
which may not throw: the forced unwind of ``pthread_exit`` through it calls ``std::terminate``, and
a process that had finished its work dies with SIGABRT ("terminate called without an active
exception"). Seen with ``watchwall ingest`` ending while its demo encoders were drawing a frame.

So the threads that call OpenCV (keyframe turns, demo encoders, face checks, snapshots) do it inside
:func:`opencv_work`, and the exit hook below closes the door and waits for the calls in progress
(each takes milliseconds; at most ``EXIT_WAIT_S``) before finalisation starts. A call asked for after
that raises :class:`InterpreterExiting`, which its thread takes as the signal to end.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator
from contextlib import contextmanager

EXIT_WAIT_S = 5.0


class InterpreterExiting(RuntimeError):
    """The interpreter is exiting: no OpenCV call may start any more."""


class _Door:
    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._inside = 0
        self._closed = False

    @contextmanager
    def work(self) -> Iterator[None]:
        with self._changed:
            if self._closed:
                raise InterpreterExiting("the process is exiting")
            self._inside += 1
        try:
            yield
        finally:
            with self._changed:
                self._inside -= 1
                self._changed.notify_all()

    def close(self, timeout: float = EXIT_WAIT_S) -> bool:
        """No call starts after this; True when none was left running within ``timeout``."""
        with self._changed:
            self._closed = True
            return self._changed.wait_for(lambda: self._inside == 0, timeout)

    @property
    def inside(self) -> int:
        with self._changed:
            return self._inside


_door = _Door()
atexit.register(_door.close)  # atexit runs before finalisation stops daemon threads


def opencv_work():
    """``with opencv_work(): ...`` around OpenCV calls on a thread other than the main one."""
    return _door.work()


def calls_in_progress() -> int:
    return _door.inside
