"""The installation secret: random bytes kept in the data dir, never in the code."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRET_FILE_NAME = "secret_key"
SECRET_BYTES = 32


def load_or_create_secret_key(data_dir: Path) -> bytes:
    path = data_dir / SECRET_FILE_NAME
    try:
        value = bytes.fromhex(path.read_text().strip())
        if len(value) >= SECRET_BYTES:
            return value
    except FileNotFoundError:
        pass
    except ValueError as exc:
        raise RuntimeError(f"{path}: not a hex secret key; delete it to generate a new one") from exc
    value = secrets.token_bytes(SECRET_BYTES)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value.hex() + "\n")
    os.replace(tmp, path)
    return value
