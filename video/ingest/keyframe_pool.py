"""The threads that serve every camera's keyframe worker in the process: a few, not one per camera.

A thread per camera cost about 1.9 MiB a camera (its own glibc malloc arena, its decoder's and
pictures' memory left in that arena between keyframes seconds apart; benchmarks/streams/run.py).
Here the cameras take turns on ``POOL_THREADS`` threads: a camera is woken when its keyframe
queue receives a keyframe, handles at most one keyframe a turn and then goes to the back of the
line, so a camera with a slow decode delays the others by one keyframe at most and never starves
them. A camera is never run by two threads at once. The queues keep only the newest keyframe,
so a slow turn drops old keyframes, it builds no backlog.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Protocol

log = logging.getLogger(__name__)

POOL_THREADS = 2  # one decode may take tens of ms (1080p H.265 on the fallback); the other thread goes on
IDLE_WAIT_S = 1.0  # a thread with nothing to do checks this often whether any camera is left


class PoolMember(Protocol):
    name: str

    def take_turn(self) -> bool:
        """Handle at most one queued keyframe; True when more is waiting."""
        ...


class KeyframePool:
    _shared: KeyframePool | None = None
    _shared_lock = threading.Lock()

    def __init__(self, threads: int = POOL_THREADS) -> None:
        self.size = max(1, threads)
        self._changed = threading.Condition(threading.Lock())
        self._members: set[PoolMember] = set()
        self._ready: deque[PoolMember] = deque()  # each member at most once, in the order woken
        self._running: set[PoolMember] = set()
        self._woken_while_running: set[PoolMember] = set()
        self._threads: list[threading.Thread] = []
        self.turns = 0

    @classmethod
    def shared(cls) -> KeyframePool:
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    def join(self, member: PoolMember) -> None:
        with self._changed:
            self._members.add(member)
            self._threads = [thread for thread in self._threads if thread.is_alive()]
            while len(self._threads) < self.size:
                thread = threading.Thread(
                    target=self._serve, name=f"keyframes-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()

    def leave(self, member: PoolMember, timeout: float) -> bool:
        """Takes ``member`` out; waits up to ``timeout`` for a turn it is in to end (False if it did not)."""
        with self._changed:
            self._members.discard(member)
            if member in self._ready:
                self._ready.remove(member)
            self._woken_while_running.discard(member)
            return self._changed.wait_for(lambda: member not in self._running, timeout)

    def wake(self, member: PoolMember) -> None:
        """``member`` has a keyframe waiting: give it a turn."""
        with self._changed:
            if member not in self._members:
                return
            if member in self._running:
                self._woken_while_running.add(member)
            elif member not in self._ready:
                self._ready.append(member)
                self._changed.notify()

    def is_member(self, member: PoolMember) -> bool:
        with self._changed:
            return member in self._members or member in self._running

    @property
    def threads_alive(self) -> int:
        with self._changed:
            return sum(thread.is_alive() for thread in self._threads)

    def _serve(self) -> None:
        while True:
            with self._changed:
                while not self._ready:
                    if not self._members:  # no camera left: the thread ends, join() starts another
                        self._threads = [t for t in self._threads if t is not threading.current_thread()]
                        return
                    self._changed.wait(IDLE_WAIT_S)
                member = self._ready.popleft()
                self._running.add(member)
            try:
                more = member.take_turn()
            except Exception:  # a member's failure must not end a thread that serves every camera
                log.exception("keyframe turn of %s failed", member.name)
                more = False
            with self._changed:
                self._running.discard(member)
                self.turns += 1
                again = member in self._woken_while_running or more
                self._woken_while_running.discard(member)
                if again and member in self._members and member not in self._ready:
                    self._ready.append(member)  # to the back: the others go first
                self._changed.notify_all()  # a leave() may be waiting for this turn to end
