"""One thread that drains every playing RTSP session of the process, a few dozen times a second.

Each tick reads whatever every socket holds, depacketises it and hands the finished access
units to the session's reader. The tick is what saves CPU: FFmpeg's demuxer wakes for every
RTP packet of every camera (about 700 receive calls a second per 2 Mbit/s camera); this loop
wakes ten times a second whatever the number of cameras, and finds a few frames waiting on
each socket. It adds at most one tick (``rtsp_poll_interval_s``, 100 ms) of latency to the
live view; 40 ms cost 20 % more CPU in all (benchmarks/README.md).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from watchwall.video.ingest.stream_errors import UNREACHABLE, StreamFailure
from watchwall.video.rtsp.depacketize import AccessUnit
from watchwall.video.rtsp.session import RtspSession

log = logging.getLogger(__name__)

TICK_S = 0.1  # the default of the rtsp_poll_interval_s setting

Deliver = Callable[[list[AccessUnit], float], None]
Failed = Callable[[BaseException], None]


@dataclass(eq=False)
class Attachment:
    session: RtspSession
    deliver: Deliver
    failed: Failed
    silence_s: float
    detached: bool = field(default=False)


class RtspLoop:
    _shared: RtspLoop | None = None
    _shared_lock = threading.Lock()

    def __init__(self, tick_s: float = TICK_S) -> None:
        self.tick_s = tick_s
        self._attachments: list[Attachment] = []
        self._lock = threading.RLock()  # held while a session is drained: detach waits for it
        self._wake = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self.ticks = 0

    @classmethod
    def shared(cls) -> RtspLoop:
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    def attach(self, session: RtspSession, deliver: Deliver, failed: Failed, silence_s: float) -> Attachment:
        attachment = Attachment(session, deliver, failed, silence_s)
        with self._lock:
            self._attachments.append(attachment)
        with self._wake:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="rtsp-loop", daemon=True)
                self._thread.start()
            self._wake.notify()
        return attachment

    def detach(self, attachment: Attachment) -> None:
        """After this returns, the attachment's callbacks are not called again."""
        with self._lock:
            attachment.detached = True
            if attachment in self._attachments:
                self._attachments.remove(attachment)

    @property
    def sessions(self) -> int:
        return len(self._attachments)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._attachments:
                    self._wake.wait()  # nothing to read: sleep without ticking
            started = time.monotonic()
            self.ticks += 1
            for attachment in tuple(self._attachments):
                self._drain(attachment, started)
            time.sleep(max(0.0, self.tick_s - (time.monotonic() - started)))

    def _drain(self, attachment: Attachment, now: float) -> None:
        failure: BaseException | None = None
        with self._lock:
            if attachment.detached:
                return
            units: list[AccessUnit] = []
            try:
                attachment.session.pump(now, units)
                silent = now - attachment.session.last_data
                if silent > attachment.silence_s:
                    raise StreamFailure(
                        UNREACHABLE, f"{attachment.session.display}: no data for {silent:.1f} s"
                    )
            except Exception as exc:  # the session is over; its reader reconnects
                failure = exc
            if units:
                try:
                    attachment.deliver(units, now)
                except StreamFailure as exc:  # the reader ends the session on purpose
                    log.info("%s", exc.detail)
                    failure = failure or exc
                except Exception as exc:
                    log.exception("camera stream %s: delivery failed", attachment.session.display)
                    failure = failure or exc
            if failure is not None:
                attachment.detached = True
                self._attachments.remove(attachment)
        if failure is not None:
            attachment.failed(failure)
