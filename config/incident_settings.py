"""How incidents are handled: deadlines per kind, the quiet period, how often sources are read."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Deadline(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    acknowledge_s: float = Field(default=300, gt=0)  # acknowledge within 5 min
    close_s: float = Field(default=86_400, gt=0)  # close within 24 h


class IncidentSettings(BaseModel):
    """``deadlines`` maps an incident kind (or ``default``) to its deadlines."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    deadlines: dict[str, Deadline] = Field(default_factory=lambda: {"default": Deadline()})
    # a problem that returns within this many seconds of its incident's recovery reopens that incident
    quiet_period_s: float = Field(default=600, ge=0)
    # how often the deadline watcher and the check-in sources look (seconds)
    watch_interval_s: float = Field(default=5, gt=0, le=300)
    # how long the intake waits to gather alarms into one database transaction (seconds)
    batch_s: float = Field(default=0.3, gt=0, le=10)
    # a flapping incident's count and recovery are pushed to the pages at most this often (seconds);
    # a new or reopened incident at once. 0 pushes every change
    push_every_s: float = Field(default=10, ge=0, le=300)

    def deadline(self, kind: str) -> Deadline:
        return self.deadlines.get(kind) or self.deadlines.get("default") or Deadline()
