"""Text that is safe to store and show: no control characters, no bidi overrides, no lone surrogates.

Shared by every package that takes a name, id or reason from outside (the importers, the REST
API, the dashboard) and by every place that prints stored text (``watchwall audit list``).
"""

from __future__ import annotations

import unicodedata

# Cc: C0/C1 controls (NUL, ESC, ...); Cf: format characters (bidi overrides and isolates, zero-width
# joiners, BOM); Cs: lone surrogates (not encodable as UTF-8); Co/Cn: private and unassigned.
REFUSED_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn")


def first_unsafe(text: str, allow_newlines: bool = False) -> str | None:
    """The first character ``text`` must not hold, or None."""
    for char in text:
        if allow_newlines and char in "\n\t":
            continue
        if unicodedata.category(char) in REFUSED_CATEGORIES:
            return char
    return None


def unsafe_reason(text: str, allow_newlines: bool = False) -> str | None:
    """Why ``text`` is refused ("control character U+202E"), or None when it is plain."""
    char = first_unsafe(text, allow_newlines)
    return None if char is None else f"control character U+{ord(char):04X} is not allowed"


def printable(text: str) -> str:
    """``text`` with every unsafe character written as an escape (``\\x00``, ``\\u202e``)."""
    if first_unsafe(text) is None:
        return text
    out = []
    for char in text:
        if unicodedata.category(char) in REFUSED_CATEGORIES:
            code = ord(char)
            out.append(
                f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
            )
        else:
            out.append(char)
    return "".join(out)
