"""User-facing strings: one JSON file per language under assets/i18n/, and one per feature area
(``assets/i18n/<area>/<language>.json``), merged."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"


@lru_cache(maxsize=len(LANGUAGES))
def strings(language: str) -> dict[str, str]:
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    merged: dict[str, str] = {}
    # the shared strings, then one file per feature area (assets/i18n/<area>/<language>.json)
    paths = [
        ASSETS_DIR / "i18n" / f"{language}.json",
        *sorted((ASSETS_DIR / "i18n").glob(f"*/{language}.json")),
    ]
    for path in paths:
        merged.update(json.loads(path.read_text(encoding="utf-8")))
    return merged


def normalise(language: str | None) -> str:
    if not language:
        return DEFAULT_LANGUAGE
    return "en" if language.lower().startswith("en") else "zh-CN"


def t(key: str, language: str) -> str:
    """The string for ``key``; the key itself when a translation is missing (visible, not silent)."""
    return strings(normalise(language)).get(key, key)
