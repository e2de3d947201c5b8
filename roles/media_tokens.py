"""Short-lived tokens between the roles: a web node asks an ingest node for one path's video.

A token is ``EXPIRES.SIGNATURE``: the HMAC-SHA256, under a key derived from the installation
secret that every role of a cluster shares (the ``secret_key_file`` setting), of the request's
path (with its query) and the expiry in epoch seconds. The web role decides who may see what and
signs; the node checks the signature, the path and the time, and serves nothing without a valid
token. A token names one path, so it opens nothing else, and lives ``TOKEN_TTL_S``.
"""

from __future__ import annotations

import hashlib
import hmac
import time

KEY_LABEL = b"watchwall node media v1"
TOKEN_TTL_S = 60.0
CLOCK_SKEW_S = 30.0  # the machines' clocks may differ this much
HEADER = "X-WatchWall-Token"


def media_key(secret: bytes) -> bytes:
    return hmac.new(secret, KEY_LABEL, hashlib.sha256).digest()


def _signature(key: bytes, target: str, expires: int) -> str:
    return hmac.new(key, f"{expires}|{target}".encode(), hashlib.sha256).hexdigest()


def sign(key: bytes, target: str, ttl_s: float = TOKEN_TTL_S, now: float | None = None) -> str:
    """The token for ``target`` (a path with its query, e.g. ``/live/qz0?stream=main``)."""
    expires = int((time.time() if now is None else now) + ttl_s)
    return f"{expires}.{_signature(key, target, expires)}"


def check(key: bytes, target: str, token: str | None, now: float | None = None) -> str | None:
    """None when ``token`` opens ``target`` now; else why not (for the node's log)."""
    if not token:
        return "no token"
    expires_text, _, signature = token.partition(".")
    if not expires_text.isdigit() or not signature:
        return "malformed token"
    expires = int(expires_text)
    now = time.time() if now is None else now
    if expires < now - CLOCK_SKEW_S:
        return "expired token"
    if expires > now + TOKEN_TTL_S + CLOCK_SKEW_S:
        return "token valid too long"
    if not hmac.compare_digest(_signature(key, target, expires), signature):
        return "bad signature"
    return None
