"""Errors whose message is written for the operator, printed by the CLI as is."""


class UserError(Exception):
    """Bad input or an unusable environment; ``str(exc)`` is the whole message."""

    exit_code = 2
