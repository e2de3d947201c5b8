"""A report's signature: a sidecar ``REPORT.pdf.sig`` signed with the installation's Ed25519 key.

The sidecar is JSON: the PDF's SHA-256 and size, what the report is, the public key and its
fingerprint, and an Ed25519 signature over the canonical JSON of everything but the signature.
Verifying names what is wrong: a changed PDF (hash or size), a changed sidecar (signature), an
untrusted key, a missing sidecar.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from watchwall.video.record.signing import fingerprint, load_public_key, public_key_pem, signature_valid

SIDECAR_SUFFIX = ".sig"
FORMAT = "watchwall-report-signature/1"


def sidecar_path(pdf: Path) -> Path:
    return pdf.with_name(pdf.name + SIDECAR_SUFFIX)


def _canonical(fields: dict) -> bytes:
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def signature_document(pdf_bytes: bytes, report: dict, key: Ed25519PrivateKey) -> dict:
    fields = {
        "format": FORMAT,
        "sha256": sha256_of(pdf_bytes),
        "bytes": len(pdf_bytes),
        "report": report,
        "public_key": public_key_pem(key).decode(),
        "key_fingerprint": fingerprint(key),
    }
    fields["signature"] = base64.b64encode(key.sign(_canonical(fields))).decode()
    return fields


def write_sidecar(pdf: Path, document: dict) -> Path:
    path = sidecar_path(pdf)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def verify_report(pdf: Path, trusted_fingerprints: set[str]) -> list[str]:
    """Every problem found with ``pdf`` and its sidecar; empty when it is intact and trusted."""
    sidecar = sidecar_path(pdf)
    if not sidecar.is_file():
        return [f"{pdf.name}: no signature file {sidecar.name} beside it"]
    try:
        document = json.loads(sidecar.read_text(encoding="utf-8"))
        signature = base64.b64decode(document.pop("signature"), validate=True)
        public = load_public_key(document["public_key"].encode())
        expected_hash, expected_size = document["sha256"], document["bytes"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return [f"{sidecar.name}: not a readable report signature ({exc})"]
    problems = []
    if not signature_valid(public, _canonical(document), signature):
        problems.append(
            f"{sidecar.name}: the signature does not match its content (the signature file was changed)"
        )
    if fingerprint(public) != document.get("key_fingerprint"):
        problems.append(f"{sidecar.name}: the key fingerprint does not match its public key")
    if fingerprint(public) not in trusted_fingerprints:
        problems.append(
            f"{sidecar.name}: signed by key {fingerprint(public)[:16]}..., which is not trusted here "
            "(not this installation's key; pass --trust-key PEM)"
        )
    data = pdf.read_bytes()
    if len(data) != expected_size or sha256_of(data) != expected_hash:
        problems.append(
            f"{pdf.name}: the PDF was changed after signing (SHA-256 {sha256_of(data)[:16]}..., "
            f"signed {expected_hash[:16]}...; {len(data)} bytes, signed {expected_size})"
        )
    return problems
