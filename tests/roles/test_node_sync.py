"""A lease tick that lands while the node's sync pass runs.

The lease thread sets a camera's new fence at once; the sync thread takes the camera over (the
old owner's open segments leave the chain, the failover gap's start is found) and only then starts
its recorder. A tick that comes between the two must not hand the recorder a fence whose take-over
has not run: its gap would not say ``node_failover`` and it could write before the old owner's
open segment was superseded. Here the tick is delivered from inside the pass, at the take-over,
which is where the lease thread can land.
"""

from __future__ import annotations

import time

import pytest
import yaml
from sqlalchemy import select

from tests.support.rtsp_process import free_port
from watchwall.cluster.leases import LeaseEngine, TickResult, lease_database
from watchwall.config.database import make_engine, session_scope
from watchwall.config.settings import Settings
from watchwall.config.site import load_site
from watchwall.roles.media_plane import build_media_plane
from watchwall.roles.node import IngestNode
from watchwall.video.record.models import SEGMENT_OPEN, SEGMENT_SUPERSEDED, RecordingSegment

pytestmark = [pytest.mark.postgres]

CAMERA = "cam-a"


def claimed(epoch: int) -> TickResult:
    return TickResult(owned={CAMERA: epoch}, gained={CAMERA: epoch}, lost=(), should_release=())


class TickDuringTakeOver(IngestNode):
    """The node, with the lease thread's next tick delivered while a take-over runs."""

    def __init__(self, *args, **kwargs) -> None:
        self.taken_over: list[int] = []
        self.tick_during_take_over: list[TickResult] = []
        self.before_tick = lambda: None
        super().__init__(*args, **kwargs)

    def _take_over(self, camera_id: str, epoch: int) -> float | None:
        since = super()._take_over(camera_id, epoch)
        self.taken_over.append(epoch)
        if self.tick_during_take_over:
            self.before_tick()
            self.on_tick(self.tick_during_take_over.pop())
        return since


def open_segment(engine, node: str, epoch: int, start: float) -> None:
    with session_scope(engine) as session:
        session.add(
            RecordingSegment(
                camera_id=CAMERA,
                path=f"{CAMERA}/{node}-{epoch}.mp4",
                start_utc=start,
                codec="h264",
                width=320,
                height=240,
                status=SEGMENT_OPEN,
                epoch=epoch,
                node=node,
            )
        )


def test_a_recorder_starts_only_under_a_fence_whose_take_over_ran(postgres, tmp_path):
    database_url = postgres.migrated("ww_node_sync")
    unreachable = f"rtsp://127.0.0.1:{free_port()}"  # nothing listens: the camera stays offline
    site_path = tmp_path / "site.yaml"
    camera = {"id": CAMERA, "name": CAMERA, "rtsp": f"{unreachable}/{CAMERA}"}
    room = {"code": "checkin", "name": "checkin", "cameras": [camera]}
    centre = {"code": "qinzhou", "name": "qinzhou", "level": "county", "rooms": [room]}
    site_path.write_text(yaml.safe_dump({"centres": [centre]}), encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url)
    engine = make_engine(database_url)
    leases = LeaseEngine(lease_database(database_url), "node-a", address="127.0.0.1:1")
    now = time.time()
    open_segment(engine, "node-b", 1, now - 30)  # the old owner's segment, open when it died

    def plane_factory(site, fence_for):
        return build_media_plane(site, settings, engine, camera_ids=(), node="node-a", fence_for=fence_for)

    node = TickDuringTakeOver(engine, load_site(site_path), leases, plane_factory)
    node.plane.start()
    try:
        node.on_tick(claimed(2))
        # while the pass takes the camera over at epoch 2, node-b claims it (epoch 3, a segment
        # opened) and this node claims it back (epoch 4): the tick sets a new fence
        node.before_tick = lambda: open_segment(engine, "node-b", 3, now - 10)
        node.tick_during_take_over.append(claimed(4))
        node.sync_once()

        recorder = node.plane.ingest.recorders[CAMERA]
        assert node.fences[CAMERA].epoch == 4  # the tick's fence is current ...
        assert recorder.fence.epoch == 2  # ... but the recorder runs under the one taken over
        assert recorder.fence.took_over and recorder.fence.failover_from == pytest.approx(now - 30)
        assert node.taken_over == [2]

        node.sync_once()  # the next pass takes the camera over at epoch 4, then restarts it

        recorder = node.plane.ingest.recorders[CAMERA]
        assert node.taken_over == [2, 4]
        assert recorder.fence is node.fences[CAMERA] and recorder.fence.epoch == 4
        assert recorder.fence.failover_from == pytest.approx(now - 10)
        with session_scope(engine) as session:
            statuses = session.scalars(
                select(RecordingSegment.status).where(RecordingSegment.node == "node-b")
            ).all()
        assert statuses == [SEGMENT_SUPERSEDED, SEGMENT_SUPERSEDED]
    finally:
        node.plane.stop(recorder_timeout=5.0)
        engine.dispose()
