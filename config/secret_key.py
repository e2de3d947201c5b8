"""The installation's secrets: random bytes kept in files of the data dir (0600), never in the code
nor in the database. The roles of a cluster share one secret file (``secret_key_file``)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRET_FILE_NAME = "secret_key"
SECRET_BYTES = 32


def load_or_create_secret_key(data_dir: Path) -> bytes:
    return load_or_create_key_file(data_dir / SECRET_FILE_NAME)


def load_or_create_secret(path: Path) -> bytes:
    """The installation secret in ``path``, made on first use."""
    return load_or_create_key_file(path)


def load_or_create_key_file(path: Path, size: int = SECRET_BYTES) -> bytes:
    """The hex key in ``path``; ``size`` random bytes written there (owner-only) on first use."""
    too_short = False
    try:
        value = bytes.fromhex(path.read_text().strip())
        if len(value) >= size:
            return value
        too_short = True
    except FileNotFoundError:
        pass
    except ValueError as exc:
        raise RuntimeError(f"{path}: not a hex secret key; delete it to generate a new one") from exc
    value = secrets.token_bytes(size)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value.hex() + "\n")
    if too_short:
        os.replace(tmp, path)
        return value
    try:
        os.link(tmp, path)  # never replaces: of processes racing to make it, all read the first one's
    except FileExistsError:
        return load_or_create_key_file(path, size)
    finally:
        os.unlink(tmp)
    return value
