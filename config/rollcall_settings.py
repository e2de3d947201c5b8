"""How roll-calls (视频点名) run: the countdown, the clip after the answer, and the scheduled
roll-calls of each county (off unless a county is listed)."""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict, Field, model_validator


class RollcallSchedule(BaseModel):
    """``per_day`` roll-calls at random times between ``start`` and ``end`` (the site's local time)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_day: int = Field(default=0, ge=0, le=24)
    start: time = time(9, 0)
    end: time = time(17, 0)

    @model_validator(mode="after")
    def _window(self) -> RollcallSchedule:
        if self.end <= self.start:
            raise ValueError(f"the window's end {self.end} is not after its start {self.start}")
        return self


class RollcallSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    countdown_s: float = Field(default=60, ge=5, le=600)  # how long a centre has to answer 到
    after_answer_s: float = Field(default=10, ge=0, le=120)  # the clip runs this long past the answer
    # a span still not recorded this long after its end is checked with what there is (a camera offline)
    recording_grace_s: float = Field(default=30, ge=1, le=600)
    # scheduled roll-calls per county code; a county not listed has none
    schedule: dict[str, RollcallSchedule] = Field(default_factory=dict)
    # a planned time missed by more than this (the server was down) is skipped, not fired late
    late_limit_s: float = Field(default=600, ge=5)
    tick_s: float = Field(default=0.5, gt=0, le=30)  # how often the roll-call worker looks
