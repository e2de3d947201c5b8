"""Checks that recordings and evidence packages are what WatchWall wrote.

``verify_recordings`` walks each camera's hash chain in the index against the
files on disk and names every missing, replaced (swapped) or edited segment,
every broken link (a row removed or altered) and every file the index does not
know. Pruned segments are tombstones: their file is meant to be gone.
``verify_locks`` says of every active evidence lock whether its span is intact (every segment
there present and unaltered, none pruned). ``verify_package`` checks an exported evidence zip
(see export.py), naming a bookmark edited in its manifest.
"""

from __future__ import annotations

import hashlib
import json
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from watchwall.config.database import session_scope
from watchwall.video.record.export import (
    CLIP_NAME,
    MANIFEST_NAME,
    PUBLIC_KEY_NAME,
    SIGNATURE_NAME,
    entry_sha256,
)
from watchwall.video.record.locks import active_locked_spans
from watchwall.video.record.models import SEGMENT_PRUNED, RecordingSegment
from watchwall.video.record.segments import SEGMENT_SUFFIX, checked_camera_id, file_sha256, inside_recordings
from watchwall.video.record.signing import fingerprint, load_public_key, signature_valid


@dataclass(frozen=True)
class Problem:
    kind: (
        str  # missing, edited, replaced, chain, unindexed, clip, manifest, signature, key, package, bookmark
    )
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject}: {self.detail}"


def verify_recordings(
    engine: Engine, recordings_dir: Path, camera_id: str | None = None, *, node: str | None = None
) -> list[Problem]:
    """Every camera's chain in the index, and the files this machine holds against it.

    ``node``: on an ingest node of a cluster, the files checked are those the index says this
    node holds; the chain is checked whole (it runs across nodes), and so is the fencing: along
    a camera's chain the lease epoch never goes back.
    """
    recordings_dir = Path(recordings_dir)
    query = select(RecordingSegment).where(RecordingSegment.sha256.is_not(None))
    if camera_id is not None:
        query = query.where(RecordingSegment.camera_id == checked_camera_id(camera_id))
    with session_scope(engine) as session:
        rows = list(session.scalars(query.order_by(RecordingSegment.camera_id, RecordingSegment.start_utc)))
        paths = select(RecordingSegment.path).where(
            RecordingSegment.node == node if node is not None else RecordingSegment.node.is_(None)
        )
        if camera_id is not None:
            paths = paths.where(RecordingSegment.camera_id == camera_id)
        indexed_paths = set(session.scalars(paths))
    path_by_hash = {row.sha256: row.path for row in rows if row.status != SEGMENT_PRUNED}
    problems: list[Problem] = []
    previous: dict[str, str | None] = {}
    epochs: dict[str, int] = {}
    for row in rows:
        if row.epoch is not None:
            if row.epoch < epochs.get(row.camera_id, row.epoch):
                problems.append(
                    Problem(
                        "fencing",
                        row.path,
                        f"written under lease epoch {row.epoch} after a segment of epoch "
                        f"{epochs[row.camera_id]}: a node that had lost the camera wrote it",
                    )
                )
            epochs[row.camera_id] = max(row.epoch, epochs.get(row.camera_id, row.epoch))
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
        if row.status == SEGMENT_PRUNED or row.node != node:
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


@dataclass(frozen=True)
class LockCheck:
    """One camera's part of an active lock, and what is wrong there (nothing: intact)."""

    lock_id: int
    camera_id: str
    start_utc: float
    end_utc: float
    segments: int
    problems: tuple[Problem, ...]

    @property
    def intact(self) -> bool:
        return self.segments > 0 and not self.problems


def verify_locks(
    engine: Engine,
    recordings_dir: Path,
    problems: list[Problem] | None = None,
    camera_id: str | None = None,
    now_utc: float | None = None,
) -> list[LockCheck]:
    """Each active lock's span per camera: intact, or the problems of ``verify_recordings`` inside it.

    ``problems``: that walk's answer, if already made (else it is made here).
    """
    now_utc = time.time() if now_utc is None else now_utc
    if problems is None:
        problems = verify_recordings(engine, recordings_dir, camera_id)
    by_path: dict[str, list[Problem]] = {}
    for problem in problems:
        by_path.setdefault(problem.subject, []).append(problem)
    checks = []
    with session_scope(engine) as session:
        for span in active_locked_spans(session, now_utc, camera_id):
            rows = session.scalars(
                select(RecordingSegment)
                .where(
                    RecordingSegment.camera_id == span.camera_id,
                    RecordingSegment.sha256.is_not(None),
                    RecordingSegment.start_utc < span.end_utc,
                    RecordingSegment.end_utc > span.start_utc,
                )
                .order_by(RecordingSegment.start_utc)
            ).all()
            found: list[Problem] = []
            for row in rows:
                found.extend(by_path.get(row.path, ()))
                if row.status == SEGMENT_PRUNED:
                    found.append(Problem("pruned", row.path, f"deleted by retention ({row.pruned_reason})"))
            if not rows:
                found.append(Problem("missing", span.camera_id, "no recorded segment in the locked span"))
            checks.append(
                LockCheck(span.lock_id, span.camera_id, span.start_utc, span.end_utc, len(rows), tuple(found))
            )
    return checks


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


def _edited_bookmarks(manifest: dict, signed) -> list[Problem]:
    """Which bookmarks of an edited manifest differ from those signed (named by id and title)."""
    if not isinstance(signed, dict):
        return []
    entries = manifest.get("bookmarks") if isinstance(manifest.get("bookmarks"), list) else []
    problems, seen = [], set()
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        bookmark_id = str(entry.get("id"))
        seen.add(bookmark_id)
        if bookmark_id not in signed:
            problems.append(
                Problem("bookmark", bookmark_id, f"{entry.get('title')!r} was added after signing")
            )
        elif entry_sha256(entry) != signed[bookmark_id]:
            problems.append(
                Problem("bookmark", bookmark_id, f"{entry.get('title')!r} was edited after signing")
            )
    for bookmark_id in sorted(set(signed) - seen):
        problems.append(Problem("bookmark", bookmark_id, "was removed after signing"))
    return problems


def verify_package(package_path: Path, trusted_fingerprints: set[str]) -> list[Problem]:
    """Check an evidence zip; an empty list means valid. ``trusted_fingerprints``: key SHA-256s accepted."""
    name = Path(package_path).name
    try:
        package = zipfile.ZipFile(package_path)
    except (OSError, zipfile.BadZipFile) as exc:
        return [Problem("package", name, f"not a readable zip: {exc}")]
    with package:
        members = set(package.namelist())
        missing = [m for m in (CLIP_NAME, MANIFEST_NAME, SIGNATURE_NAME, PUBLIC_KEY_NAME) if m not in members]
        if missing:
            return [Problem("package", name, f"lacks {', '.join(missing)}")]
        manifest_bytes = package.read(MANIFEST_NAME)
        problems: list[Problem] = []
        try:
            signature = json.loads(package.read(SIGNATURE_NAME))
            signature_bytes = bytes.fromhex(signature["signature"])
            signed_manifest_sha = signature["manifest_sha256"]
        except (ValueError, KeyError, TypeError) as exc:
            signature, signature_bytes, signed_manifest_sha = None, b"", None
            problems.append(Problem("signature", SIGNATURE_NAME, f"unreadable: {exc}"))
        try:
            public = load_public_key(package.read(PUBLIC_KEY_NAME))
        except ValueError as exc:
            return [*problems, Problem("key", PUBLIC_KEY_NAME, str(exc))]
        key_print = fingerprint(public)
        if key_print not in trusted_fingerprints:
            problems.append(
                Problem(
                    "key", PUBLIC_KEY_NAME, f"signed by unknown key {key_print[:16]}, not this installation's"
                )
            )
        manifest_edited = signed_manifest_sha is not None and (
            hashlib.sha256(manifest_bytes).hexdigest() != signed_manifest_sha
        )
        if manifest_edited:
            problems.append(Problem("manifest", MANIFEST_NAME, "edited after it was signed"))
        elif signature is not None and not signature_valid(public, manifest_bytes, signature_bytes):
            problems.append(Problem("signature", SIGNATURE_NAME, "does not match the manifest and the key"))
        try:
            manifest = json.loads(manifest_bytes)
            expected_clip = manifest["clip"]["sha256"]
        except (ValueError, KeyError, TypeError) as exc:
            return [*problems, Problem("manifest", MANIFEST_NAME, f"unreadable: {exc}")]
        if manifest_edited and signature is not None:
            problems.extend(_edited_bookmarks(manifest, signature.get("bookmarks_sha256")))
        if manifest.get("public_key_sha256") != key_print:
            problems.append(Problem("key", PUBLIC_KEY_NAME, "is not the key named in the manifest"))
        digest = hashlib.sha256()
        with package.open(CLIP_NAME) as clip:
            while chunk := clip.read(1 << 20):
                digest.update(chunk)
        if digest.hexdigest() != expected_clip:
            problems.append(Problem("clip", CLIP_NAME, "altered: its SHA-256 differs from the manifest's"))
    return problems
