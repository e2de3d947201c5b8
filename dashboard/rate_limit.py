"""Login throttling: failures counted per (user, address) with a progressive delay, bounded in memory.

No account is ever locked for everyone: five wrong passwords for ``admin`` from one address make
that address wait (30 s, then twice as long after each further failure, at most 15 minutes) while
``admin`` logs in from its own desk as usual. One address failing across many user names meets a
ceiling of its own. A success clears the (user, address) pair; failures are forgotten
``forget_after_s`` after the last one.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass
class Failures:
    count: int
    last: float


class ProgressiveDelay:
    """Per key: ``free`` failures pass; then ``base_s`` * 2**(failures beyond free), capped at ``max_s``."""

    def __init__(
        self,
        free: int,
        base_s: float,
        max_s: float,
        forget_after_s: float = 900.0,
        max_keys: int = 10_000,
    ) -> None:
        self.free, self.base_s, self.max_s = free, base_s, max_s
        self.forget_after_s = forget_after_s
        self.max_keys = max_keys
        self._failures: dict[object, Failures] = {}
        self._lock = threading.Lock()

    def delay_after(self, count: int) -> float:
        if count < self.free:
            return 0.0
        return min(self.base_s * 2 ** (count - self.free), self.max_s)

    def retry_after(self, key, now: float | None = None) -> float:
        """Seconds until ``key`` may try again; 0 when it may now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            failures = self._failures.get(key)
            if failures is None:
                return 0.0
            if now - failures.last >= max(self.forget_after_s, self.delay_after(failures.count)):
                del self._failures[key]
                return 0.0
            return max(0.0, failures.last + self.delay_after(failures.count) - now)

    def record(self, key, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            failures = self._failures.get(key)
            if failures is None:
                if len(self._failures) >= self.max_keys:  # forget the stalest key
                    del self._failures[min(self._failures, key=lambda k: self._failures[k].last)]
                self._failures[key] = Failures(1, now)
            else:
                failures.count += 1
                failures.last = now

    def reset(self, key) -> None:
        with self._lock:
            self._failures.pop(key, None)


class LoginThrottle:
    """What /login asks before checking a password, and tells after a failure or a success."""

    def __init__(self) -> None:
        self.pairs = ProgressiveDelay(free=5, base_s=30.0, max_s=900.0)
        self.addresses = ProgressiveDelay(free=50, base_s=60.0, max_s=900.0)

    def retry_after(self, username: str, address: str, now: float | None = None) -> float:
        return max(
            self.pairs.retry_after((username.lower(), address), now),
            self.addresses.retry_after(address, now),
        )

    def failed(self, username: str, address: str, now: float | None = None) -> None:
        self.pairs.record((username.lower(), address), now)
        self.addresses.record(address, now)

    def succeeded(self, username: str, address: str) -> None:
        self.pairs.reset((username.lower(), address))
