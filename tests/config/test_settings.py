"""Settings: defaults, YAML file, env override, the generated secret key."""

from __future__ import annotations

import os
import stat

import pytest
from pydantic import ValidationError

from watchwall.config.settings import DEMO_SITE, Settings


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for key in list(os.environ):
        if key.startswith("WATCHWALL_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return tmp_path


def test_defaults_are_sqlite_in_the_data_dir_and_the_demo_site(clean_env):
    settings = Settings()
    assert settings.data_dir == clean_env / "xdg" / "watchwall"
    assert settings.effective_database_url == f"sqlite:///{settings.data_dir / 'watchwall.db'}"
    assert settings.uses_default_database
    assert settings.site == DEMO_SITE
    assert settings.timezone == "Asia/Shanghai" and settings.language == "zh-CN"


def test_env_overrides_yaml_file(clean_env, monkeypatch):
    data_dir = clean_env / "data"
    data_dir.mkdir()
    (data_dir / "watchwall.yaml").write_text("language: en\nredis_url: redis://127.0.0.1:6379/3\n")
    monkeypatch.setenv("WATCHWALL_DATA_DIR", str(data_dir))
    monkeypatch.setenv("WATCHWALL_REDIS_URL", "redis://127.0.0.1:6379/5")
    settings = Settings()
    assert settings.language == "en"  # from the file
    assert settings.redis_url == "redis://127.0.0.1:6379/5"  # env wins
    monkeypatch.setenv("WATCHWALL_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1/x")
    assert Settings().effective_database_url.startswith("postgresql+psycopg://")


def test_explicit_config_file_and_unknown_keys(clean_env, monkeypatch):
    config_file = clean_env / "ww.yaml"
    config_file.write_text("languag: en\n")
    monkeypatch.setenv("WATCHWALL_CONFIG", str(config_file))
    with pytest.raises(ValidationError, match="languag"):
        Settings()


def test_bad_time_zone_is_refused(clean_env, monkeypatch):
    monkeypatch.setenv("WATCHWALL_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValidationError, match="unknown time zone"):
        Settings()


def test_secret_key_is_generated_once_private_and_kept(clean_env, monkeypatch):
    monkeypatch.setenv("WATCHWALL_DATA_DIR", str(clean_env / "d"))
    settings = Settings()
    first = settings.secret_key()
    assert len(first) == 32
    path = settings.data_dir / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Settings().secret_key() == first
    other_dir = clean_env / "other"
    monkeypatch.setenv("WATCHWALL_DATA_DIR", str(other_dir))
    assert Settings().secret_key() != first
