"""A node keeps recording a pinned camera through a 60 s outage of its PostgreSQL link.

The node reaches PostgreSQL through a TCP relay that the test cuts (every connection closed, new
ones refused at once, as when a county's link to the city goes down) while the server itself runs
on for everyone else. The recorder goes on writing segments and holds their index rows; when the
link returns it writes them in order: no segment is lost, no gap is entered for the outage, and
the hash chain verifies.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.cluster.tcp_proxy import TcpProxy
from tests.support.cluster import NodeProcess, cluster_site, node_env, query, wait_for, write_annexb_clip
from tests.support.rtsp_process import RtspServerProcess

pytestmark = [pytest.mark.postgres, pytest.mark.rtsp, pytest.mark.slow]

CAMERA = "qz0"
OUTAGE_S = 60.0
SEGMENT_S = 4.0


def segments(database_url: str) -> list:
    return query(
        database_url,
        "SELECT path, status, start_utc, end_utc, sha256, prev_sha256 FROM recording_segments "
        "WHERE camera_id = :c ORDER BY start_utc",
        c=CAMERA,
    )


def pinned_camera_behind_a_link(postgres, tmp_path, database: str):
    """A camera pinned to node-a, whose database is reached through a link the test can cut."""
    clip = write_annexb_clip(tmp_path / "clip.h264")
    camera = RtspServerProcess({f"/{CAMERA}": f"file:{clip}"}).start()
    database_url = postgres.migrated(database)
    proxy = TcpProxy(5432)
    proxied_url = database_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    site = cluster_site(
        tmp_path / "site.yaml",
        lambda camera_id: camera.url(f"/{camera_id}"),
        {"qinzhou": [CAMERA]},
        pinned={CAMERA: "node-a"},
    )
    return camera, database_url, proxy, node_env(tmp_path / "node-a", proxied_url, site, segment_s=SEGMENT_S)


def wait_for_two_closed_segments(database_url: str) -> None:
    wait_for(
        lambda: len([row for row in segments(database_url) if row.status == "closed"]) >= 2,
        90,
        "node-a recording the pinned camera",
    )


def assert_recordings_verify(env: dict, database_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "watchwall.roles.cli", "verify", "--recordings", "--node", "node-a"],
        env=dict(env, WATCHWALL_DATABASE_URL=database_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_pinned_camera_records_through_a_database_outage_and_its_index_fills_in(postgres, tmp_path):
    camera, database_url, proxy, env = pinned_camera_behind_a_link(postgres, tmp_path, "ww_outage")
    node = NodeProcess("node-a", tmp_path / "node-a", env, ["--listen", "127.0.0.1:0"]).start()
    try:
        wait_for_two_closed_segments(database_url)
        cut_at = time.time()
        proxy.cut()
        time.sleep(OUTAGE_S)
        proxy.restore()
        restored_at = time.time()
        wait_for(
            lambda: any(
                row.start_utc > restored_at + 1 and row.status == "closed" for row in segments(database_url)
            ),
            60,
            "segments indexed after the outage",
        )
        assert node.process.poll() is None, node.log()
        assert "held index row(s) written" in (tmp_path / "node-a" / "node.log").read_text(), node.log()
    finally:
        node.stop()
        camera.kill()
        proxy.close()
    rows = [row for row in segments(database_url) if row.status == "closed"]
    during = [row for row in rows if row.start_utc >= cut_at and row.end_utc <= restored_at]
    assert len(during) >= OUTAGE_S / SEGMENT_S - 3, (len(during), rows)
    # one unbroken recording across the outage: each segment begins where the one before ended
    span = [
        row for row in rows if row.end_utc >= cut_at - SEGMENT_S and row.start_utc <= restored_at + SEGMENT_S
    ]
    holes = [
        (before.end_utc, after.start_utc)
        for before, after in zip(span, span[1:], strict=False)
        if after.start_utc - before.end_utc > 1.0
    ]
    assert holes == [], holes
    gaps = query(
        database_url,
        "SELECT reason, start_utc, end_utc FROM recording_gaps WHERE camera_id = :c AND end_utc > :a AND start_utc < :b",
        c=CAMERA,
        a=cut_at,
        b=restored_at,
    )
    assert gaps == [], gaps
    # the chain links each held row to the one before it, and the files verify against the index
    for before, after in zip(rows, rows[1:], strict=False):
        assert after.prev_sha256 == before.sha256, (before, after)
    assert_recordings_verify(env, database_url)


def test_a_node_killed_during_the_outage_indexes_what_it_held_when_it_starts_again(postgres, tmp_path):
    """The held rows are on disk (the index journal): SIGKILL in the outage loses none of them."""
    camera, database_url, proxy, env = pinned_camera_behind_a_link(postgres, tmp_path, "ww_outage_killed")
    data_dir = tmp_path / "node-a"
    node = NodeProcess("node-a", data_dir, env, ["--listen", "127.0.0.1:0"]).start()
    again = None
    try:
        wait_for_two_closed_segments(database_url)
        cut_at = time.time()
        proxy.cut()
        journal = None

        def journal_holds_segments() -> bool:
            nonlocal journal
            found = list(data_dir.rglob(f"{CAMERA}/index-journal.jsonl"))
            journal = found[0] if found else None
            lines = journal.read_text().splitlines() if journal else []
            return sum('"kind":"segment"' in line for line in lines) >= 2

        wait_for(journal_holds_segments, 60, "two segments held in the journal on disk")
        time.sleep(SEGMENT_S / 2)  # and a segment half written
        node.kill()
        killed_at = time.time()
        recordings = journal.parent
        on_disk = sorted(
            path.relative_to(recordings.parent).as_posix()
            for path in recordings.rglob("*.mp4")
            if path.stat().st_mtime > cut_at
        )
        assert len(on_disk) >= 3, on_disk
        proxy.restore()
        restarted_at = time.time()
        again = NodeProcess("node-a", data_dir, env, ["--listen", "127.0.0.1:0"]).start()
        wait_for(
            lambda: any(
                row.start_utc > restarted_at and row.status == "closed" for row in segments(database_url)
            ),
            90,
            "node-a recording again after its restart",
        )
        assert "held by the last run" in again.log(), again.log()
        assert not journal.exists(), journal.read_text()
    finally:
        node.kill()
        if again is not None:
            again.stop()
        camera.kill()
        proxy.close()
    rows = segments(database_url)
    indexed = {row.path: row for row in rows}
    # every segment written during the outage is in the index, the half-written one closed from the disk
    missing = [path for path in on_disk if path not in indexed and (recordings.parent / path).exists()]
    assert missing == [], (missing, rows)
    held = [indexed[path] for path in on_disk if path in indexed and indexed[path].start_utc < killed_at]
    assert [row.status for row in held[:-1]] == ["closed"] * (len(held) - 1), held
    assert held[-1].status in ("recovered", "closed"), held
    # one unbroken recording from before the cut to the kill
    chained = [row for row in rows if row.status in ("closed", "recovered")]
    span = [row for row in chained if row.end_utc >= cut_at - SEGMENT_S and row.start_utc <= killed_at]
    holes = [
        (before.end_utc, after.start_utc)
        for before, after in zip(span, span[1:], strict=False)
        if after.start_utc - before.end_utc > 1.0
    ]
    assert holes == [], holes
    for before, after in zip(chained, chained[1:], strict=False):
        assert after.prev_sha256 == before.sha256, (before, after)
    gaps = query(
        database_url,
        "SELECT reason, start_utc, end_utc FROM recording_gaps WHERE camera_id = :c AND end_utc > :a",
        c=CAMERA,
        a=cut_at,
    )
    # the only time lost is from the kill to the restart
    assert all(gap.start_utc >= held[-1].end_utc - 0.5 for gap in gaps), (gaps, held[-1])
    assert_recordings_verify(env, database_url)
