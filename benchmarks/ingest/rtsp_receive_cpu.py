"""CPU of the native RTSP client's receive path per RTP packet, on real packets, replayed.

    .venv/bin/python benchmarks/ingest/rtsp_receive_cpu.py --capture 20
    .venv/bin/python benchmarks/ingest/rtsp_receive_cpu.py --replay benchmarks/out/rtsp_capture.bin --rounds 3
    .venv/bin/python benchmarks/ingest/rtsp_receive_cpu.py --replay benchmarks/out/rtsp_capture.bin --profile
    .venv/bin/python benchmarks/ingest/rtsp_receive_cpu.py --replay benchmarks/out/rtsp_capture.bin --deliver

``--capture`` records the bytes a WatchWall RTSP session receives over TCP after PLAY (interleaved
RTP and RTCP) from the GStreamer test server looping the ingest benchmarks' 720p25 clip.
``--replay`` feeds those bytes, a 0.1 s tick's worth at a time, through a real socket pair into a
real ``RtspSession.pump`` (recv, framing, RTCP statistics, depacketising), and reports the thread's
CPU per RTP packet and per access unit. ``--deliver`` also hands the units, in the same timed call,
to the reader's side as the RTSP loop does (``_NativeStream.deliver``: the MediaPacket, the fan-out's
publish to a recorder's subscription and a keyframes-only one, the health counts). Running it with
two versions of the code (two venvs: each imports its own installed WatchWall) on the same capture
gives a before / after that does not depend on the network or the server.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import pstats
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # noqa: E402

from watchwall.video.rtsp.depacketize import Depacketizer  # noqa: E402
from watchwall.video.rtsp.rtcp import ReceptionStats  # noqa: E402
from watchwall.video.rtsp.session import RtspSession  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
TICKS_PER_SECOND = 10


def capture(seconds: float, path: Path) -> None:
    from benchmarks.ingest.clip import ensure_clip
    from tests.support.rtsp_process import RtspServerProcess

    clip = ensure_clip(OUT)
    server = RtspServerProcess({"/cam": f"file:{clip}"}).start(timeout=120)
    try:
        session = RtspSession(server.url("/cam"), "cam", 10.0, transport="tcp")
        media = session.open()
        data = bytearray(session._buffer)
        deadline = time.monotonic() + seconds
        session._sock.setblocking(True)
        session._sock.settimeout(1.0)
        while time.monotonic() < deadline:
            data += session._sock.recv(65536)
        session.close()
    finally:
        server.kill()
    path.write_bytes(bytes(data))
    meta = {"codec": media.codec, "payload_type": media.payload_type, "clock_rate": media.clock_rate,
            "seconds": seconds, "bytes": len(data)}  # fmt: skip
    path.with_suffix(".json").write_text(json.dumps(meta))
    print(json.dumps(meta))


def count_packets(data: bytes) -> int:
    position = packets = 0
    while position + 4 <= len(data) and data[position] == 0x24:
        packets += data[position + 1] == 0
        position += 4 + ((data[position + 2] << 8) | data[position + 3])
    return packets


def reader_side(meta: dict):
    """What the RTSP loop hands a drain's units to in a node: a reader's stream, online, whose
    fan-out has a recorder's subscription and a keyframe worker's; and a call that empties both."""
    from watchwall.video.ingest.fanout import Fanout
    from watchwall.video.ingest.health import ONLINE, CameraHealth
    from watchwall.video.ingest.reader import CameraReader, _NativeStream

    fanout = Fanout("cam")
    reader = CameraReader("cam", lambda: None, fanout, CameraHealth("cam"))
    reader._set_state(ONLINE)
    recorder = fanout.subscribe("recorder:cam", maxsize=2048)
    keyframes = fanout.subscribe("keyframes:cam", maxsize=1, keyframes_only=True, on_packet=lambda: None)
    stream = _NativeStream(reader, meta["codec"], meta["clock_rate"], None, time.monotonic())
    taken: list = []

    def consume() -> str:
        """Empties both queues; what went out so far, for the digest."""
        taken.extend(
            (packet.sequence, packet.dts, packet.duration, packet.is_keyframe, packet.size)
            for packet in recorder.take(0)
        )
        taken.extend(("k", packet.sequence) for packet in keyframes.take(0))
        health = reader.health
        return repr(
            (taken[-3:], len(taken), health.packets, health.bytes, health.keyframes, health.corrupt_packets)
        )

    return stream.deliver, consume


def replay_once(
    data: bytes, meta: dict, profile: cProfile.Profile | None, deliver: bool = False
) -> tuple[float, int, int, str]:
    """Thread CPU seconds spent in ``pump``, access units, packets lost, and a digest of the units
    and the reception statistics (the same for two versions that behave the same)."""
    session = RtspSession("rtsp://127.0.0.1:1/cam", "cam", 1.0, transport="tcp")
    session.depacketizer = Depacketizer(meta["codec"], meta["payload_type"])
    session.stats = ReceptionStats(meta["clock_rate"])
    session.transport, session.channel = "tcp", 0
    writer, reader = socket.socketpair()
    writer.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    reader.setblocking(False)
    session._sock = reader
    tick = max(1, int(len(data) / meta["seconds"] / TICKS_PER_SECOND))
    now = time.monotonic()
    session.last_data = session._last_keepalive = now
    session._next_report = now + 1e9  # no report: there is no server to read it
    session.keepalive_s = 1e9
    units = 0
    spent = 0.0
    digest = hashlib.sha256()
    hand_over, consume = reader_side(meta) if deliver else (None, None)
    for offset in range(0, len(data), tick):
        writer.sendall(data[offset : offset + tick])
        now += 1.0 / TICKS_PER_SECOND
        out: list = []
        if profile is not None:
            profile.enable()
        started = time.thread_time()
        session.pump(now, out)
        if hand_over is not None and out:
            hand_over(out, now)
        spent += time.thread_time() - started
        if profile is not None:
            profile.disable()
        units += len(out)
        if consume is not None:
            digest.update(consume().encode())
        for unit in out:
            digest.update(repr((unit.timestamp, unit.keyframe, unit.corrupt, len(unit.data))).encode())
            digest.update(unit.data)
    writer.close()
    reader.close()
    stats = session.stats
    digest.update(repr((stats.received, stats.extended_max, stats.cycles, stats.jitter, stats.cumulative_lost,
                        stats.sender_reports, stats.last_sr, session.depacketizer.bad_packets)).encode())  # fmt: skip
    return spent, units, session.depacketizer.lost_packets, digest.hexdigest()[:16]


def replay(path: Path, rounds: int, profile: bool, deliver: bool = False) -> None:
    data = path.read_bytes()
    meta = json.loads(path.with_suffix(".json").read_text())
    packets = count_packets(data)
    profiler = cProfile.Profile() if profile else None
    results = []
    for _ in range(rounds):
        spent, units, lost, digest = replay_once(data, meta, profiler, deliver)
        results.append({"us_per_packet": round(1e6 * spent / packets, 3),
                        "us_per_unit": round(1e6 * spent / max(1, units), 2), "units": units,
                        "packets": packets, "lost": lost, "digest": digest})  # fmt: skip
        print(json.dumps(results[-1]), flush=True)
    best = min(result["us_per_packet"] for result in results)
    print(f"median {sorted(r['us_per_packet'] for r in results)[len(results) // 2]} us a packet, best {best}")
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capture", type=float, help="seconds of the live stream to record")
    parser.add_argument("--replay", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--deliver", action="store_true", help="and the reader's side of each drain")
    parser.add_argument("--out", type=Path, default=OUT / "rtsp_capture.bin")
    args = parser.parse_args()
    if args.capture:
        OUT.mkdir(parents=True, exist_ok=True)
        capture(args.capture, args.out)
    if args.replay:
        replay(args.replay, args.rounds, args.profile, args.deliver)


if __name__ == "__main__":
    main()
