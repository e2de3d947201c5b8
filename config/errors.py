"""Errors whose message is written for the operator, printed by the CLI as is."""


class UserError(Exception):
    """Bad input or an unusable environment; ``str(exc)`` is the whole message."""

    exit_code = 2


def first_line(exc: BaseException) -> str:
    """An exception's message cut to its first line, for a one-line log or status; its type's name
    when it has no message (a bare ``TimeoutError()``)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
