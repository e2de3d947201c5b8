"""A snapshot at the stream's full resolution: the newest keyframe of a camera's main stream, decoded
once and encoded as JPEG at its own size (the thumbnails are scaled down; a browser's canvas grab is
scaled to the player's box).

The fan-out keeps the current GOP's keyframe (of any codec), so it is at hand without waiting; only when
there is none yet (the stream just started) does this wait for the next one.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2

from watchwall.video.analysis.opencv_at_exit import opencv_work
from watchwall.video.ingest.fanout import MAX_GOP_PACKETS, Fanout
from watchwall.video.ingest.keyframes import KeyframeDecoder

SNAPSHOT_JPEG_QUALITY = 92


@dataclass(frozen=True)
class FullSnapshot:
    jpeg: bytes
    width: int
    height: int
    at: float  # the keyframe's wall-clock time, epoch seconds


def full_resolution_jpeg(fanout: Fanout, timeout_s: float = 5.0) -> FullSnapshot | None:
    """The newest keyframe of ``fanout`` as a full-size JPEG; None when none comes within ``timeout_s``
    or it does not decode."""
    subscription = fanout.subscribe(
        "full-snapshot", maxsize=MAX_GOP_PACKETS + 1, keyframes_only=True, from_last_keyframe=True
    )
    try:
        packet = subscription.get(timeout=timeout_s)
    finally:
        subscription.close()
    if packet is None:
        return None
    frame = KeyframeDecoder().decode(packet)
    if frame is None:
        return None
    picture = frame.to_ndarray(format="bgr24")
    with opencv_work():
        ok, encoded = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, SNAPSHOT_JPEG_QUALITY])
    if not ok:
        return None
    return FullSnapshot(encoded.tobytes(), frame.width, frame.height, packet.wallclock)
