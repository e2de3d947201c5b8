"""The installation's secrets: random bytes kept in files of the data dir (0600), never in the code
nor in the database."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRET_FILE_NAME = "secret_key"
SECRET_BYTES = 32


def load_or_create_key_file(path: Path, size: int = SECRET_BYTES) -> bytes:
    """The hex key in ``path``; ``size`` random bytes written there (owner-only) on first use."""
    try:
        value = bytes.fromhex(path.read_text().strip())
        if len(value) >= size:
            return value
    except FileNotFoundError:
        pass
    except ValueError as exc:
        raise RuntimeError(f"{path}: not a hex secret key; delete it to generate a new one") from exc
    value = secrets.token_bytes(size)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value.hex() + "\n")
    os.replace(tmp, path)
    return value


def load_or_create_secret_key(data_dir: Path) -> bytes:
    return load_or_create_key_file(data_dir / SECRET_FILE_NAME)
