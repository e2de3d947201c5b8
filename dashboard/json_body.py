"""Request bodies in JSON, refused before they can hurt: too deep, or holding text that cannot be stored.

``json.loads`` recurses once per nesting level, so 100,000 nested brackets end in a RecursionError
(a 500) wherever a body is parsed; a lone surrogate (``"\\ud800"``) parses into a str that no
database driver can encode. Both are answered 400 with a message saying why.
"""

from __future__ import annotations

import json
import re

MAX_DEPTH = 64


class BadJson(ValueError):
    """The body is not JSON WatchWall takes: ``error`` says what, ``details`` where or why."""

    def __init__(self, error: str, *details: str) -> None:
        super().__init__(": ".join((error, *details)))
        self.error, self.details = error, list(details)


STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
BRACKETS = re.compile(r"[\[\]{}]")


def nesting_depth(text: str, limit: int = MAX_DEPTH) -> int:
    """The deepest nesting of ``[``/``{`` outside strings, counting no further than ``limit + 1``.
    Strings are dropped first (in C), so only the brackets are walked in Python."""
    depth = deepest = 0
    for bracket in BRACKETS.findall(STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        else:
            depth -= 1
    return deepest


def parse(data: bytes | str) -> object:
    """The body's value; BadJson for bytes that are not UTF-8, not JSON, too deep or not storable."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        raise BadJson("malformed JSON", f"the body is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    if nesting_depth(text) > MAX_DEPTH:
        raise BadJson(f"JSON nested deeper than {MAX_DEPTH} levels is not accepted")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadJson("malformed JSON", f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise BadJson("JSON text holds a lone surrogate (such as \\ud800), which is not text") from None
    return value
