"""The retention period an administrator sets in /admin, read fresh wherever it is used.

It is kept in the settings file (``$WATCHWALL_CONFIG``, else ``<data_dir>/watchwall.yaml``) so a
restart keeps it; the retention loops read it again before every pass, so a saved value applies
without a restart. ``WATCHWALL_RETENTION_DAYS`` in the environment still wins over the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from watchwall.config.errors import UserError

ENV_NAME = "WATCHWALL_RETENTION_DAYS"
KEY = "retention_days"
MIN_DAYS, MAX_DAYS = 1, 3650


def settings_file(settings) -> Path:
    explicit = os.environ.get("WATCHWALL_CONFIG")
    return Path(explicit) if explicit else Path(settings.data_dir) / "watchwall.yaml"


def _file_values(path: Path) -> dict:
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"cannot read settings file {path}: {exc}") from exc
    return values if isinstance(values, dict) else {}


def set_by_environment() -> bool:
    return bool(os.environ.get(ENV_NAME))


def current_days(settings) -> int:
    """The environment's value, else the settings file's, else what ``settings`` were started with."""
    if set_by_environment():
        return int(settings.retention_days)
    try:
        value = _file_values(settings_file(settings)).get(KEY)
    except UserError:
        value = None  # an unreadable file: the values the process started with
    if isinstance(value, int) and not isinstance(value, bool) and value >= MIN_DAYS:
        return value
    return int(settings.retention_days)


def save_days(settings, days: int) -> Path:
    """Write ``days`` into the settings file (its other keys kept); the path written."""
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise UserError(f"retention days must be between {MIN_DAYS} and {MAX_DAYS}")
    path = settings_file(settings)
    values = _file_values(path)
    values[KEY] = days
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(values, allow_unicode=True), encoding="utf-8")
    tmp.replace(path)
    return path
