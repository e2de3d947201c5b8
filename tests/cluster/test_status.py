"""``watchwall cluster status [--json]`` and the backends check, against the real PostgreSQL and Redis."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.cluster.conftest import TTL_S
from watchwall.cluster.backends import ClusterBackendError, require_cluster_backends
from watchwall.config.settings import Settings
from watchwall.config.timestamps import parse_iso

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/0"


def watchwall(*args: str, database_url: str | None, data_dir: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("WATCHWALL_")}
    env["WATCHWALL_DATA_DIR"] = str(data_dir)
    if database_url:
        env["WATCHWALL_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "watchwall.roles.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as server:
        return server.getsockname()[1]


def test_status_json_lists_every_node_and_camera_with_its_state(nodes, cluster_url, tmp_path):
    cameras = [
        ("pin1", "qinzhou", "a"),
        ("c1", None, None),
        ("c2", None, None),
        ("c3", None, None),
        ("c4", None, None),
    ]
    a = nodes("a", county="qinzhou", max_cameras=3, address="127.0.0.1:8801")
    b = nodes("b", max_cameras=1, address="127.0.0.1:8802")
    a.tick(cameras)
    b_owned = b.tick(cameras).owned
    a.tick(cameras)
    assert len(b_owned) == 1
    time.sleep(TTL_S + 0.5)  # b dies; a (full) cannot take its camera, so the lease is seen expired
    a.tick(cameras)
    stop = threading.Event()
    keeper = threading.Thread(target=a.run, args=(lambda: cameras, lambda _result: None, stop), daemon=True)
    keeper.start()  # a stays alive while the command starts
    try:
        result = watchwall("cluster", "status", "--json", database_url=cluster_url, data_dir=tmp_path)
        text_result = watchwall("cluster", "status", database_url=cluster_url, data_dir=tmp_path)
    finally:
        stop.set()
        keeper.join(timeout=30)
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert set(status) == {"nodes", "cameras"}
    by_name = {node["name"]: node for node in status["nodes"]}
    assert set(by_name) == {"a", "b"}
    assert by_name["a"]["alive"] is True and by_name["b"]["alive"] is False
    assert by_name["a"]["address"] == "127.0.0.1:8801" and by_name["a"]["county"] == "qinzhou"
    assert by_name["b"]["county"] is None
    parse_iso(by_name["a"]["last_renewal"])
    assert sorted(by_name["a"]["cameras"]) == sorted(a.owned)
    assert by_name["b"]["cameras"] == []
    states = {camera: entry["state"] for camera, entry in status["cameras"].items()}
    assert set(states) == {camera for camera, _, _ in cameras}
    assert states["pin1"] == "pinned" and status["cameras"]["pin1"]["owner"] == "a"
    (b_camera,) = b_owned
    assert states[b_camera] == "expired" and status["cameras"][b_camera]["owner"] == "b"
    assert sorted(states.values()).count("owned") == 2
    assert sorted(states.values()).count("free") == 1
    for entry in status["cameras"].values():
        assert isinstance(entry["epoch"], int) and set(entry) >= {"owner", "epoch", "state"}
    assert (
        text_result.returncode == 0 and "1 alive of 2" in text_result.stdout and "DEAD" in text_result.stdout
    )


def test_status_on_sqlite_says_a_cluster_needs_postgresql(tmp_path):
    result = watchwall("cluster", "status", "--json", database_url=None, data_dir=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("watchwall cluster: a cluster needs PostgreSQL")


def test_backends_check_names_everything_missing_in_one_line(tmp_path, cluster_url):
    with pytest.raises(ClusterBackendError) as refused:
        require_cluster_backends(Settings(data_dir=tmp_path))
    message = str(refused.value)
    assert "\n" not in message and "not PostgreSQL" in message and "no Redis URL" in message
    with pytest.raises(ClusterBackendError, match="Redis at redis://127.0.0.1:.* does not answer") as refused:
        require_cluster_backends(
            Settings(
                data_dir=tmp_path, database_url=cluster_url, redis_url=f"redis://127.0.0.1:{closed_port()}/0"
            )
        )
    assert "PostgreSQL" not in str(refused.value).split(":", 1)[1]
    with pytest.raises(ClusterBackendError, match="password|not usable|does not answer"):
        require_cluster_backends(
            Settings(data_dir=tmp_path, database_url=cluster_url, redis_url="http://nope")
        )
    require_cluster_backends(Settings(data_dir=tmp_path, database_url=cluster_url, redis_url=REDIS_URL))
