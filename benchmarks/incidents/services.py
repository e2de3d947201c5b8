"""The throwaway servers of one incidents benchmark run: a PostgreSQL database, a data folder and,
when asked, a redis-server of its own (so the run's messages meet nobody else's); all removed after.

    with throwaway_services("ww_bench_incidents", redis=True) as services:
        services.database_url, services.redis_url, services.data_dir
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from watchwall.config.database import upgrade

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


@dataclass(frozen=True)
class Services:
    database_url: str
    data_dir: Path
    redis_url: str | None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def throwaway_services(prefix: str, *, redis: bool) -> Iterator[Services]:
    """A migrated database named ``prefix`` + this process's id, a fresh data folder, and a redis-server."""
    name = f"{prefix}_{os.getpid()}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    database_url = f"{PG_SERVER}/{name}"
    data_dir = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    redis_server = None
    try:
        redis_url = None
        if redis:
            redis_server, redis_url = start_redis(data_dir)
        upgrade(database_url)
        yield Services(database_url, data_dir, redis_url)
    finally:
        if redis_server is not None:
            redis_server.terminate()
            redis_server.wait(timeout=10)
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
        shutil.rmtree(data_dir, ignore_errors=True)


def start_redis(directory: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("redis-server did not start")


def wait_for(server: str, seconds: float = 10.0) -> None:
    """Until ``server``'s login page answers, at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{server}/login", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{server} did not answer")
