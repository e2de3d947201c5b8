"""Records one camera: packets from its fan-out into fragmented-MP4 segments, indexed and hash-chained.

The recorder has its own thread and its own bounded subscription, so a slow
disk or database costs only recorded video (counted and kept as a gap row),
never the reader or the live view. A new segment starts at the first keyframe
after ``segment_seconds``, and after every interruption: a stall, a reconnect
(a new stream, timestamps restarting), dropped packets, a disk error.

The first segment after a start or an interruption is shorter, by a fraction fixed for the camera
(``staggered_length``): a node starts its cameras within seconds of each other, and without it
every camera's segments would end in the same second, minute after minute, each closing its file
and its index row at once with all the others.

Only H.264 and H.265 are recorded. A camera in another codec (MJPEG) stays on the wall for live
view and thumbnails; its recorder keeps the state "not recordable: codec mjpeg", said once in the
log. Why not record MJPEG: recordings are played back in the browser through MSE, which plays no
MJPEG, and are exported and verified as the same fMP4; a container that merely holds the JPEGs
would be a recording nobody can play where recordings are watched, at ten times the bytes.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import shutil
import threading
import time
from pathlib import Path

from sqlalchemy.engine import Engine

from watchwall.config.database import session_scope
from watchwall.config.errors import first_line
from watchwall.video.ingest.fanout import Fanout
from watchwall.video.ingest.packet import MediaPacket
from watchwall.video.record.fence import RecordingFence
from watchwall.video.record.h264_segment import FRAGMENT_S, H264SegmentWriter
from watchwall.video.record.index_journal import (
    HeldClose,
    HeldOpen,
    HeldSegment,
    database_unreachable,
    recorded_after,
)
from watchwall.video.record.journal_file import JournalFile
from watchwall.video.record.models import (
    GAP_CAMERA_OFFLINE,
    GAP_DISK_FULL,
    GAP_DROPPED,
    GAP_LEASE_LAPSED,
    GAP_NODE_FAILOVER,
    GAP_RECORDER_CRASHED,
    GAP_RECORDER_STOPPED,
    GAP_STALLED,
    GAP_WRITE_ERROR,
    SEGMENT_CLOSED,
    SEGMENT_OPEN,
    SEGMENT_RECOVERED,
    RecordingGap,
    RecordingSegment,
    close_segment_row,
    last_recorded_end,
)
from watchwall.video.record.recovery import finish_segment_from_disk, recover, segment_from_disk
from watchwall.video.record.segments import (
    RECORDABLE_CODECS,
    SegmentWriter,
    checked_camera_id,
    packet_seconds,
    segment_relative_path,
)
from watchwall.video.state.events import Event

log = logging.getLogger(__name__)

DISK_FULL_EVENT = Event.RECORDER_DISK_FULL
WRITE_ERROR_EVENT = Event.RECORDER_WRITE_ERROR
MIN_GAP_S = 0.001
JOURNAL_RETRY_S = 1.0  # how often a recorder holding index rows tries the database again
FRAGMENT_SLACK_S = 0.05  # past a fragment's due time, for the packet that completes it to arrive

# Recorder states (health "recorder", /admin)
RECORDING = "recording"
WAITING = "waiting for a keyframe"
IDLE = "idle"
PAUSED = "paused after a write error"
STOPPED = "stopped"
NOT_RECORDABLE = "not recordable: codec {codec}"
FENCED = "fenced: another node holds the camera"


class Recorder:
    def __init__(
        self,
        camera_id: str,
        fanout: Fanout,
        engine: Engine,
        recordings_dir: Path,
        *,
        segment_seconds: float = 60,
        sink=None,
        gap_threshold_s: float = 1.0,
        idle_close_s: float = 5.0,
        retry_after_s: float = 5.0,
        queue_size: int = 2048,
        batch_s: float = 0.25,
        fence: RecordingFence | None = None,
    ) -> None:
        self.camera_id = checked_camera_id(camera_id)
        self.fanout = fanout
        self.engine = engine
        self.recordings_dir = Path(recordings_dir)
        self.segment_seconds = segment_seconds
        # the first segment's length after a start or an interruption, then the current segment's
        self._first_segment_s = staggered_length(camera_id, segment_seconds)
        self._segment_target_s = self._first_segment_s
        self.sink = sink
        self.gap_threshold_s = gap_threshold_s
        self.idle_close_s = idle_close_s
        self.retry_after_s = retry_after_s
        self.queue_size = queue_size
        self.batch_s = batch_s  # wake at most this often while packets flow (see _batch_wait)
        self.segments_closed = 0
        self.packets_written = 0
        self.bytes_written = 0  # media bytes of the packets written (what /metrics shows)
        self.errors = 0
        self._subscription = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._writer: SegmentWriter | None = None
        self._row_id: int | None = None
        self._last: MediaPacket | None = None
        self._last_arrival = 0.0
        self._pending_gap: tuple[float, str] | None = None  # (start, reason) until the next segment opens
        self._seen_dropped = 0
        self._paused_until = 0.0  # after a disk error, monotonic time of the next attempt
        self._alarmed = False
        self._needs_recovery = False
        self._opened_after: tuple[tuple[float, str] | None, int | None] = (None, None)
        self.fence = fence
        self.fenced = False  # the lease moved on: nothing more is written
        # index rows held while the database is away (index_journal), oldest first
        self._journal: list[HeldSegment | HeldClose] = []
        self._held_open: HeldOpen | None = None  # the open segment's row, when it could not be written
        self._journal_retry_at = 0.0
        self._journal_file = JournalFile(recordings_dir, camera_id)
        self._replayed = False  # rows held by an earlier process (it died in an outage) are in the index
        self.rows_held = 0  # index rows written late, after an outage (figures)
        self.unrecordable_codec: str | None = None  # the camera's codec, while it is one we do not record

    # -- life cycle -------------------------------------------------------------------------------------
    def start(self) -> Recorder:
        if self._thread is not None:
            raise RuntimeError("recorder already started")
        self._replay_journal_file()
        self._pending_gap = self._restart_gap()
        self._subscription = self.fanout.subscribe(f"recorder:{self.camera_id}", maxsize=self.queue_size)
        self._thread = threading.Thread(target=self._run, name=f"recorder-{self.camera_id}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Drain what was already published, close the open segment, and stop."""
        self._stop.set()
        if self._subscription is not None:
            self._subscription.close()  # no new packets; the thread drains what is queued
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("recorder %s did not stop within %.1f s", self.camera_id, timeout)

    @property
    def dropped(self) -> int:
        return self._subscription.dropped if self._subscription else 0

    @property
    def recording(self) -> bool:
        return self._writer is not None

    @property
    def state(self) -> str:
        """One line for the health JSON and /admin: recording, waiting, not recordable ..."""
        if self.fenced:
            return FENCED
        if self.unrecordable_codec is not None:
            return NOT_RECORDABLE.format(codec=self.unrecordable_codec)
        if self._writer is not None:
            return RECORDING
        if self._stop.is_set() or self._thread is None:
            return STOPPED
        if time.monotonic() < self._paused_until:
            return PAUSED
        return WAITING if self._last is not None else IDLE

    def _run(self) -> None:
        while True:
            handled = 0
            for packet in self._subscription.drain(timeout=0.2):  # all that queued up, in one hand-over
                self._guarded(self._handle, packet)
                handled += 1
            if not handled:
                if self._stop.is_set():
                    break
                self._guarded(self._close_if_idle)
                continue
            if self.batch_s and not self._subscription.pending():
                self._stop.wait(self._batch_wait())  # let packets queue up; stop() cuts it short
        try:
            self._close_segment()
        except Exception:
            log.exception("recorder %s: cannot close its last segment (recovery will)", self.camera_id)

    def _guarded(self, step, *args) -> None:
        try:
            step(*args)
        except Exception:  # e.g. the database is away: keep going, retry later; the gap tells the loss
            log.exception(
                "recorder %s: unexpected error; retrying in %.0f s", self.camera_id, self.retry_after_s
            )
            self._recover_from_error()

    def _batch_wait(self) -> float:
        """How long to let packets queue: ``batch_s``, or, while an H.264 segment is written, until
        its pending fragment is full (at most ``FRAGMENT_S``). A fragment reaches the disk when the
        packet after it is handled, so waking before that writes nothing, and waking just after it
        keeps what a crash loses to the fragment in progress, as with a wake every ``batch_s``."""
        writer = self._writer
        if self.batch_s >= FRAGMENT_S or not isinstance(writer, H264SegmentWriter):
            return self.batch_s
        return min(max(writer.fragment_due_s() + FRAGMENT_SLACK_S, self.batch_s), FRAGMENT_S)

    def _recover_from_error(self) -> None:
        self.errors += 1
        try:
            self._abandon_segment(GAP_WRITE_ERROR)
        except Exception:
            log.exception("recorder %s: cannot close the segment (recovery will)", self.camera_id)
            self._writer, self._row_id = None, None
        if self._pending_gap is None and self._last is not None:
            self._pending_gap = (self._last.wallclock, GAP_WRITE_ERROR)
        self._paused_until = time.monotonic() + self.retry_after_s
        self._needs_recovery = True  # a segment may be left open: close it before the next one, in order

    # -- per packet -------------------------------------------------------------------------------------
    def _handle(self, packet: MediaPacket) -> None:
        if self.fenced:
            return
        if self._journal:
            self._flush_journal()
            if self.fenced:
                return
        if self.fence is not None and not self.fence.may_write():
            self._lapse()  # writing resumes at a keyframe once the lease is renewed in time again
            return
        dropped = self._subscription.dropped
        lost_packets = dropped > self._seen_dropped
        if lost_packets:
            self._seen_dropped = dropped
            self._interrupt(GAP_DROPPED)
        reason = self._discontinuity(packet)
        if reason == GAP_STALLED and lost_packets:
            reason = None  # the jump in time is the dropped packets
        if reason is not None:
            self._interrupt(reason)
        elif self._writer and packet.is_keyframe and self._writer.duration_s >= self._segment_target_s:
            self._close_segment()
            self._segment_target_s = self.segment_seconds
        self._last, self._last_arrival = packet, time.monotonic()
        if self._writer is None and not self._open_segment(packet):
            return
        try:
            self._writer.write(packet)
            self.packets_written += 1
            self.bytes_written += len(packet.data)
            if self._writer.packets:  # a packet reached the muxer (the first is held until the next)
                self._alarmed = False
        except OSError as exc:
            self._on_write_error(exc)

    def _discontinuity(self, packet: MediaPacket) -> str | None:
        last = self._last
        if last is None:
            return None
        if packet.stream is not last.stream and packet.stream != last.stream:
            return GAP_CAMERA_OFFLINE
        if packet.dts is not None and last.dts is not None and packet.dts < last.dts:
            return GAP_CAMERA_OFFLINE  # timestamps restarted: a new stream after a reconnect
        expected = last.wallclock + packet_seconds(last)
        if packet.wallclock - expected > self.gap_threshold_s:
            return GAP_STALLED
        return None

    def _interrupt(self, reason: str) -> None:
        """Close the segment; the time until the next one opens is a gap for ``reason``."""
        self._segment_target_s = self._first_segment_s
        end = self._writer.end_utc if self._writer else None
        self._close_segment()
        if self._pending_gap is None:
            if end is None and self._last is not None:
                end = self._last.wallclock + packet_seconds(self._last)
            if end is not None:
                self._pending_gap = (end, reason)
        elif reason != GAP_DROPPED:
            self._pending_gap = (self._pending_gap[0], reason)

    def _close_if_idle(self) -> None:
        if self._journal:
            self._flush_journal()
        if self._writer and time.monotonic() - self._last_arrival > self.idle_close_s:
            end = self._writer.end_utc
            self._close_segment()
            self._pending_gap = (end, GAP_STALLED)  # becomes camera_offline if a new stream follows

    # -- segments ---------------------------------------------------------------------------------------
    def _recordable(self, codec: str) -> bool:
        """Whether ``codec`` is recorded; the first packet of another codec says so, once."""
        if codec in RECORDABLE_CODECS:
            if self.unrecordable_codec is not None:
                log.info("recorder %s: the camera now sends %s; recording it", self.camera_id, codec)
            self.unrecordable_codec = None
            return True
        if self.unrecordable_codec != codec:
            self.unrecordable_codec = codec
            log.warning(
                "recorder %s: %s; the camera stays on the wall for live view and thumbnails",
                self.camera_id,
                NOT_RECORDABLE.format(codec=codec),
            )
        return False

    def _open_segment(self, packet: MediaPacket) -> bool:
        if not self._recordable(packet.stream.codec):
            return False
        if not packet.is_keyframe or time.monotonic() < self._paused_until:
            return False  # a segment starts at a keyframe; the pending gap runs on
        if self._needs_recovery:
            recover(self.engine, self.recordings_dir, self.camera_id, node=self._node)
            self._needs_recovery = False
        start = packet.wallclock
        relative = segment_relative_path(self.camera_id, start)
        while (self.recordings_dir / relative).exists():
            start += 0.001
            relative = segment_relative_path(self.camera_id, start)
        info = packet.stream
        if self._journal:
            self._flush_journal()  # older segments' rows go first, to keep the chain in order
            if self.fenced:
                return False
        if self._journal:
            self._hold_open(relative.as_posix(), start, packet)
        else:
            try:
                if not self._index_open(relative.as_posix(), start, packet):
                    return False
            except Exception as exc:
                if not database_unreachable(exc):
                    raise
                self._database_away(exc)
                self._hold_open(relative.as_posix(), start, packet)
        self._pending_gap = None
        try:
            writer = H264SegmentWriter if info.codec == "h264" else SegmentWriter
            self._writer = writer(self.recordings_dir / relative, info, start)
        except OSError as exc:
            if self._held_open is not None:
                self._held_open = None
                self._save_journal()
            self._on_write_error(exc, self.recordings_dir / relative)
            return False
        return True

    def _hold_open(self, relative: str, start: float, packet: MediaPacket) -> None:
        """The database is away: the segment opens all the same, its row (and gap) held."""
        gap = None
        if self._pending_gap is not None and packet.wallclock - self._pending_gap[0] > MIN_GAP_S:
            gap = (self._pending_gap[0], packet.wallclock, self._pending_gap[1])
        info = packet.stream
        self._opened_after = self._pending_gap, None
        self._row_id = None
        self._held_open = HeldOpen(
            self.camera_id,
            relative,
            start,
            info.codec,
            info.width,
            info.height,
            self.fence.epoch if self.fence is not None else None,
            self._node,
            gap,
        )
        self._save_journal()

    def _index_open(self, relative: str, start: float, packet: MediaPacket) -> bool:
        """The segment's row (and the gap it ends) in the index; False when fenced off."""
        info = packet.stream
        with session_scope(self.engine) as session:
            if self.fence is not None and not self.fence.check(session):
                session.rollback()
                self._fence_off("a newer lease epoch exists")
                return False
            self._opened_after = self._pending_gap, None
            if self._pending_gap is not None:
                gap_start, reason = self._pending_gap
                if packet.wallclock - gap_start > MIN_GAP_S:
                    gap = RecordingGap(
                        camera_id=self.camera_id, start_utc=gap_start, end_utc=packet.wallclock, reason=reason
                    )
                    session.add(gap)
                    session.flush()
                    self._opened_after = self._pending_gap, gap.id
            row = RecordingSegment(
                camera_id=self.camera_id,
                path=relative,
                start_utc=start,
                codec=info.codec,
                width=info.width,
                height=info.height,
                status=SEGMENT_OPEN,
                epoch=self.fence.epoch if self.fence is not None else None,
                node=self._node,
            )
            session.add(row)
            session.flush()
            self._row_id = row.id
        self._held_open = None
        return True

    def _close_segment(self) -> None:
        writer, self._writer = self._writer, None
        if writer is None:
            return
        try:
            summary = writer.close()
        except OSError as exc:
            self._alarm(exc, writer.path)
            if self._held_open is not None:  # no row to close: what reached the disk has no index entry
                self._held_open = None
                self._save_journal()
                return
            self._finish_from_disk(writer.path)
            return
        if self._held_open is not None:
            self._journal.append(HeldSegment(self._held_open, summary.end_utc, summary.bytes, summary.sha256))
            self._held_open = None
            self.segments_closed += 1
            self._save_journal()
            self._journal_retry_at = 0.0
            self._flush_journal()
            return
        try:
            self._index_close(writer, summary)
        except Exception as exc:
            if not database_unreachable(exc) or self._row_id is None:
                raise
            self._database_away(exc)
            relative = writer.path.relative_to(self.recordings_dir).as_posix()
            self._journal.append(
                HeldClose(self._row_id, relative, summary.end_utc, summary.bytes, summary.sha256)
            )
            self._row_id = None
            self.segments_closed += 1
            self._save_journal()

    def _index_close(self, writer, summary) -> None:
        with session_scope(self.engine) as session:
            if self.fence is not None and not self.fence.check(session):
                session.rollback()
                writer.path.unlink(missing_ok=True)  # its span is the new owner's failover gap
                self._row_id = None
                self._fence_off("a newer lease epoch exists")
                return
            row = session.get(RecordingSegment, self._row_id)
            close_segment_row(
                session,
                row,
                end_utc=summary.end_utc,
                size=summary.bytes,
                sha256=summary.sha256,
                status=SEGMENT_CLOSED,
            )
        self.segments_closed += 1

    def _database_away(self, exc: BaseException) -> None:
        if not self._journal and self._held_open is None:
            log.warning(
                "recorder %s: the database does not answer (%s); recording on, index rows held",
                self.camera_id,
                first_line(exc),
            )
        self._journal_retry_at = time.monotonic() + JOURNAL_RETRY_S

    def _flush_journal(self) -> None:
        """Write the held rows in one transaction, oldest first, if the database answers now."""
        if not self._journal or time.monotonic() < self._journal_retry_at:
            return
        held = list(self._journal)
        try:
            with session_scope(self.engine) as session:
                if self.fence is not None and not self.fence.check(session):
                    session.rollback()
                    # another node owns the camera now: its failover gap covers these
                    self._drop_journal(held)
                    self._fence_off("a newer lease epoch exists (rows held during the outage dropped)")
                    return
                if recorded_after(session, self.camera_id, held):
                    session.rollback()
                    self._drop_journal(held)
                    log.error(
                        "recorder %s: %d held index row(s) dropped: the camera was recorded after them "
                        "(by another node) and they cannot enter its chain",
                        self.camera_id,
                        len(held),
                    )
                    return
                for entry in held:
                    entry.apply(session)
        except Exception as exc:
            if not database_unreachable(exc):
                raise
            self._journal_retry_at = time.monotonic() + JOURNAL_RETRY_S
            return
        del self._journal[: len(held)]
        self._save_journal()
        self.rows_held += len(held)
        log.warning(
            "recorder %s: the database is back; %d held index row(s) written", self.camera_id, len(held)
        )

    def _drop_journal(self, held: list[HeldSegment | HeldClose]) -> None:
        self._journal.clear()
        for entry in held:
            (self.recordings_dir / entry.path).unlink(missing_ok=True)
        self._save_journal()

    def _save_journal(self) -> None:
        try:
            self._journal_file.save(self._journal, self._held_open)
        except OSError as exc:  # the held rows stay in memory; only a crash now would lose them
            log.error("recorder %s: cannot write the index journal (%s)", self.camera_id, exc)

    def _replay_journal_file(self) -> None:
        """Rows an earlier process held when it stopped during an outage go in before anything new."""
        loaded = self._journal_file.load()
        if loaded.open is not None:
            recovered = segment_from_disk(self.recordings_dir, loaded.open)
            if recovered is not None:
                loaded.entries.append(recovered)
        if not loaded.entries and loaded.open is None:
            return
        log.warning(
            "recorder %s: %d index row(s) held by the last run (it stopped during a database outage)",
            self.camera_id,
            len(loaded.entries),
        )
        self._journal = loaded.entries
        self._save_journal()
        if self._journal:
            self._flush_journal()
            self._replayed = not self._journal and not self.fenced

    def _abandon_segment(self, reason: str) -> None:
        writer, self._writer = self._writer, None
        if writer is None:
            return
        writer.abandon()
        if self._held_open is not None:  # a disk error during a database outage: the span is a gap
            held, self._held_open = self._held_open, None
            log.error(
                "recorder %s: %s left without an index row (disk and database both failed)",
                self.camera_id,
                held.path,
            )
            self._pending_gap = (held.start_utc, reason)
            return
        end = self._finish_from_disk(writer.path)
        if end is not None:
            self._pending_gap = (end, reason)

    def _finish_from_disk(self, path: Path) -> float | None:
        """Close the open row from what reached the disk; returns the real end, if anything plays."""
        end = finish_segment_from_disk(self.engine, self._row_id, path, status=SEGMENT_CLOSED)
        self._row_id = None
        if end is not None:
            self.segments_closed += 1
        return end

    def _on_write_error(self, exc: OSError, path: Path | None = None) -> None:
        """Disk full or failing: alarm, keep what reached the disk, drop packets and retry later."""
        self.errors += 1
        reason = GAP_DISK_FULL if exc.errno == errno.ENOSPC else GAP_WRITE_ERROR
        writer = self._writer
        path = writer.path if writer else path
        self._alarm(exc, path)
        # A segment that never got a packet did not end the gap before it: that gap goes on.
        earlier = self._reopen_gap() if writer is None or writer.packets == 0 else None
        gap_start = writer.start_utc if writer else (self._last.wallclock if self._last else time.time())
        self._pending_gap = None
        if writer is not None:
            self._abandon_segment(reason)
        elif self._row_id is not None and path is not None:
            self._finish_from_disk(path)
        if earlier is not None:
            self._pending_gap = (earlier[0], reason)
        elif self._pending_gap is None:
            self._pending_gap = (gap_start, reason)
        self._paused_until = time.monotonic() + self.retry_after_s

    def _reopen_gap(self) -> tuple[float, str] | None:
        """Take back the gap row written when the failed segment opened; returns that gap."""
        gap, gap_id = self._opened_after
        self._opened_after = None, None
        if gap_id is not None:
            with session_scope(self.engine) as session:
                row = session.get(RecordingGap, gap_id)
                if row is not None:
                    session.delete(row)
        return gap

    def _alarm(self, exc: OSError, path: Path | None) -> None:
        """One alarm per outage: retries that fail again only log."""
        disk_full = exc.errno == errno.ENOSPC
        event = DISK_FULL_EVENT if disk_full else WRITE_ERROR_EVENT
        log.error("recorder %s: %s writing %s: %s", self.camera_id, event, path, exc)
        if self.sink is None or self._alarmed:
            return
        self._alarmed = True
        payload = {"camera_id": self.camera_id, "error": str(exc), "path": str(path) if path else None}
        try:
            payload["free_bytes"] = shutil.disk_usage(self.recordings_dir).free
        except OSError:
            pass
        try:
            self.sink.emit(event, payload)
        except Exception:
            log.exception("recorder %s: cannot emit %s", self.camera_id, event)

    def _restart_gap(self) -> tuple[float, str] | None:
        with session_scope(self.engine) as session:
            last = last_recorded_end(session, self.camera_id)
        if self._replayed and last is not None:  # this node's own video runs up to the end of the held rows
            end, status = last
            return end, GAP_RECORDER_CRASHED if status == SEGMENT_RECOVERED else GAP_RECORDER_STOPPED
        if self.fence is not None and self.fence.took_over and self.fence.failover_from is not None:
            # the old owner's last segment left the index; the gap runs from wherever it lost video
            start = last[0] if last is not None else self.fence.failover_from
            return min(start, self.fence.failover_from), GAP_NODE_FAILOVER
        if last is None:
            return None
        end, status = last
        if self.fence is not None and self.fence.took_over:
            return end, GAP_NODE_FAILOVER
        return end, GAP_RECORDER_CRASHED if status == SEGMENT_RECOVERED else GAP_RECORDER_STOPPED

    @property
    def _node(self) -> str | None:
        return self.fence.node if self.fence is not None else None

    def _lapse(self) -> None:
        """Past the lease's self-fencing deadline: close the segment (if the epoch still holds)."""
        if self._writer is None:
            return
        end = self._writer.end_utc
        self._close_segment()
        if not self.fenced and self._pending_gap is None:
            self._pending_gap = (end, GAP_LEASE_LAPSED)
        log.warning("recorder %s: lease not renewed in time; writing paused", self.camera_id)

    def _fence_off(self, why: str) -> None:
        """Stop writing for good: the open segment's file is dropped, its row left to the new owner."""
        if not self.fenced:
            log.warning("recorder %s: fenced (%s); writing nothing more", self.camera_id, why)
        self.fenced = True
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.abandon()
            writer.path.unlink(missing_ok=True)
            self._row_id = None


def staggered_length(camera_id: str, segment_seconds: float) -> float:
    """The length of a camera's first segment after a start or an interruption: between half and
    all of ``segment_seconds``, by the camera's id, so that cameras started together spread their
    segment ends over half a segment's length (and the same camera always gets the same one)."""
    fraction = int.from_bytes(hashlib.sha256(camera_id.encode()).digest()[:4], "big") / 2**32
    return segment_seconds * (0.5 + 0.5 * fraction)


def start_recording(
    fanouts: dict[str, Fanout],
    engine: Engine,
    recordings_dir: Path,
    *,
    segment_seconds: float = 60,
    sink=None,
    node: str | None = None,
) -> list[Recorder]:
    """What ``watchwall serve`` / ``ingest`` call once at start: recover after a crash, then one recorder a camera.

    Stop them with ``for r in recorders: r.stop()`` on shutdown.
    """
    recover(engine, recordings_dir, node=node)
    return [
        Recorder(
            camera_id, fanout, engine, recordings_dir, segment_seconds=segment_seconds, sink=sink
        ).start()
        for camera_id, fanout in fanouts.items()
    ]
