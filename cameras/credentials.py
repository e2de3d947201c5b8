"""Camera credentials: resolved from env vars or the secrets file, never shown."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import yaml

from watchwall.config.errors import UserError
from watchwall.config.redaction import REDACTED


class CredentialsError(UserError, ValueError):
    pass


@dataclass(frozen=True)
class ResolvedCredentials:
    username: str
    password: str

    def __repr__(self) -> str:  # never let a password reach a log through repr()
        return f"ResolvedCredentials(username={self.username!r}, password={REDACTED!r})"


def credentials_reference(
    username: str | None,
    password_env: str | None = None,
    password_secret: str | None = None,
    password_sealed: str | None = None,
):
    """A site-file ``Credentials`` reference from its parts (None without a user), validated."""
    from watchwall.config.site import Credentials

    if not username:
        if password_env or password_secret or password_sealed:
            raise CredentialsError(
                "a password reference (--password-env/--password-secret) needs a user name (--user)"
            )
        return None
    try:
        return Credentials(
            username=username,
            password_env=password_env,
            password_secret=password_secret,
            password_sealed=password_sealed,
        )
    except ValueError as exc:
        first = exc.errors()[0]["msg"] if hasattr(exc, "errors") else str(exc)
        raise CredentialsError(f"invalid camera credentials: {first}") from exc


def with_credentials(url: str, credentials: ResolvedCredentials | None) -> str:
    """The URL carrying the credentials, for handing to the demuxer only."""
    if credentials is None:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    netloc = f"{quote(credentials.username, safe='')}:{quote(credentials.password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def resolve(
    credentials, secrets_file: Path | None = None, key_dir: Path | None = None
) -> ResolvedCredentials | None:
    """Turn a site-file ``Credentials`` reference into a username and password.

    ``key_dir``: where the camera key of sealed passwords is (default: the settings' data dir).
    """
    if credentials is None:
        return None
    if getattr(credentials, "password_sealed", None):
        from watchwall.cameras.password_seal import unseal

        return ResolvedCredentials(credentials.username, unseal(credentials.password_sealed, key_dir))
    if credentials.password_env:
        value = os.environ.get(credentials.password_env)
        if value is None:
            raise CredentialsError(
                f"env var {credentials.password_env} (password of {credentials.username}) is not set"
            )
        return ResolvedCredentials(credentials.username, value)
    if credentials.password_secret:
        if secrets_file is None:
            raise CredentialsError(
                f"password_secret {credentials.password_secret!r} needs WATCHWALL_SECRETS_FILE to be set"
            )
        try:
            secrets = yaml.safe_load(Path(secrets_file).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise CredentialsError(f"cannot read secrets file {secrets_file}: {exc}") from exc
        if credentials.password_secret not in secrets:
            raise CredentialsError(f"secrets file {secrets_file} has no key {credentials.password_secret!r}")
        return ResolvedCredentials(credentials.username, str(secrets[credentials.password_secret]))
    return ResolvedCredentials(credentials.username, "")
