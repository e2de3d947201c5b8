"""The index journal on disk: what a recorder holds during a database outage survives the process.

One file a camera, ``<recordings>/<camera>/index-journal.jsonl``, beside the segments it
describes. It is rewritten whole (a temporary file, fsync, rename) each time the held entries
change: once a segment, so its cost does not matter, and a reader never sees half a file. It
holds the closed segments and closes waiting for the database and, last, the segment being
written, whose row is held too ("open"). A node that dies during the outage leaves that open
entry behind; when it starts again the segment is closed from what reached the disk.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from watchwall.video.record.index_journal import (
    HeldClose,
    HeldOpen,
    HeldSegment,
    entry_from_record,
    entry_record,
)

log = logging.getLogger(__name__)

JOURNAL_NAME = "index-journal.jsonl"


@dataclass
class LoadedJournal:
    entries: list[HeldSegment | HeldClose] = field(default_factory=list)
    open: HeldOpen | None = None  # the segment being written when the process stopped


class JournalFile:
    def __init__(self, recordings_dir: Path, camera_id: str) -> None:
        self.path = recordings_dir / camera_id / JOURNAL_NAME

    def save(self, entries: list[HeldSegment | HeldClose], held_open: HeldOpen | None) -> None:
        """The journal is now ``entries`` (oldest first) and the open segment; no file when both are empty."""
        lines = [entry_record(entry) for entry in entries]
        if held_open is not None:
            lines.append(entry_record(held_open))
        if not lines:
            self.path.unlink(missing_ok=True)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            for line in lines:
                handle.write(json.dumps(line, separators=(",", ":")) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
        _sync_directory(self.path.parent)

    def load(self) -> LoadedJournal:
        """What the file holds; a line that cannot be read is logged and skipped (the rest still count)."""
        loaded = LoadedJournal()
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return loaded
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = entry_from_record(json.loads(line))
            except (ValueError, KeyError, TypeError) as exc:
                log.error("index journal %s, line %d: unreadable (%s); skipped", self.path, number, exc)
                continue
            if isinstance(entry, HeldOpen):
                loaded.open = entry
            else:
                if loaded.open is not None and getattr(entry, "path", None) == loaded.open.path:
                    loaded.open = None
                loaded.entries.append(entry)
        return loaded

    def held_closes(self) -> set[str]:
        """Paths of the segments whose close this journal holds (their rows still open in the index)."""
        if not self.path.exists():
            return set()
        return {entry.path for entry in self.load().entries if isinstance(entry, HeldClose)}


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
