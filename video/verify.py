"""Checks that recordings and evidence packages are what WatchWall wrote.

``verify_recordings`` walks each camera's hash chain in the index against the
files on disk and names every missing, replaced (swapped) or edited segment,
every broken link (a row removed or altered) and every file the index does not
know. Pruned segments are tombstones: their file is meant to be gone.
``verify_package`` checks an exported evidence zip (see video/export.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from config.database import session_scope
from video.models import SEGMENT_PRUNED, RecordingSegment
from video.segments import SEGMENT_SUFFIX, checked_camera_id, file_sha256, inside_recordings


@dataclass(frozen=True)
class Problem:
    kind: str  # missing, edited, replaced, chain, unindexed, clip, manifest, signature, key, package
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject}: {self.detail}"


def verify_recordings(engine: Engine, recordings_dir: Path, camera_id: str | None = None) -> list[Problem]:
    recordings_dir = Path(recordings_dir)
    query = select(RecordingSegment).where(RecordingSegment.sha256.is_not(None))
    if camera_id is not None:
        query = query.where(RecordingSegment.camera_id == checked_camera_id(camera_id))
    with session_scope(engine) as session:
        rows = list(session.scalars(query.order_by(RecordingSegment.camera_id, RecordingSegment.start_utc)))
        paths = select(RecordingSegment.path)
        if camera_id is not None:
            paths = paths.where(RecordingSegment.camera_id == camera_id)
        indexed_paths = set(session.scalars(paths))
    path_by_hash = {row.sha256: row.path for row in rows if row.status != SEGMENT_PRUNED}
    problems: list[Problem] = []
    previous: dict[str, str | None] = {}
    for row in rows:
        expected_link = previous.get(row.camera_id)
        if row.prev_sha256 != expected_link:
            problems.append(
                Problem(
                    "chain",
                    row.path,
                    f"links to {_short(row.prev_sha256)} but the segment before it in the index is "
                    f"{_short(expected_link)}: a segment row was removed or altered",
                )
            )
        previous[row.camera_id] = row.sha256
        if row.status == SEGMENT_PRUNED:
            continue
        path = inside_recordings(recordings_dir, row.path)
        if not path.exists():
            problems.append(
                Problem("missing", row.path, "the file is gone but the index holds it (not pruned)")
            )
            continue
        actual = file_sha256(path)
        if actual == row.sha256:
            continue
        other = path_by_hash.get(actual)
        if other is not None:
            problems.append(Problem("replaced", row.path, f"holds the content of {other}"))
        else:
            problems.append(
                Problem("edited", row.path, f"SHA-256 {_short(actual)} instead of {_short(row.sha256)}")
            )
    problems.extend(_unindexed_files(recordings_dir, camera_id, indexed_paths))
    return problems


def _unindexed_files(recordings_dir: Path, camera_id: str | None, indexed: set[str]) -> list[Problem]:
    roots = [recordings_dir / camera_id] if camera_id else [p for p in recordings_dir.iterdir() if p.is_dir()]
    problems = []
    for root in roots:
        if not root.is_dir():
            continue
        for path in sorted(root.rglob(f"*{SEGMENT_SUFFIX}")):
            relative = path.relative_to(recordings_dir).as_posix()
            if relative not in indexed:
                problems.append(Problem("unindexed", relative, "a segment file that the index does not know"))
    return problems


def _short(digest: str | None) -> str:
    return "nothing" if digest is None else digest[:12]
