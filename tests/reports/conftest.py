"""Fixtures: the demo case database on the real PostgreSQL (shared with tests/metrics), and
``watchwall`` run in-process against it with a throwaway data dir (its own signing key)."""

from __future__ import annotations

import pytest

from tests.metrics.conftest import demo_urls, postgres_databases  # noqa: F401  (fixtures)
from watchwall.config.settings import reset_settings_cache
from watchwall.roles.cli import main


@pytest.fixture
def demo_pg(demo_urls, request) -> str:  # noqa: F811
    return demo_urls("postgresql", request)


@pytest.fixture
def run_watchwall(monkeypatch, tmp_path, capsys):
    """``run(url, *argv)`` -> (exit code, stdout, stderr) of ``watchwall`` in this process."""
    data_dir = tmp_path / "data"

    def run(url: str, *argv: str) -> tuple[int, str, str]:
        monkeypatch.setenv("WATCHWALL_DATA_DIR", str(data_dir))
        monkeypatch.setenv("WATCHWALL_DATABASE_URL", url)
        monkeypatch.delenv("WATCHWALL_SITE", raising=False)
        reset_settings_cache()
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    run.data_dir = data_dir
    yield run
    reset_settings_cache()
