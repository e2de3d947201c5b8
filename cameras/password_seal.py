"""Camera passwords typed into /admin, sealed (Fernet: AES-128-CBC + HMAC-SHA256) before they reach
the database.

The key is the data dir's ``camera_key`` file (owner-only, like the session secret): a copy of
the database, a dump or a backup holds only ciphertext. Processes that pull cameras (``serve``,
``ingest``, ``node``) must see the same file: in a cluster it sits beside the shared
``secret_key_file``; a node without it reports the camera's credentials as unusable.
"""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from watchwall.cameras.credentials import CredentialsError
from watchwall.config.secret_key import load_or_create_key_file

KEY_FILE_NAME = "camera_key"
SEALED_PREFIX = "fernet:"  # what sealed the value, so a later scheme can sit beside it


def _fernet(key_dir: Path, *, create: bool) -> Fernet:
    """The key of ``key_dir``; made there only when sealing (a node that lacks it must not invent one)."""
    path = key_dir / KEY_FILE_NAME
    if not create and not path.exists():
        raise CredentialsError(
            f"a stored camera password needs the camera key {path}: copy it from the server that stored it"
        )
    key_dir.mkdir(parents=True, exist_ok=True)
    raw = load_or_create_key_file(path)
    return Fernet(base64.urlsafe_b64encode(raw[:32]))


def default_key_dir() -> Path:
    """The data dir; in a cluster, the folder of the shared ``secret_key_file``, so every role that
    shares the secret also shares the camera key."""
    from watchwall.config.settings import get_settings

    settings = get_settings()
    if settings.secret_key_file:
        return Path(settings.secret_key_file).expanduser().parent
    return settings.data_dir


def seal(password: str, key_dir: Path | None = None) -> str:
    token = _fernet(key_dir or default_key_dir(), create=True).encrypt(password.encode("utf-8"))
    return SEALED_PREFIX + token.decode("ascii")


def unseal(sealed: str, key_dir: Path | None = None) -> str:
    """The password; a :class:`CredentialsError` (never the ciphertext) when this key cannot open it."""
    key_dir = key_dir or default_key_dir()
    if not sealed.startswith(SEALED_PREFIX):
        raise CredentialsError("a stored camera password is in an unknown format")
    fernet = _fernet(key_dir, create=False)
    try:
        return fernet.decrypt(sealed.removeprefix(SEALED_PREFIX).encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError) as exc:
        raise CredentialsError(
            f"a stored camera password cannot be opened with {key_dir / KEY_FILE_NAME} "
            "(another installation's key?); type the password again in /admin"
        ) from exc
