"""When each check-in slot is owed: one window per slot, in the site's local time.

A slot counts as missed only once its window has closed. Windows are ``HH:MM``
pairs; each must end after it starts, and the morning window must end before
(or when) the afternoon window starts.
"""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict, model_validator


class Window(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: time
    end: time

    @model_validator(mode="after")
    def _ends_after_start(self) -> Window:
        if self.end <= self.start:
            raise ValueError(f"window ends ({self.end:%H:%M}) before or when it starts ({self.start:%H:%M})")
        return self


class CheckinWindows(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    morning: Window = Window(start=time(6, 0), end=time(12, 0))
    afternoon: Window = Window(start=time(12, 0), end=time(20, 0))

    @model_validator(mode="after")
    def _in_order(self) -> CheckinWindows:
        if self.afternoon.start < self.morning.end:
            raise ValueError(
                f"windows overlap: morning ends {self.morning.end:%H:%M}, "
                f"afternoon starts {self.afternoon.start:%H:%M}"
            )
        return self

    def of(self, slot: str) -> Window:
        return {"morning": self.morning, "afternoon": self.afternoon}[slot]
