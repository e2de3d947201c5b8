"""Recording faults against the real GStreamer RTSP server: kill -9 of `watchwall ingest`, a camera outage,
segments tampered with behind WatchWall's back."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from sqlalchemy import select

from tests.support.rtsp_process import RtspServerProcess, wait_until  # noqa: E402
from tests.video.record.recording_media import decode_frames
from watchwall.config.database import make_engine, session_scope, upgrade  # noqa: E402
from watchwall.config.settings import Settings, reset_settings_cache  # noqa: E402
from watchwall.config.site import Site  # noqa: E402
from watchwall.roles.cli import main  # noqa: E402
from watchwall.video.ingest.supervisor import IngestService  # noqa: E402
from watchwall.video.record.models import (  # noqa: E402
    GAP_CAMERA_OFFLINE,
    GAP_RECORDER_CRASHED,
    SEGMENT_CLOSED,
    SEGMENT_OPEN,
    SEGMENT_RECOVERED,
    RecordingGap,
    RecordingSegment,
)
from watchwall.video.record.recording_service import start_site_recording  # noqa: E402
from watchwall.video.record.segments import file_sha256  # noqa: E402

pytestmark = pytest.mark.rtsp

ROOT = Path(__file__).resolve().parents[2]
CAMERA = "door"


@pytest.fixture
def camera_server() -> Iterator[RtspServerProcess]:
    """A server of its own (the tests kill it, or a process reading it)."""
    server = RtspServerProcess({"/cam0": "h264"}).start()
    yield server
    server.kill()


def site_dict(url: str) -> dict:
    camera = {"id": CAMERA, "name": CAMERA, "rtsp": url}
    rooms = [{"code": "checkin", "name": "报到登记室", "cameras": [camera]}]
    return {"centres": [{"code": "gangu", "name": "甘谷县", "level": "county", "rooms": rooms}]}


def write_site(path: Path, url: str) -> Path:
    path.write_text(
        "centres:\n  - code: gangu\n    name: 甘谷县\n    level: county\n    rooms:\n      - code: checkin\n"
        f"        name: 报到登记室\n        cameras:\n          - {{id: {CAMERA}, name: {CAMERA}, rtsp: '{url}'}}\n",
        encoding="utf-8",
    )
    return path


def watchwall_env(data_dir: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHWALL_")}
    env["WATCHWALL_DATA_DIR"] = str(data_dir)
    env.update({f"WATCHWALL_{name.upper()}": value for name, value in settings.items()})
    return env


@pytest.fixture
def watchwall(monkeypatch, capsys):
    """Runs the ``watchwall`` command in this process (the console script's code path, without its start-up)."""

    def run(data_dir: Path, *args: str, **settings: str) -> subprocess.CompletedProcess:
        for name in [k for k in os.environ if k.startswith("WATCHWALL_")]:
            monkeypatch.delenv(name)
        for name, value in watchwall_env(data_dir, **settings).items():
            if name.startswith("WATCHWALL_"):
                monkeypatch.setenv(name, value)
        reset_settings_cache()
        capsys.readouterr()
        try:
            code = main(list(args))
        finally:
            reset_settings_cache()
        captured = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, captured.out, captured.err)

    return run


def segments(engine) -> list[RecordingSegment]:
    with session_scope(engine) as session:
        return session.scalars(select(RecordingSegment).order_by(RecordingSegment.start_utc)).all()


def gaps(engine) -> list[RecordingGap]:
    with session_scope(engine) as session:
        return session.scalars(select(RecordingGap).order_by(RecordingGap.start_utc)).all()


def demuxed_packets(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for packet in container.demux(video=0) if packet.size)


def fragments_on_disk(path: Path) -> int:
    return path.read_bytes().count(b"moof") if path.exists() else 0


def assert_index_matches_disk(engine, recordings_dir: Path) -> None:
    indexed = set()
    for row in segments(engine):
        if row.sha256 is None:
            continue
        path = recordings_dir / row.path
        indexed.add(path)
        assert (row.bytes, row.sha256) == (path.stat().st_size, file_sha256(path)), row.path
    assert set(recordings_dir.rglob("*.mp4")) == indexed


class IngestProcess:
    """`watchwall ingest` recording one camera in a subprocess, watched through its index and files."""

    def __init__(self, data_dir: Path, site: Path) -> None:
        self.data_dir = data_dir
        self.engine = None
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "watchwall.roles.cli",
                "ingest",
                "--site",
                str(site),
                "--seconds",
                "300",
            ],
            env=watchwall_env(data_dir, recording_segment_s="600"),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def alive(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"watchwall ingest exited: {self.process.stderr.read().decode()[-2000:]}")
        return True

    def open_segment_file(self) -> Path | None:
        if not (self.data_dir / "watchwall.db").exists():
            return None
        self.engine = self.engine or make_engine(f"sqlite:///{self.data_dir / 'watchwall.db'}")
        try:
            rows = [row for row in segments(self.engine) if row.status == SEGMENT_OPEN]
        except Exception:  # the schema is still being created
            return None
        return self.data_dir / "recordings" / rows[0].path if rows else None

    def wait_mid_segment(self) -> Path:
        """Several fragments (about one a second) on disk, the segment far from its 600 s; then into the next."""
        path = wait_until(lambda: self.alive() and self.open_segment_file(), 60, what="an open segment")
        wait_until(
            lambda: self.alive() and fragments_on_disk(path) >= 4, 60, 0.05, what="4 fragments on disk"
        )
        time.sleep(0.5)
        self.alive()
        return path

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)


def test_kill_9_of_watchwall_ingest_mid_segment_then_restart(camera_server, tmp_path, watchwall, capsys):
    data_dir = tmp_path / "data"
    site = write_site(tmp_path / "site.yaml", camera_server.url("/cam0"))
    recordings_dir = data_dir / "recordings"
    ingest = IngestProcess(data_dir, site)
    try:
        path = ingest.wait_mid_segment()  # what is lost is the part of this fragment not yet on disk
        killed_at = time.time()
        os.kill(ingest.process.pid, signal.SIGKILL)
        ingest.process.wait(30)
    finally:
        ingest.end()
    engine = ingest.engine
    (row,) = segments(engine)
    assert row.status == SEGMENT_OPEN

    # The restart: recovery closes the partial segment from the disk, then recording goes on.
    again = watchwall(
        data_dir, "ingest", "--site", str(site), "--seconds", "3", "--json", recording_segment_s="600"
    )
    assert again.returncode == 0, again.stderr[-3000:]
    rows = segments(engine)
    recovered = rows[0]
    assert recovered.path == row.path and recovered.status == SEGMENT_RECOVERED
    lost = killed_at - recovered.end_utc
    with capsys.disabled():
        print(f"\nkill -9 of watchwall ingest: {lost:.2f} s of video lost")
    # One fragment a second, plus the RTSP and queueing latency of a loaded 2-core machine.
    assert -0.5 <= lost <= 2.0, f"lost {lost:.2f} s of video"
    frames = decode_frames(path)
    assert frames == demuxed_packets(path) and frames >= 3 * 15, "the partial file does not play fully"
    assert recovered.duration_s == pytest.approx(frames / 15, abs=0.2)
    assert len(rows) >= 2 and rows[1].status == SEGMENT_CLOSED and rows[1].prev_sha256 == recovered.sha256
    (gap,) = gaps(engine)
    assert gap.reason == GAP_RECORDER_CRASHED and gap.start_utc == pytest.approx(recovered.end_utc, abs=0.01)
    assert_index_matches_disk(engine, recordings_dir)
    verify = watchwall(data_dir, "verify", "--recordings")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    engine.dispose()


def test_camera_outage_is_a_gap_of_its_length_then_a_new_segment(camera_server, tmp_path):
    settings = Settings(data_dir=tmp_path, recording_segment_s=600)
    url = f"sqlite:///{tmp_path / 'watchwall.db'}"
    upgrade(url)
    engine = make_engine(url)
    service = IngestService(Site.model_validate(site_dict(camera_server.url("/cam0"))), settings=settings)
    recording = start_site_recording(service, engine, settings, sink=service.sink, retention_interval_s=None)
    service.start()
    recorder = recording.recorders[CAMERA]
    try:
        wait_until(lambda: recorder.packets_written >= 30, 30, what="recording before the outage")
        camera_server.kill()
        lost_at = time.time()
        wait_until(lambda: service.healths[CAMERA].state != "online", 30, what="the outage seen")
        time.sleep(2.0)  # an outage of about 4 s in all
        camera_server.start()
        back_at = wait_until(
            lambda: service.healths[CAMERA].state == "online" and time.time(), 30, what="back online"
        )
        written_at_return = recorder.packets_written
        wait_until(lambda: recorder.packets_written >= written_at_return + 45, 30, what="recording resumed")
    finally:
        service.stop(timeout=10)
        recording.stop()
    rows = segments(engine)
    (gap,) = [
        g
        for g in gaps(engine)
        if g.reason == GAP_CAMERA_OFFLINE and g.start_utc < back_at and g.end_utc > lost_at
    ]
    outage = back_at - lost_at
    print(f"camera outage {outage:.2f} s, gap row {gap.end_utc - gap.start_utc:.2f} s")
    assert gap.start_utc == pytest.approx(lost_at, abs=2.0)
    assert gap.end_utc == pytest.approx(back_at, abs=2.0)
    assert all(row.status == SEGMENT_CLOSED for row in rows)
    (before,) = [row for row in rows if abs(row.end_utc - gap.start_utc) < 0.01]
    (after,) = [row for row in rows if abs(row.start_utc - gap.end_utc) < 0.01]
    assert after.id != before.id and after.prev_sha256 == rows[rows.index(after) - 1].sha256
    path = tmp_path / "recordings" / after.path
    frames = decode_frames(path)
    assert frames >= 30 and frames == demuxed_packets(path), (
        "packets after the camera's return were not recorded"
    )
    assert_index_matches_disk(engine, tmp_path / "recordings")
    engine.dispose()


def test_segments_tampered_with_after_a_real_recording_are_named_by_verify(
    camera_server, tmp_path, watchwall
):
    data_dir = tmp_path / "data"
    site = write_site(tmp_path / "site.yaml", camera_server.url("/cam0"))
    run = watchwall(
        data_dir, "ingest", "--site", str(site), "--seconds", "6", "--no-thumbnails", recording_segment_s="1"
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "recorded: segments " in run.stdout
    engine = make_engine(f"sqlite:///{data_dir / 'watchwall.db'}")
    rows = [row for row in segments(engine) if row.status == SEGMENT_CLOSED]
    engine.dispose()
    assert len(rows) >= 4, f"expected 4 segments of 1 s, got {len(rows)}"
    clean = watchwall(data_dir, "verify", "--recordings")
    assert clean.returncode == 0, clean.stdout + clean.stderr

    recordings_dir = data_dir / "recordings"
    edited, deleted, swap_a, swap_b = (recordings_dir / row.path for row in rows[:4])
    with open(edited, "r+b") as handle:  # one byte of picture data changed, the size kept
        handle.seek(edited.stat().st_size - 100)
        byte = handle.read(1)
        handle.seek(-1, os.SEEK_CUR)
        handle.write(bytes([byte[0] ^ 0xFF]))
    deleted.unlink()
    parked = swap_a.with_suffix(".tmp")
    shutil.move(swap_a, parked)
    shutil.move(swap_b, swap_a)
    shutil.move(parked, swap_b)

    tampered = watchwall(data_dir, "verify", "--recordings")
    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    report = tampered.stdout + tampered.stderr
    for row in rows[:4]:
        assert row.path in report, f"verify did not name {row.path}:\n{report}"
    assert all(f"{kind}: " in report for kind in ("missing", "edited", "replaced")), report


def test_sigterm_of_watchwall_ingest_closes_its_segment(camera_server, tmp_path):
    data_dir = tmp_path / "data"
    ingest = IngestProcess(data_dir, write_site(tmp_path / "site.yaml", camera_server.url("/cam0")))
    try:
        path = ingest.wait_mid_segment()
        ingest.process.send_signal(signal.SIGTERM)
        assert ingest.process.wait(60) == 0, ingest.process.stderr.read().decode()[-2000:]
    finally:
        ingest.end()
    (row,) = segments(ingest.engine)
    assert row.status == SEGMENT_CLOSED and data_dir / "recordings" / row.path == path
    assert decode_frames(path) == demuxed_packets(path) >= 3 * 15
    assert_index_matches_disk(ingest.engine, data_dir / "recordings")
    ingest.engine.dispose()
