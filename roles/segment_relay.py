"""Recorded segments for a web node's playback and export, from the disks of the nodes that hold them.

Recordings stay on the disk of the node that wrote them; the index says which node (``node``)
and the cluster table where it listens. Before a playback or an export of a span, the web role
copies the span's segments it lacks into a mirror folder laid out like a recordings folder, each
checked against its index hash before use, and then plays or exports from there with the same
code as one machine. A span recorded partly on each of two nodes (before and after a takeover)
comes from both. The mirror is a cache: the least recently used files go beyond ``max_bytes``.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.engine import Engine

from watchwall.cluster.models import ClusterNode
from watchwall.config.database import session_scope
from watchwall.config.errors import UserError
from watchwall.roles import media_tokens
from watchwall.roles.media_relay import split_address
from watchwall.video.record.models import RecordingSegment
from watchwall.video.record.playback import PLAYABLE
from watchwall.video.record.segments import checked_camera_id, inside_recordings

log = logging.getLogger(__name__)

FETCH_TIMEOUT_S = 30.0
CHUNK = 256 * 1024
DEFAULT_MAX_BYTES = 4 * 1024**3


class SegmentUnavailable(UserError):
    """A segment of the span is on a node that cannot give it now (down, or it no longer has it)."""


@dataclass(frozen=True)
class IndexedSegment:
    path: str
    sha256: str | None
    bytes: int | None
    node: str | None


class SegmentRelay:
    def __init__(
        self,
        engine: Engine,
        key: bytes,
        mirror_dir: Path,
        local_dir: Path,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.engine = engine
        self.key = key
        self.mirror_dir = Path(mirror_dir)
        self.local_dir = Path(local_dir)
        self.max_bytes = max_bytes
        self.fetched = 0

    def recordings_dir(self, camera_id: str, start_utc: float, end_utc: float) -> Path:
        """A folder holding every playable segment of [start, end), fetched where missing."""
        checked_camera_id(camera_id)
        segments, addresses = self._indexed(camera_id, start_utc, end_utc)
        self.mirror_dir.mkdir(parents=True, exist_ok=True)
        wanted = set()
        for segment in segments:
            wanted.add(self._ensure(segment, addresses))
        self._prune(keep=wanted)
        return self.mirror_dir

    def _indexed(self, camera_id: str, start_utc: float, end_utc: float):
        with session_scope(self.engine) as session:
            rows = session.execute(
                select(
                    RecordingSegment.path,
                    RecordingSegment.sha256,
                    RecordingSegment.bytes,
                    RecordingSegment.node,
                )
                .where(
                    RecordingSegment.camera_id == camera_id,
                    RecordingSegment.status.in_(PLAYABLE),
                    RecordingSegment.start_utc < end_utc,
                    RecordingSegment.end_utc > start_utc,
                )
                .order_by(RecordingSegment.start_utc)
            ).all()
            nodes = {row.node for row in rows if row.node}
            addresses = (
                dict(
                    session.execute(
                        select(ClusterNode.name, ClusterNode.address).where(ClusterNode.name.in_(nodes))
                    ).all()
                )
                if nodes
                else {}
            )
        return [IndexedSegment(*row) for row in rows], addresses

    def _ensure(self, segment: IndexedSegment, addresses: dict[str, str]) -> Path:
        target = inside_recordings(self.mirror_dir, segment.path)
        if target.is_file() and target.stat().st_size == segment.bytes:
            os.utime(target)  # recently used: pruned last
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        try:
            if segment.node is None:  # recorded by a one-machine role on this machine's disk
                self._copy_local(segment, partial)
            else:
                address = addresses.get(segment.node)
                if address is None:
                    raise SegmentUnavailable(
                        f"segment {segment.path} is on node {segment.node}, which is unknown"
                    )
                self._fetch(segment, address, partial)
            digest = _sha256(partial)
            if segment.sha256 is not None and digest != segment.sha256:
                raise SegmentUnavailable(
                    f"segment {segment.path} from {segment.node or 'this machine'} does not match its index "
                    "entry; run `watchwall verify --recordings` on that node"
                )
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        self.fetched += 1
        return target

    def _copy_local(self, segment: IndexedSegment, partial: Path) -> None:
        source = inside_recordings(self.local_dir, segment.path)
        if not source.is_file():
            raise SegmentUnavailable(f"segment {segment.path} is not on this machine's disk")
        shutil.copyfile(source, partial)

    def _fetch(self, segment: IndexedSegment, address: str, partial: Path) -> None:
        host, port = split_address(address)
        target = f"/segments/{quote(segment.path)}"
        connection = http.client.HTTPConnection(host, port, timeout=FETCH_TIMEOUT_S)
        try:
            connection.request(
                "GET", target, headers={media_tokens.HEADER: media_tokens.sign(self.key, target)}
            )
            response = connection.getresponse()
            if response.status != 200:
                raise SegmentUnavailable(
                    f"node {segment.node} at {address} answered {response.status} for segment {segment.path}"
                )
            with partial.open("wb") as out:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
        except (OSError, http.client.HTTPException) as exc:
            raise SegmentUnavailable(
                f"segment {segment.path} is on node {segment.node} ({address}), which does not answer: {exc}"
            ) from None
        finally:
            connection.close()

    def _prune(self, keep: set[Path]) -> None:
        files = []
        for path in self.mirror_dir.rglob("*"):
            if path.is_file() and not path.name.endswith(".part"):
                stat = path.stat()
                files.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files):
            if total <= self.max_bytes:
                break
            if path in keep:
                continue
            path.unlink(missing_ok=True)
            total -= size


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
