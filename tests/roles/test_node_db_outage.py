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


def test_a_pinned_camera_records_through_a_database_outage_and_its_index_fills_in(postgres, tmp_path):
    clip = write_annexb_clip(tmp_path / "clip.h264")
    camera = RtspServerProcess({f"/{CAMERA}": f"file:{clip}"}).start()
    database_url = postgres.migrated("ww_outage")
    proxy = TcpProxy(5432)
    proxied_url = database_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    site = cluster_site(
        tmp_path / "site.yaml",
        lambda camera_id: camera.url(f"/{camera_id}"),
        {"qinzhou": [CAMERA]},
        pinned={CAMERA: "node-a"},
    )
    env = node_env(tmp_path / "node-a", proxied_url, site, segment_s=SEGMENT_S)
    node = NodeProcess("node-a", tmp_path / "node-a", env, ["--listen", "127.0.0.1:0"]).start()
    try:
        wait_for(
            lambda: len([row for row in segments(database_url) if row.status == "closed"]) >= 2,
            90,
            "node-a recording the pinned camera",
        )
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
    verify_env = dict(env, WATCHWALL_DATABASE_URL=database_url)
    result = subprocess.run(
        [sys.executable, "-m", "watchwall.roles.cli", "verify", "--recordings", "--node", "node-a"],
        env=verify_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
