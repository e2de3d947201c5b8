"""Names of people under supervision are shown masked: 张三明 -> 张*明, 张三 -> 张*."""

from __future__ import annotations


def mask_name(name: str) -> str:
    """Keep the first and (for three or more characters) the last character; star the rest."""
    name = name.strip()
    if len(name) <= 1:
        return "*" if name else ""
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
