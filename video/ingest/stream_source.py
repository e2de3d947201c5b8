"""What a reader opens: a stream's URL (with credentials), its safe name, and how to read it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class StreamSource:
    """What to open and how: ``url`` may carry credentials, ``display`` never does."""

    url: str
    display: str
    options: dict[str, str] = field(default_factory=dict)
    realtime: bool = False  # a file: pace packets by their timestamps, as a camera would send them
    loop: bool = False  # a file: start again at the end
    transport: str = "auto"  # RTSP: "tcp", "udp", or "auto" (TCP, then UDP when TCP is refused)
    on_release: Callable[[], None] | None = field(default=None, compare=False, repr=False)

    def release(self) -> None:
        """The reader is done with the stream for good (a demo camera's pipe closes); safe to repeat."""
        if self.on_release is not None:
            self.on_release()

    @property
    def is_network(self) -> bool:
        return not self.realtime
