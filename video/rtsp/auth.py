"""RTSP authentication (RFC 2617 as RTSP uses it): Basic, and Digest with MD5 and qop=auth."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

_PARAMETER = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))')


def parse_challenges(values: list[str]) -> dict[str, dict[str, str]]:
    """``WWW-Authenticate`` headers -> {"digest": {...}, "basic": {...}} (scheme in lower case)."""
    challenges: dict[str, dict[str, str]] = {}
    for value in values:
        scheme, _, rest = value.strip().partition(" ")
        parameters = {
            m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
            for m in _PARAMETER.finditer(rest)
        }
        challenges.setdefault(scheme.lower(), parameters)
    return challenges


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # noqa: S324 - RFC 2617 mandates MD5


@dataclass
class Credentials:
    username: str
    password: str
    _digest: dict[str, str] | None = field(default=None, repr=False)
    _basic: bool = False
    _count: int = 0
    make_cnonce: Callable[[], str] = field(default=lambda: os.urandom(8).hex(), repr=False)

    def accept(self, challenges: dict[str, dict[str, str]]) -> bool:
        """Take the server's challenge; False when it offers nothing this client can answer."""
        digest = challenges.get("digest")
        if digest and digest.get("algorithm", "MD5").upper() == "MD5" and "nonce" in digest:
            self._digest, self._count = digest, 0
            return True
        if "basic" in challenges:
            self._basic = True
            return True
        return False

    @property
    def ready(self) -> bool:
        return self._digest is not None or self._basic

    def header(self, method: str, uri: str) -> str | None:
        if self._digest is not None:
            return self._digest_header(method, uri)
        if self._basic:
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")
            return f"Basic {token}"
        return None

    def _digest_header(self, method: str, uri: str) -> str:
        challenge = self._digest or {}
        realm, nonce = challenge.get("realm", ""), challenge["nonce"]
        ha1 = _md5(f"{self.username}:{realm}:{self.password}")
        ha2 = _md5(f"{method}:{uri}")
        parts = [f'username="{self.username}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"']
        qops = [q.strip() for q in challenge.get("qop", "").split(",") if q.strip()]
        if "auth" in qops:
            self._count += 1
            count, cnonce = f"{self._count:08x}", self.make_cnonce()
            response = _md5(f"{ha1}:{nonce}:{count}:{cnonce}:auth:{ha2}")
            parts += ["qop=auth", f"nc={count}", f'cnonce="{cnonce}"']
        else:
            response = _md5(f"{ha1}:{nonce}:{ha2}")
        parts.append(f'response="{response}"')
        if "opaque" in challenge:
            parts.append(f'opaque="{challenge["opaque"]}"')
        parts.append("algorithm=MD5")
        return "Digest " + ", ".join(parts)
