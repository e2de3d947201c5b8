"""Evidence export: a clip remuxed into one MP4, with a signed manifest, as a zip.

The zip holds ``clip.mp4``, ``manifest.json`` (what, where, when, from which
segments with their hashes and chain links, by whom and why),
``manifest.sig`` (Ed25519 over the manifest's exact bytes, plus the manifest's
SHA-256 so that a verifier can tell an edited manifest from a wrong
signature) and ``public_key.pem``. The manifest carries the span's bookmarks (``bookmarks.py``);
the signature file lists each bookmark's SHA-256 beside the manifest's, so that a verifier names
the bookmark that was edited. The exported range becomes a hold, which retention never deletes.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Engine
from tqdm import tqdm

from watchwall.config.database import session_scope
from watchwall.config.errors import UserError
from watchwall.video.record.bookmarks import Bookmark, bookmarks_between
from watchwall.video.record.models import RecordingHold
from watchwall.video.record.playback import MSE_MOVFLAGS, NoRecordingError, remux_span, segments_between
from watchwall.video.record.segments import checked_camera_id, file_sha256, inside_recordings
from watchwall.video.record.signing import fingerprint, public_key_pem

PACKAGE_FORMAT = "watchwall-evidence/1"
# Fragmented like the recordings: written in one pass, no seek, so straight into the zip; every
# player that plays MP4 plays it (and a browser through MSE).
CLIP_MOVFLAGS = MSE_MOVFLAGS
CLIP_NAME = "clip.mp4"
MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
PUBLIC_KEY_NAME = "public_key.pem"


@dataclass(frozen=True)
class ExportResult:
    path: Path
    manifest: dict
    clip_sha256: str


def package_name(camera_id: str, start_utc: float, zone: ZoneInfo) -> str:
    """``evidence-<camera>-20261205T015830+0800.zip``: the span's start in the site's local time, with
    its offset, so the name reads like the page (and still names one instant)."""
    local = datetime.fromtimestamp(start_utc, UTC).astimezone(zone)
    return f"evidence-{checked_camera_id(camera_id)}-{local:%Y%m%dT%H%M%S%z}.zip"


def moment(epoch: float, zone: ZoneInfo) -> dict:
    """An instant as UTC and local ISO 8601."""
    utc = datetime.fromtimestamp(epoch, UTC)
    return {
        "epoch": round(epoch, 6),
        "utc": utc.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "local": utc.astimezone(zone).isoformat(timespec="milliseconds"),
    }


def export_clip(
    engine: Engine,
    recordings_dir: Path,
    camera_id: str,
    start_utc: float,
    end_utc: float,
    out_path: Path,
    *,
    signing_key: Ed25519PrivateKey,
    zone: ZoneInfo,
    user: str,
    reason: str | None = None,
    place: dict | None = None,
    audit: Callable[..., object] | None = None,
    address: str | None = None,
    progress: bool | None = False,
) -> ExportResult:
    """Export [start, end) of ``camera_id`` as a signed evidence zip at ``out_path``.

    ``place`` describes the camera (centre, room, names) from the site file, if known.
    """
    checked_camera_id(camera_id)
    if end_utc <= start_utc:
        raise UserError("the end of the span must come after its start")
    segments = segments_between(engine, camera_id, start_utc, end_utc)
    if not segments:
        raise NoRecordingError(f"no recording of {camera_id} between {start_utc} and {end_utc}")
    out_path = Path(out_path)
    with tempfile.TemporaryDirectory(prefix="watchwall-export-", dir=out_path.parent) as scratch:
        partial = Path(scratch) / "package.zip"
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_STORED) as package:
            result, clip = _write_clip(
                package, recordings_dir, segments, start_utc, end_utc, camera_id, progress
            )
            exported_at = time.time()
            manifest = {
                "format": PACKAGE_FORMAT,
                "camera": {"id": camera_id, **(place or {})},
                "timezone": zone.key,
                "requested": {"start": moment(start_utc, zone), "end": moment(end_utc, zone)},
                "actual": {
                    "start": moment(result.actual_start_utc, zone),
                    "end": moment(result.actual_end_utc, zone),
                },
                "clip": {
                    "file": CLIP_NAME,
                    "sha256": clip.sha256,
                    "bytes": clip.size,
                    "packets": result.packets,
                },
                "segments": [_segment_entry(s, zone) for s in result.segments_used],
                "bookmarks": [
                    bookmark_entry(b, zone) for b in bookmarks_between(engine, camera_id, start_utc, end_utc)
                ],
                "exported_by": user,
                "reason": reason,
                "exported_at": moment(exported_at, zone),
                "public_key_sha256": fingerprint(signing_key),
            }
            manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
            signature = {
                "algorithm": "Ed25519",
                "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
                "bookmarks_sha256": {entry["id"]: entry_sha256(entry) for entry in manifest["bookmarks"]},
                "signature": signing_key.sign(manifest_bytes).hex(),
            }
            package.writestr(MANIFEST_NAME, manifest_bytes)
            package.writestr(SIGNATURE_NAME, json.dumps(signature, indent=2, sort_keys=True))
            package.writestr(PUBLIC_KEY_NAME, public_key_pem(signing_key))
        partial.replace(out_path)
    clip_sha = clip.sha256
    with session_scope(engine) as session:
        session.add(
            RecordingHold(
                camera_id=camera_id,
                start_utc=result.actual_start_utc,
                end_utc=result.actual_end_utc,
                kind="export",
                reason=reason,
                created_by=user,
                created_utc=exported_at,
            )
        )
    if audit is not None:
        audit(
            actor=user,
            action="export",
            target=camera_id,
            detail={
                "from_utc": start_utc,
                "to_utc": end_utc,
                "clip_sha256": clip_sha,
                "file": out_path.name,
                "reason": reason,
            },
            address=address,
        )
    return ExportResult(out_path, manifest, clip_sha)


def _write_clip(package, recordings_dir, segments, start_utc, end_utc, camera_id, progress):
    """Remux the clip straight into the zip, hashed on the way; refuse sources that were altered.

    The sources are hashed beside the remux (hashlib releases the GIL): the check
    that evidence comes from segments still as recorded costs little time on two cores.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        sources_checked = pool.submit(_unchanged_sources, recordings_dir, segments)
        progress_bar = tqdm(
            total=sum(s.bytes or 0 for s in segments),
            unit="B",
            unit_scale=True,
            desc=f"export {camera_id}",
            file=sys.stderr,
            disable=None if progress is None else not progress,  # None: only on a terminal
        )
        with progress_bar, package.open(CLIP_NAME, "w", force_zip64=True) as entry:
            clip = _HashingWriter(entry)
            try:
                result = remux_span(
                    recordings_dir,
                    segments,
                    start_utc,
                    end_utc,
                    clip,
                    movflags=CLIP_MOVFLAGS,
                    on_bytes=progress_bar.update,
                )
            except Exception as exc:
                _refuse_altered(sources_checked.result(), exc)
                raise
        _refuse_altered(sources_checked.result())
    return result, clip


def _segment_entry(segment, zone: ZoneInfo) -> dict:
    return {
        "path": segment.path,
        "start": moment(segment.start_utc, zone)["utc"],
        "end": moment(segment.end_utc, zone)["utc"],
        "bytes": segment.bytes,
        "sha256": segment.sha256,
        "prev_sha256": segment.prev_sha256,
    }


def bookmark_entry(bookmark: Bookmark, zone: ZoneInfo) -> dict:
    return {
        "id": bookmark.id,
        "camera": bookmark.camera_id,
        "start": moment(bookmark.start_utc, zone),
        "end": moment(bookmark.end_utc, zone),
        "title": bookmark.title,
        "note": bookmark.note,
        "category": bookmark.category,
        "author": bookmark.author,
        "created": moment(bookmark.created_utc, zone)["utc"],
    }


def entry_sha256(entry: dict) -> str:
    """SHA-256 of one manifest entry's canonical JSON (how a verifier names an edited bookmark)."""
    canonical = json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _refuse_altered(altered: str | None, cause: Exception | None = None) -> None:
    if altered:
        raise UserError(
            f"segment {altered} does not match its index entry; run `watchwall verify --recordings`"
        ) from cause


def _unchanged_sources(recordings_dir: Path, segments) -> str | None:
    """The first source segment whose file is gone or differs from the index, or None."""
    for segment in segments:
        path = inside_recordings(recordings_dir, segment.path)
        if not path.exists() or file_sha256(path) != segment.sha256:
            return segment.path
    return None


class _HashingWriter:
    """A write-only stream (no seek, so FFmpeg writes the fragmented MP4 in one pass) that hashes."""

    def __init__(self, target) -> None:
        self._target = target
        self.digest = hashlib.sha256()
        self.size = 0

    @property
    def sha256(self) -> str:
        return self.digest.hexdigest()

    def write(self, data) -> int:
        self.digest.update(data)
        self._target.write(data)
        self.size += len(data)
        return len(data)
