"""RTP and RTCP over UDP for one RTSP session (RFC 2326 12.39, RFC 3550 11).

:class:`UdpPorts` binds the pair of client ports (RTP on an even port, RTCP on the next one),
offered in the SETUP's ``client_port``, and reads what the server sends there. Datagrams from any
address other than the camera's are ignored (counted in ``foreign``).

:class:`ReorderBuffer` puts RTP packets back into sequence order before they reach the
depacketiser, which then sees a hole only where a packet was really lost: it marks that access
unit corrupt, exactly as a hole does over TCP. A packet waits at most ``wait_s`` for the ones
before it, and at most ``depth`` packets are held; after that the missing ones count as lost.
A packet arriving after its place was given up, or twice, is dropped.
"""

from __future__ import annotations

import re
import socket
import time

from watchwall.video.ingest.stream_errors import PROTOCOL, UNREACHABLE, StreamFailure

MAX_DATAGRAM = 65536
MAX_DROPOUT = 3000  # RFC 3550 A.1: a jump further ahead than this is a restarted source
MAX_MISORDER = 100  # ... and one this far behind is late, not a restart
REORDER_DEPTH = 128
REORDER_WAIT_S = 0.25
BIND_ATTEMPTS = 32
RECEIVE_BUDGET = 4096  # datagrams read per drain, so one flooding camera cannot hold the loop


class ReorderBuffer:
    def __init__(self, depth: int = REORDER_DEPTH, wait_s: float = REORDER_WAIT_S) -> None:
        self.depth = depth
        self.wait_s = wait_s
        self.expected: int | None = None
        self._held: dict[int, tuple[bytes, float]] = {}
        self.late = 0
        self.duplicates = 0
        self.reordered = 0
        self.restarts = 0

    def __len__(self) -> int:
        return len(self._held)

    def push(self, sequence: int, packet: bytes, arrival: float, ready: list[bytes]) -> None:
        """Take one packet; append to ``ready`` every packet that is now in order."""
        if self.expected is None:
            self.expected = sequence
        ahead = (sequence - self.expected) & 0xFFFF
        if ahead == 0:
            ready.append(packet)
            self.expected = (sequence + 1) & 0xFFFF
            self._release(ready)
        elif ahead < MAX_DROPOUT:
            if sequence in self._held:
                self.duplicates += 1
                return
            self._held[sequence] = (packet, arrival)
            self.reordered += 1
            if len(self._held) > self.depth:
                self._skip(ready)
        elif 0x10000 - ahead <= MAX_MISORDER:
            self.late += 1  # its place was given up already (or it is a duplicate of one delivered)
        else:  # the source restarted its numbering: what is held goes first, in order
            self.restarts += 1
            while self._held:
                self._skip(ready)
            ready.append(packet)
            self.expected = (sequence + 1) & 0xFFFF

    def expire(self, now: float, ready: list[bytes]) -> None:
        """Give up waiting for packets older than ``wait_s``: what follows them goes on."""
        while self._held and now - min(arrival for _, arrival in self._held.values()) > self.wait_s:
            self._skip(ready)

    def _skip(self, ready: list[bytes]) -> None:
        """Declare the packets before the first held one lost, and release from there."""
        expected = self.expected
        self.expected = min(self._held, key=lambda sequence: (sequence - expected) & 0xFFFF)
        self._release(ready)

    def _release(self, ready: list[bytes]) -> None:
        held = self._held
        while self.expected in held:
            ready.append(held.pop(self.expected)[0])
            self.expected = (self.expected + 1) & 0xFFFF


class UdpPorts:
    """The client's RTP/RTCP socket pair of one session."""

    def __init__(self, local_address: str, family: int) -> None:
        self.rtp, self.rtcp = self._bind(local_address, family)
        for sock in (self.rtp, self.rtcp):
            sock.setblocking(False)
        self.rtp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
        self.port = self.rtp.getsockname()[1]
        self.peer: str | None = None  # the camera's address: the only source accepted
        self.server_rtcp: tuple[str, int] | None = None
        self.server_rtp: tuple[str, int] | None = None
        self.foreign = 0

    @staticmethod
    def _bind(address: str, family: int) -> tuple[socket.socket, socket.socket]:
        opened: list[socket.socket] = []
        try:
            for _ in range(BIND_ATTEMPTS):
                rtp = socket.socket(family, socket.SOCK_DGRAM)
                opened.append(rtp)
                rtp.bind((address, 0))
                port = rtp.getsockname()[1]
                if port % 2 or port >= 65535:
                    continue
                rtcp = socket.socket(family, socket.SOCK_DGRAM)
                opened.append(rtcp)
                try:
                    rtcp.bind((address, port + 1))
                except OSError:
                    continue
                opened.remove(rtp)
                opened.remove(rtcp)
                return rtp, rtcp
        finally:
            for sock in opened:
                sock.close()
        raise StreamFailure(UNREACHABLE, f"no pair of free UDP ports on {address}")

    @property
    def transport(self) -> str:
        return f"RTP/AVP;unicast;client_port={self.port}-{self.port + 1}"

    def accept(self, answer: str | None, peer: str, display: str) -> None:
        """Read the SETUP answer's Transport header: where the server sends from."""
        answer = answer or ""
        if "/tcp" in answer.lower().split(";")[0]:
            raise StreamFailure(PROTOCOL, f"{display}: asked for RTP over UDP, the answer is {answer!r}")
        source = re.search(r"(?:^|;)\s*source\s*=\s*([^;]+)", answer)
        self.peer = source.group(1).strip().strip('"') if source else peer
        ports = re.search(r"server_port\s*=\s*(\d+)(?:-(\d+))?", answer)
        if ports:
            rtp_port = int(ports.group(1))
            rtcp_port = int(ports.group(2)) if ports.group(2) else rtp_port + 1
            self.server_rtp, self.server_rtcp = (self.peer, rtp_port), (self.peer, rtcp_port)

    def receive(self, sock: socket.socket, display: str) -> list[tuple[bytes, float]]:
        """What the server sent to ``sock`` since the last call, oldest first, with arrival times."""
        datagrams = []
        for _ in range(RECEIVE_BUDGET):
            try:
                data, address = sock.recvfrom(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                break
            except ConnectionRefusedError:
                continue  # an ICMP answer to one of our reports: the server's RTCP port is shut
            except OSError as exc:
                raise StreamFailure(UNREACHABLE, f"{display}: {exc.strerror or exc}") from exc
            if address[0] != self.peer:
                self.foreign += 1
                continue
            datagrams.append((data, time.monotonic()))
        return datagrams

    def send_control(self, data: bytes) -> None:
        """An RTCP packet to the server's RTCP port; a lost report is no failure."""
        if self.server_rtcp is None:
            return
        try:
            self.rtcp.sendto(data, self.server_rtcp)
        except OSError:
            pass

    def close(self) -> None:
        self.rtp.close()
        self.rtcp.close()
