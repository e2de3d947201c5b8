"""Sort FFmpeg's failures into the few kinds an operator acts on differently."""

from __future__ import annotations

import errno

import av

from watchwall.config.errors import UserError

AUTH = "auth"
NOT_FOUND = "not_found"
UNSUPPORTED_CODEC = "unsupported_codec"
UNREACHABLE = "unreachable"
PROTOCOL = "protocol"
CONFIG = "config"  # the site file's camera cannot be opened at all (no such file, missing secret)

ERROR_KINDS = (AUTH, NOT_FOUND, UNSUPPORTED_CODEC, UNREACHABLE, PROTOCOL, CONFIG)

# Kinds a retry will not fix by itself soon; the reader still retries, but slowly. A protocol
# error is one: a camera that answers what we cannot use (a refused transport, junk) answers it again.
PERSISTENT_KINDS = frozenset({AUTH, NOT_FOUND, UNSUPPORTED_CODEC, CONFIG, PROTOCOL})

_UNREACHABLE_ERRNOS = {
    errno.ECONNREFUSED,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.ETIMEDOUT,
    errno.EPIPE,
}


class StreamFailure(Exception):
    """A stream that cannot be opened or read, with the kind of failure."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


def classify(exc: BaseException) -> str:
    """The error kind of an exception raised by PyAV while opening or reading a stream."""
    if isinstance(exc, StreamFailure):
        return exc.kind
    if isinstance(exc, UserError):  # the camera's own settings: a missing file, an unset password variable
        return CONFIG
    if isinstance(exc, av.error.HTTPUnauthorizedError | av.error.HTTPForbiddenError):
        return AUTH
    if isinstance(exc, av.error.HTTPNotFoundError | FileNotFoundError):
        return NOT_FOUND
    if isinstance(exc, av.error.DecoderNotFoundError | av.error.PatchWelcomeError):
        return UNSUPPORTED_CODEC
    # ExitError is PyAV's own timeout interrupting FFmpeg; TimeoutError is FFmpeg's socket timeout.
    if isinstance(exc, av.error.ExitError | TimeoutError | ConnectionError | av.error.EOFError):
        return UNREACHABLE
    if isinstance(exc, OSError) and exc.errno in _UNREACHABLE_ERRNOS:
        return UNREACHABLE
    return PROTOCOL  # invalid data, an unexpected answer, anything else the peer got wrong


def describe(exc: BaseException, display_url: str) -> str:
    """One line for the operator; the URL is the redacted one, never the one FFmpeg was given."""
    if isinstance(exc, StreamFailure):
        return exc.detail
    if isinstance(exc, UserError):
        return str(exc)
    message = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"{display_url}: {message}"
