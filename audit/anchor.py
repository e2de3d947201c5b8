"""The audit chain's anchor: an HMAC of every row's hash under a key kept outside the database.

The SHA-256 links alone let someone with write access to the database edit a row and recompute
every later hash; ``verify`` would then call the chain intact. The anchor is keyed with a key
derived from the installation secret (``<data dir>/secret_key``, never in the database), so a
recomputed row carries a MAC that does not match, and ``watchwall audit verify`` says so.
Every process that appends (``serve``, ``ingest``, the CLI) reads the same secret file; the roles
of a cluster share it through the ``secret_key_file`` setting.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from pathlib import Path

from watchwall.config.secret_key import SECRET_FILE_NAME, load_or_create_secret
from watchwall.config.settings import get_settings

KEY_LABEL = b"watchwall audit chain anchor v1"


@lru_cache(maxsize=8)
def _key_of(secret_file: Path) -> bytes:
    secret_file.parent.mkdir(parents=True, exist_ok=True)
    return hmac.new(load_or_create_secret(secret_file), KEY_LABEL, hashlib.sha256).digest()


def anchor_key() -> bytes:
    """This installation's anchor key (from its secret file: the setting, else in the data dir)."""
    settings = get_settings()
    secret_file = settings.secret_key_file or Path(settings.data_dir) / SECRET_FILE_NAME
    return _key_of(Path(secret_file).expanduser().resolve())


def entry_mac(key: bytes, entry_hash: str) -> str:
    return hmac.new(key, entry_hash.encode("ascii"), hashlib.sha256).hexdigest()


def mac_matches(key: bytes, entry_hash: str, mac: str | None) -> bool:
    return mac is not None and hmac.compare_digest(entry_mac(key, entry_hash), mac)
