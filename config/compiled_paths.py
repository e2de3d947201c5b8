"""Which per-packet paths run compiled: the ``WATCHWALL_PURE_PYTHON`` setting, read in one place.

Two hot paths have a C extension beside their Python reference: the RTSP loop's receive path
(``rtsp``, video.rtsp.hot_path) and the recorder's (``recording``, video.record.pending_samples).
``WATCHWALL_PURE_PYTHON`` unset or 0 runs both compiled; ``rtsp`` or ``recording`` runs that one in
Python; any other value (1) runs both in Python (to compare them, or to rule the extensions out).
"""

from __future__ import annotations

import os

PATHS = ("rtsp", "recording")


def pure_python_asked(path: str) -> bool:
    """Whether the setting asks for ``path`` (one of ``PATHS``) in Python."""
    if path not in PATHS:
        raise ValueError(f"unknown compiled path {path!r}: one of {', '.join(PATHS)}")
    value = os.environ.get("WATCHWALL_PURE_PYTHON", "").strip()
    if value in ("", "0"):
        return False
    return value not in PATHS or value == path


def describe(path: str, compiled_module: str | None) -> str:
    """For the node's log: ``compiled_module`` when it runs (None: the Python reference does), and why."""
    if compiled_module is not None:
        return f"compiled ({compiled_module})"
    if pure_python_asked(path):
        return "Python (WATCHWALL_PURE_PYTHON is set)"
    return "Python (the C extension was not built; a C compiler at install time builds it)"
