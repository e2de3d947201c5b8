"""RTSP messages as they come off the wire: the head, its headers, the length of the body."""

from __future__ import annotations

from watchwall.video.ingest.stream_errors import PROTOCOL, StreamFailure

MAX_MESSAGE = 64 * 1024  # an RTSP answer longer than this is not an answer


class Response:
    def __init__(self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status, self.reason, self.headers, self.body = status, reason, headers, body

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key == name), None)

    def all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key == name]


def parse_head(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    lines = head.decode("utf-8", "replace").split("\r\n")
    headers = []
    for line in lines[1:]:
        key, colon, value = line.partition(":")
        if colon:
            headers.append((key.strip().lower(), value.strip()))
    return lines[0], headers


def content_length(headers: list[tuple[str, str]]) -> int:
    value = next((v for k, v in headers if k == "content-length"), "0")
    try:
        length = int(value)
    except ValueError as exc:
        raise StreamFailure(PROTOCOL, f"unreadable Content-Length {value!r}") from exc
    if not 0 <= length <= MAX_MESSAGE:
        raise StreamFailure(PROTOCOL, f"Content-Length {length} out of range")
    return length
