"""CPU of the native RTSP client per camera: RTP over UDP (reorder buffer, a datagram per packet)
against RTP interleaved on TCP, side by side on the same streams.

    .venv/bin/python -m benchmarks.ingest.transport_cost --cameras 4 --seconds 40

Two child processes, one per transport, each running the RTSP loop over the same mounts of one
GStreamer server (which offers both transports); CPU is read from /proc after a warm-up. The
ratio udp / tcp is the figure; the absolute numbers move with the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from tests.support.rtsp_process import RtspServerProcess
from watchwall.video.ingest.stream_errors import StreamFailure
from watchwall.video.rtsp.loop import RtspLoop
from watchwall.video.rtsp.session import RtspSession

WARM_UP_S = 5.0


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def open_session(url: str, transport: str) -> RtspSession:
    """Open, retrying a few times: a shared media being prepared for the other child answers 503."""
    for attempt in range(10):
        session = RtspSession(url, url, 10.0, transport=transport)
        try:
            session.open()
            return session
        except StreamFailure:
            session.close()
            if attempt == 9:
                raise
            time.sleep(0.5)
    raise AssertionError("unreachable")


def child(transport: str, urls: list[str], seconds: float) -> None:
    """Pull every URL over ``transport`` for ``seconds``; print what arrived as JSON."""
    loop, counts, sessions = RtspLoop(), {}, []
    for url in urls:
        session = open_session(url, transport)
        counts[url] = 0

        def deliver(units, _now, url=url):
            counts[url] += len(units)

        loop.attach(session, deliver, lambda exc: print(f"failed: {exc}", file=sys.stderr), 10.0)
        sessions.append(session)
    print("ready", flush=True)
    time.sleep(seconds)
    print(json.dumps({"units": counts, "lost": sum(s.depacketizer.lost_packets for s in sessions)}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--child", choices=("tcp", "udp"))
    parser.add_argument("urls", nargs="*")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.urls, args.seconds)
        return
    mounts = {f"/cam{index}": "h264" for index in range(args.cameras)}
    server = RtspServerProcess(mounts, extra_args=("--width", "1280", "--height", "720")).start()
    try:
        urls = [server.url(path) for path in mounts]
        children = {}
        for transport in ("tcp", "udp"):  # one after the other: each finds the media prepared
            children[transport] = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.ingest.transport_cost", "--child", transport,
                 "--seconds", f"{args.seconds + 3 * WARM_UP_S:g}", *urls],
                stdout=subprocess.PIPE, text=True, env=os.environ,
            )  # fmt: skip
            line = children[transport].stdout.readline().strip()
            assert line == "ready", f"the {transport} child did not open its sessions: {line!r}"
        time.sleep(WARM_UP_S)
        start = {transport: cpu_ticks(process.pid) for transport, process in children.items()}
        time.sleep(args.seconds)
        used = {
            transport: cpu_ticks(process.pid) - start[transport] for transport, process in children.items()
        }
        received = {
            transport: json.loads(process.communicate(timeout=60)[0])
            for transport, process in children.items()
        }
    finally:
        server.kill()
    hz = os.sysconf("SC_CLK_TCK")
    for transport in ("tcp", "udp"):
        percent = 100 * used[transport] / hz / args.seconds / args.cameras
        units = sum(received[transport]["units"].values())
        print(f"{transport}: {percent:.2f} % of one core per camera; {units} access units, "
              f"{received[transport]['lost']} packets lost")  # fmt: skip
    print(f"udp / tcp: {used['udp'] / max(1, used['tcp']):.2f} x")


if __name__ == "__main__":
    main()
