"""Video-verified check-ins end to end: POST /api/v1/checkins naming a real recorded camera, the worker's
face check of the span, the verdict, the no-face incident, the counting, ``watchwall checkins show``."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime

import flask
import pytest
from sqlalchemy import func, select, update

from tests.support.rtsp_process import wait_until
from tests.video.analysis.face_cameras import COUNTY, FACE_CAMERA, OTHER_COUNTY_CAMERA, ROOM_CAMERA, SEGMENT_S
from watchwall.config.settings import reset_settings_cache
from watchwall.dashboard.api import register_api
from watchwall.dashboard.api_clients import add_client
from watchwall.dashboard.checkin_video_models import DONE, PENDING, RUNNING, CheckinVideo
from watchwall.dashboard.checkin_video_worker import CheckinVideoWorker, no_face_key
from watchwall.dashboard.context import EXTENSION_KEY, AppContext
from watchwall.incidents.models import Incident
from watchwall.metrics.compliance import checks_by_method
from watchwall.metrics.models import LocationCheck, Subject
from watchwall.roles.cli import main

pytestmark = [pytest.mark.rtsp, pytest.mark.slow]

RECENT = time.time() - 600
SUBJECTS = [("VS-GANGU", "欧阳小明", COUNTY), ("VS-QINZHOU", "张三明", "qinzhou")]


class Intake:
    def __init__(self, cameras) -> None:
        self.cameras = cameras
        self.engine = cameras.engine
        context = AppContext(settings=cameras.settings, site=cameras.app_site, engine=cameras.engine)
        self.app = flask.Flask("checkin-video-test")
        self.app.extensions[EXTENSION_KEY] = context
        register_api(self.app)
        self.token = add_client(self.engine, f"terminal-{time.monotonic_ns()}", ["checkins"])[1]

    def post(self, rows: list[dict]):
        return self.app.test_client().post(
            "/api/v1/checkins", json={"rows": rows}, headers={"Authorization": f"Bearer {self.token}"}
        )

    def counts(self) -> tuple[int, int]:
        with self.engine.connect() as connection:
            return (
                connection.scalar(select(func.count()).select_from(LocationCheck)),
                connection.scalar(select(func.count()).select_from(CheckinVideo)),
            )

    def video(self, external_id: str) -> CheckinVideo | None:
        with self.engine.connect() as connection:
            return connection.execute(
                select(CheckinVideo).where(CheckinVideo.check_external_id == external_id)
            ).first()

    def worker(self) -> CheckinVideoWorker:
        return CheckinVideoWorker(self.engine, self.cameras.settings, self.cameras.lookup)


@pytest.fixture(scope="module")
def intake(recorded_cameras) -> Intake:
    with recorded_cameras.engine.begin() as connection:
        connection.execute(
            Subject.__table__.insert(),
            [
                {
                    "external_id": external_id,
                    "name": name,
                    "county": county,
                    "category": "probation",
                    "start_date": date(2026, 1, 1),
                    "end_date": None,
                    "supervision_level": "ordinary",
                }
                for external_id, name, county in SUBJECTS
            ],
        )
    return Intake(recorded_cameras)


def row(external_id: str, at: float, method: str = "video", camera: str | None = None, subject="VS-GANGU"):
    values = {
        "external_id": external_id,
        "subject": subject,
        "checked_at": datetime.fromtimestamp(at, UTC).isoformat(),
        "method": method,
        "result": "ok",
    }
    if camera is not None:
        values["camera_id"] = camera
    return values


@pytest.fixture
def watchwall_cli(recorded_cameras, monkeypatch, capsys):
    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setenv("WATCHWALL_DATA_DIR", str(recorded_cameras.settings.data_dir))
        monkeypatch.setenv("WATCHWALL_DATABASE_URL", recorded_cameras.database_url)
        reset_settings_cache()
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    yield run
    reset_settings_cache()


def test_check_ins_naming_the_face_and_the_empty_room_camera_get_their_verdicts(intake, watchwall_cli):
    # the span starts 3 s before the check: let the cameras record that long first (they may have
    # only just started when this test is the module's first)
    time.sleep(max(0.0, intake.cameras.started_utc + 3.0 + SEGMENT_S - time.time()))
    now = time.time()
    rows = [
        row("V-FACE", now, camera=FACE_CAMERA),
        row("V-ROOM", now, method="视频核查", camera=ROOM_CAMERA),
        row("V-PLAIN", now, method="dingtalk"),
    ]
    response = intake.post(rows)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["new"] == 3
    assert intake.video("V-FACE").state == PENDING and intake.video("V-PLAIN") is None
    worker = intake.worker().start()
    try:
        wait_until(
            lambda: all(intake.video(x).state == DONE for x in ("V-FACE", "V-ROOM")),
            60,
            interval=0.3,
            what="both face checks",
        )
    finally:
        worker.stop()
    face, room = intake.video("V-FACE"), intake.video("V-ROOM")
    assert face.face_present and face.frames_with_face >= 2 and face.reason is None
    assert not room.face_present and room.frames_with_face == 0 and room.frames_sampled >= 10
    assert face.span_start_utc == pytest.approx(now - 3.0) and face.span_end_utc == pytest.approx(now + 4.0)
    assert face.snapshot_jpeg[:2] == b"\xff\xd8" and face.incident_id is None
    with intake.engine.connect() as connection:
        incidents = connection.execute(select(Incident).where(Incident.kind == "checkin_no_face")).all()
    (incident,) = [i for i in incidents if i.problem_key == no_face_key("V-ROOM")]
    assert incident.id == room.incident_id and incident.camera_id == ROOM_CAMERA and incident.county == COUNTY
    detail = json.loads(incident.detail)
    assert detail["method"] == "video" and detail["camera_id"] == ROOM_CAMERA and detail["check"] == "V-ROOM"
    # counted as their own method
    with intake.engine.connect() as connection:
        local = datetime.fromtimestamp(now, intake.cameras.settings.zone).date()
        methods = checks_by_method(connection, local, local, COUNTY)
    assert methods["video"]["checks"] >= 2 and methods["dingtalk"]["checks"] >= 1

    code, out, _ = watchwall_cli("checkins", "show", "V-FACE", "--json")
    shown = json.loads(out)
    assert code == 0 and shown["method"] == "video"
    video = shown["video"]
    assert video["camera_id"] == FACE_CAMERA and video["face_present"] is True
    assert video["frames_with_face"] == face.frames_with_face
    assert video["segment_hashes"] == json.loads(face.segment_hashes) and len(video["segment_hashes"]) >= 3
    assert datetime.fromisoformat(video["from"]).timestamp() == pytest.approx(now - 3.0, abs=0.01)
    assert datetime.fromisoformat(video["to"]).timestamp() == pytest.approx(now + 4.0, abs=0.01)
    code, out, _ = watchwall_cli("checkins", "show", "V-ROOM", "--json")
    assert json.loads(out)["video"]["face_present"] is False
    code, out, _ = watchwall_cli("checkins", "show", "V-PLAIN", "--json")
    assert code == 0 and json.loads(out)["video"] is None
    code, out, err = watchwall_cli("checkins", "show", "NO-SUCH-CHECK", "--json")
    assert code != 0 and out == "" and "no check-in with external id 'NO-SUCH-CHECK'" in err


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (
            row("B-1", RECENT, camera="no-such-camera"),
            "camera_id: 'no-such-camera' is not a camera of this site",
        ),
        (
            row("B-2", RECENT, camera=OTHER_COUNTY_CAMERA),
            "camera_id: 'qinzhou-checkin' is in centre 'qinzhou'",
        ),
        (row("B-3", RECENT), "camera_id: required for method video"),
    ],
    ids=["unknown-camera", "other-county", "video-without-camera"],
)
def test_a_bad_camera_refuses_the_whole_batch(intake, bad, reason):
    before = intake.counts()
    good = row("B-GOOD", RECENT, camera=FACE_CAMERA)
    response = intake.post([good, bad])
    body = response.get_json()
    assert response.status_code == 422, body
    assert "nothing was written" in body["error"]
    ((detail),) = body["details"]
    assert detail["index"] == 1 and detail["reason"].startswith(reason)
    assert intake.counts() == before


def test_a_camera_with_no_recording_then_gives_no_recording_and_a_pending_check_survives_a_restart(intake):
    long_ago = intake.cameras.started_utc - 3600
    assert intake.post([row("V-OFFLINE", long_ago, camera=FACE_CAMERA)]).status_code == 200
    # a worker that claimed it and died mid-check: its claim goes stale, a new worker takes it over
    with intake.engine.begin() as connection:
        connection.execute(
            update(CheckinVideo)
            .where(CheckinVideo.check_external_id == "V-OFFLINE")
            .values(state=RUNNING, claimed_utc=time.time() - 3600, attempts=1)
        )
    assert intake.worker().run_once() >= 1
    offline = intake.video("V-OFFLINE")
    assert offline.state == DONE and offline.attempts == 2
    assert (
        offline.face_present is False and offline.reason == "no_recording" and offline.snapshot_jpeg is None
    )
    assert offline.incident_id is not None
    # posting the same check again changes nothing, its verdict stays
    assert intake.post([row("V-OFFLINE", long_ago, camera=FACE_CAMERA)]).get_json()["changed"] is False
    assert intake.video("V-OFFLINE").state == DONE
    # the check moved to another camera: its span is checked again
    assert intake.post([row("V-OFFLINE", long_ago, camera=ROOM_CAMERA)]).status_code == 200
    moved = intake.video("V-OFFLINE")
    assert moved.state == PENDING and moved.camera_id == ROOM_CAMERA and moved.face_present is None
