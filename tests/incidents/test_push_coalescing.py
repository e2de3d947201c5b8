"""A flapping incident's pushes are coalesced; a new one, or a changed state, goes out at once; the
pages always end with the newest summary. Through the real intake on the real database as well."""

from __future__ import annotations

from watchwall.config.incident_settings import IncidentSettings
from watchwall.incidents.intake import IncidentIntake, Place
from watchwall.incidents.push_coalescing import PushCoalescer
from watchwall.incidents.store import list_incidents, report_callback
from watchwall.video.state.events import MemorySink


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def change(version: int, state: str = "open", incident_id: int = 1) -> dict:
    return {"id": incident_id, "state": state, "version": version, "count": version}


def test_the_first_change_goes_out_at_once_and_a_burst_after_it_as_one_push_of_the_newest():
    clock, pushed = Clock(), []
    pushes = PushCoalescer(pushed.append, 10, clock)
    pushes.offer(change(1))
    assert pushed == [change(1)]
    for version in (2, 3, 4):
        clock.now += 1
        pushes.offer(change(version))
    pushes.push_due()
    assert pushed == [change(1)] and pushes.due_in() == 7
    clock.now += 7
    pushes.push_due()
    assert pushed == [change(1), change(4)] and pushes.coalesced == 2
    assert pushes.due_in() is None


def test_a_changed_state_and_another_incident_are_not_held():
    clock, pushed = Clock(), []
    pushes = PushCoalescer(pushed.append, 10, clock)
    pushes.offer(change(1))
    clock.now += 1
    pushes.offer(change(2))  # only counted: held
    pushes.offer(change(1, incident_id=2))
    pushes.offer(change(3, state="acknowledged"))
    assert pushed == [change(1), change(1, incident_id=2), change(3, state="acknowledged")]
    clock.now += 20
    pushes.push_due()
    assert len(pushed) == 3  # the held version 2 was replaced by the newer state, never pushed


def test_nothing_is_held_with_every_s_zero_and_stopping_pushes_what_is_held():
    clock, pushed = Clock(), []
    every = PushCoalescer(pushed.append, 0, clock)
    for version in (1, 2, 3):
        every.offer(change(version))
    assert [summary["version"] for summary in pushed] == [1, 2, 3]
    pushed.clear()
    held = PushCoalescer(pushed.append, 10, clock)
    held.offer(change(1))
    held.offer(change(2))
    held.push_all()
    assert [summary["version"] for summary in pushed] == [1, 2]


def test_a_camera_flapping_through_the_intake_is_one_incident_counted_every_time_pushed_twice(
    incident_engine,
):
    sink = MemorySink()
    intake = IncidentIntake(
        report_callback(incident_engine, IncidentSettings()),
        lambda camera_id: Place(county="qinzhou", centre="qinzhou", room="checkin"),
        lambda summary: sink.emit("incident.changed", summary, room=summary["centre"]),
        batch_s=0.05,
        push_every_s=300,
    )
    for _flap in range(10):  # the intake's own thread is not started: each drain is one batch
        for active in (True, False):
            intake.offer("camera.alarm", {"camera_id": "cam1", "kind": "video_loss", "active": active})
            intake.drain()
    (row,) = list_incidents(incident_engine)
    assert (row["count"], row["recovered"]) == (10, True)
    assert [summary["version"] for summary in sink.payloads("incident.changed")] == [1]
    intake.stop()
    pushed = sink.payloads("incident.changed")
    assert len(pushed) == 2 and pushed[-1] == {**row, "overdue": pushed[-1]["overdue"]}
    assert pushed[-1]["count"] == 10 and pushed[-1]["recovered"] and pushed[-1]["version"] == row["version"]
