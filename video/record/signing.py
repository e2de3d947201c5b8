"""The installation's Ed25519 key that signs evidence packages.

Generated into the data dir on first use (mode 0600, created exclusively so
that two processes starting at once end up with the same key).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from watchwall.config.errors import UserError

KEY_FILE_NAME = "evidence-signing-key.pem"


def key_path(data_dir: Path) -> Path:
    return Path(data_dir) / KEY_FILE_NAME


def load_or_create_signing_key(data_dir: Path) -> Ed25519PrivateKey:
    path = key_path(data_dir)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(pem)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise UserError(f"the signing key {path} is not a readable PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise UserError(f"the signing key {path} is not an Ed25519 key")
    return key


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def fingerprint(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, hex."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def signature_valid(public: Ed25519PublicKey, data: bytes, signature: bytes) -> bool:
    try:
        public.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def trusted_fingerprints(data_dir: Path, trust_keys) -> set[str]:
    """This installation's key (if it has one) and every ``--trust-key`` PEM file, by fingerprint."""
    trusted = set()
    if key_path(data_dir).exists():
        trusted.add(fingerprint(load_or_create_signing_key(data_dir)))
    for pem in trust_keys:
        try:
            trusted.add(fingerprint(load_public_key(pem.read_bytes())))
        except (OSError, ValueError) as exc:
            raise UserError(f"--trust-key {pem}: {exc}") from exc
    return trusted


def print_verdict(path: Path, problems) -> int:
    """``valid: FILE``, or ``NOT VALID: FILE`` and each problem; the exit code."""
    if problems:
        print(f"NOT VALID: {path}")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print(f"valid: {path}")
    return 0
