"""Which of a camera's streams a live view shows ("主码流 / 子码流"), in the page's words.

The player (assets/live-player.js) reads the labels from the video's ``data-stream-labels``
and writes the shown stream, and why it is not the one wanted, into ``.live-stream-label``.
"""

from __future__ import annotations

import json

from dash import html

from watchwall.dashboard.i18n import t

LABEL_KEYS = (
    "main", "sub", "thumbnails", "main_down", "sub_down", "main_unplayable", "sub_unplayable",
)  # fmt: skip


def stream_labels(language: str) -> dict[str, str]:
    return {key: t(f"stream.{key}", language) for key in LABEL_KEYS}


def stream_labels_json(language: str) -> str:
    return json.dumps(stream_labels(language), ensure_ascii=False)


def stream_label(element_id: str) -> html.Div:
    """The element the player writes the shown stream into (beside the video, same parent)."""
    return html.Div(id=element_id, className="live-stream-label", role="status")
