"""Two OS processes racing to claim the same cameras: each camera is won exactly once, epoch by epoch."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from watchwall.config.database import make_engine

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

COUNT = 60


def race(url: str, gate, tmp_path: Path, round_number: int) -> list[dict[str, int]]:
    start = tmp_path / f"start{round_number}"
    outs = [tmp_path / f"out{round_number}-{worker}.json" for worker in (1, 2)]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.cluster.claim_race",
                url,
                f"racer{worker}-{round_number}",
                str(start),
                str(out),
                str(COUNT),
            ],
            cwd=Path(__file__).resolve().parents[2],
        )
        for worker, out in zip((1, 2), outs, strict=True)
    ]
    try:
        deadline = time.monotonic() + 60
        while not all(Path(str(out) + ".ready").exists() for out in outs):
            assert time.monotonic() < deadline, "the racers did not register"
            assert all(process.poll() is None for process in processes), "a racer died"
            time.sleep(0.05)
        # hold every lease row: both racers queue on the first camera (its FOR UPDATE before the upsert)
        with gate.connect() as connection:
            held = connection.begin()
            connection.execute(text("SELECT camera_id FROM camera_leases FOR UPDATE"))
            start.write_text("go")
            waiting = 0
            for _ in range(400):  # bounded: both racers seen blocked on the same row before the gate opens
                with gate.connect() as watch:
                    waiting = watch.execute(
                        text(
                            "SELECT count(*) FROM pg_stat_activity"
                            " WHERE wait_event_type = 'Lock' AND query LIKE '%camera_leases%FOR UPDATE%'"
                        )
                    ).scalar()
                if waiting == 2:
                    break
                time.sleep(0.05)
            assert waiting == 2
            held.commit()
        for process in processes:
            assert process.wait(timeout=60) == 0
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    return [json.loads(out.read_text()) for out in outs]


def test_two_processes_racing_never_both_win_a_camera(cluster_url, tmp_path):
    engine = make_engine(cluster_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO camera_leases (camera_id, epoch) VALUES (:camera_id, 0)"),
                [{"camera_id": f"race{index:03d}"} for index in range(COUNT)],
            )
        for round_number in (1, 2):
            first, second = race(cluster_url, engine, tmp_path, round_number)
            assert not set(first) & set(second)  # never both
            assert set(first) | set(second) == {f"race{index:03d}" for index in range(COUNT)}  # each once
            assert set(first.values()) | set(second.values()) == {round_number}  # one increment per claim
            with engine.begin() as connection:
                owners = dict(connection.execute(text("SELECT camera_id, owner FROM camera_leases")).all())
                assert owners == {
                    **dict.fromkeys(first, f"racer1-{round_number}"),
                    **dict.fromkeys(second, f"racer2-{round_number}"),
                }
                # every lease expires: the next race claims them all again
                connection.execute(
                    text("UPDATE camera_leases SET expires_at = clock_timestamp() - interval '1 s'")
                )
        print(f"race split: {len(first)} / {len(second)}")
    finally:
        engine.dispose()
