"""Face presence in recorded video: sampling, thresholds, and the span a video-verified check-in links."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class FaceCheckSettings(BaseModel):
    """How a recorded span is checked for a face (presence only: no identity, no embeddings)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # frames analysed per second of the span: one per window of 1/sample_fps s
    sample_fps: float = Field(default=2.0, gt=0, le=10)
    # the smallest face counted, as its height in pixels of the analysed picture (analysis_height
    # tall): 32 of 320 is a face a tenth of the frame's height, whatever the camera's resolution
    min_face_px: int = Field(default=32, ge=20, le=2000)
    # how many analysed frames must show a face for the span to count as "face present"
    min_frames_with_face: int = Field(default=2, ge=1)
    # frames taller than this are scaled down (aspect kept) before detection: the cost of a 1080p
    # frame becomes that of a 320p one
    analysis_height: int = Field(default=320, ge=120, le=2160)
    # the cascade's step between face sizes when the whole picture is searched: 1.1 finds a little
    # more and costs about twice 1.2; 1.25 costs about 0.6 of 1.2 (benchmarks/README.md, "Face presence")
    scale_factor: float = Field(default=1.25, gt=1.0, le=2.0)
    # a sample whose picture differs from the last analysed one by less than this (mean absolute
    # difference of 8-bit grey levels, on an 80x45 thumbnail) is the same picture: it gets the same
    # answer without a new search (a still, empty room costs one search, not one per sample); 0: off
    still_difference: float = Field(default=1.5, ge=0, le=50)
    # a sample after one without a face is searched only if the next one shows a face (then both are):
    # a face seen in two samples in a row is always found and every frame with it counted; a face in
    # one lone sample can be missed. 2 halves the whole-picture searches of a busy room without
    # anyone; 1: every sample is searched. Of two neighbouring samples the one left is the deepest of
    # its group of pictures, which is then not decoded either (benchmarks/README.md, "Face presence")
    search_every: Literal[1, 2] = 2
    # the most a check decodes, in megapixels per second of the span (a 1920x1080 picture is 2.07,
    # 640x360 0.23): the frames to decode are known before any is decoded, and while they exceed this
    # the deepest chosen sample (the most P-frames to decode before it) is left out; keyframes are
    # always kept. 13 keeps a camera-encoded 1080p span within the speed goal (1080p25 with a keyframe
    # every 2 s: about one sample a second) and never touches 640x360 at 15 or 25 fps (at most about
    # 6). None: no budget, every window sampled (benchmarks/README.md, "Face presence", "Decode budget")
    decode_budget_mpix_per_s: float | None = Field(default=13.0, gt=0, le=10_000, allow_inf_nan=False)
    # ... but one sample every this many seconds of the span is kept whatever it costs (the cheapest in
    # each such window): a camera with a long group of pictures (8 s, H.265 "smart" codecs) would else
    # be sampled only just after its keyframes. 3 s gives a face seen for 9 s or more at least 2
    # samples (min_frames_with_face); None: no floor (keyframes only, if the budget needs it)
    decode_floor_s: float | None = Field(default=3.0, gt=0, le=3600, allow_inf_nan=False)
    # which of OpenCV's frontal-face Haar cascades (benchmarks/README.md, "Face presence", compares them)
    cascade: Literal["alt2", "alt", "default"] = "alt2"
    # the Haar cascade's minNeighbors: higher refuses more false faces and misses more real ones
    min_neighbors: int = Field(default=5, ge=1, le=20)
    snapshot_jpeg_quality: int = Field(default=80, ge=30, le=95)
    snapshot_max_width: int = Field(default=640, ge=160, le=1920)


class CheckinVideoSettings(BaseModel):
    """Which span a video-verified check-in links, and when its face check runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    before_s: float = Field(default=10.0, ge=0, le=300)
    after_s: float = Field(default=20.0, gt=0, le=300)
    # the check runs once the camera's recording has passed the span's end by this much
    settle_margin_s: float = Field(default=2.0, ge=0, le=300)
    # ... or, at the latest, this long after the span's end (a camera that stopped recording)
    settle_timeout_s: float = Field(default=180.0, gt=0, le=86_400)
    # how often the worker looks for checks that are due
    poll_interval_s: float = Field(default=2.0, gt=0, le=300)
    # at most this many checks run in one pass of the worker
    batch_size: int = Field(default=8, ge=1, le=200)
