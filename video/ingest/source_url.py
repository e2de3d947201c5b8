"""Turn a site camera, or a URL typed by an operator, into something the reader can open."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from watchwall.cameras.credentials import ResolvedCredentials, resolve, with_credentials
from watchwall.config.errors import UserError
from watchwall.config.redaction import REDACTED, redact_url
from watchwall.config.site import Camera
from watchwall.video.ingest.demo_live import LiveDemo
from watchwall.video.ingest.demo_source import ensure_demo_clip
from watchwall.video.ingest.stream_source import StreamSource

NETWORK_SCHEMES = ("rtsp", "rtsps")

# FFmpeg spends ~2 s probing an RTSP stream by default; 0.2 s of analysis brings opening to ~0.35 s
# (measured: open time is about analyzeduration + 0.1 s), which decides how fast a camera is back
# after an outage. The SDP's parameter sets give the size; a camera whose SDP lacks them is
# opened again with THOROUGH_PROBE (see video.ingest.reader.open_stream).
FAST_OPEN_OPTIONS = {
    "rtsp_transport": "tcp",
    "analyzeduration": "200000",
    "probesize": "100000",
    "fflags": "nobuffer",
}
THOROUGH_PROBE = {"analyzeduration": "2000000", "probesize": "2000000"}


class SourceError(UserError, ValueError):
    """A camera or URL that cannot be turned into a stream source."""


def split_userinfo(url: str) -> tuple[str | None, str]:
    """(user info, the URL without it); None when there is none.

    A password typed raw with ``#``, ``?``, ``/`` or ``@`` in it does not parse as a URL (``#``
    starts a fragment), so the user info is taken as what lies between ``://`` and the last ``@``.
    """
    scheme, separator, rest = url.partition("://")
    if not separator or "@" not in rest:
        return None, url
    userinfo, _, host_and_path = rest.rpartition("@")
    return userinfo, f"{scheme}://{host_and_path}"


# A user info that is already percent-encoded (RFC 3986 3.2.1): only these characters and %XX.
_ENCODED_USERINFO = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:]|%[0-9A-Fa-f]{2})*")


def split_credentials(url: str) -> tuple[str | None, str | None, str]:
    """(user, password, URL without them). A user info written as RFC 3986 says (``#`` as
    ``%23``) is percent-decoded; one that cannot be an encoded user info (a raw ``@ / ? #``, or a
    ``%`` not followed by two hex digits) is taken as typed, as the site file takes a password."""
    userinfo, bare = split_userinfo(url)
    if userinfo is None:
        return None, None, url
    user, colon, password = userinfo.partition(":")
    if _ENCODED_USERINFO.fullmatch(userinfo):
        user, password = unquote(user), unquote(password)
    return user, password if colon else None, bare


def encoded_url(url: str) -> str:
    """``url`` with its credentials percent-encoded, whichever way they were typed: what FFmpeg
    and :mod:`urllib.parse` can read."""
    user, password, bare = split_credentials(url)
    if user is None:
        return url
    return with_credentials(bare, ResolvedCredentials(user, password or ""))


def display_url(url: str) -> str:
    """The URL safe to print, also when a password was typed raw (see :func:`split_userinfo`)."""
    userinfo, bare = split_userinfo(url)
    if userinfo is None:
        return redact_url(url)
    user, colon, _ = userinfo.partition(":")
    scheme, _, host_and_path = bare.partition("://")
    return f"{scheme}://{user}:{REDACTED}@{host_and_path}" if colon else f"{scheme}://{user}@{host_and_path}"


def rtsp_source(url: str, socket_timeout_s: float = 10.0, transport: str = "auto") -> StreamSource:
    options = dict(FAST_OPEN_OPTIONS)
    # FFmpeg's socket I/O timeout, in microseconds: only a backstop. It must be longer than the
    # reader's open timeout: when it fires first, a server that never answers is reported as
    # "invalid data" (no status line) instead of a timeout.
    options["timeout"] = str(int(socket_timeout_s * 1_000_000))
    return StreamSource(url=url, display=display_url(url), options=options, transport=transport)


def file_source(path: Path, loop: bool = True) -> StreamSource:
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"video file {path} does not exist")
    return StreamSource(url=str(path), display=f"file:{path}", realtime=True, loop=loop)


def source_for_url(text: str, transport: str = "auto") -> StreamSource:
    """An operator's URL or file path (``watchwall probe``); only RTSP and files are accepted."""
    _, _, bare = split_credentials(text)
    parts = urlsplit(bare)
    if parts.scheme in NETWORK_SCHEMES:
        try:
            host, _port = parts.hostname, parts.port
        except ValueError as exc:
            raise SourceError(f"{display_url(text)}: {exc}") from exc
        if not host:
            raise SourceError(f"{display_url(text)} has no host")
        return rtsp_source(encoded_url(text), transport=transport)
    if parts.scheme in ("", "file") or len(parts.scheme) == 1:  # a path, possibly "C:\..."
        return file_source(Path(parts.path if parts.scheme == "file" else text), loop=False)
    raise SourceError(
        f"{display_url(text)} is not an RTSP URL (scheme {parts.scheme!r}); give rtsp://… or a file"
    )


def source_for_camera(
    camera: Camera, label: str, demo_cache_dir: Path, secrets_file: Path | None = None
) -> StreamSource:
    """The stream of a site camera: its RTSP URL with credentials, its file, or its demo clip."""
    if camera.rtsp:
        credentials = resolve(camera.credentials, secrets_file)
        url = camera.sub_rtsp if camera.profile == "sub" and camera.sub_rtsp else camera.rtsp
        return rtsp_source(with_credentials(url, credentials), transport=camera.transport)
    if camera.file is not None:
        return file_source(camera.file, loop=True)
    if camera.demo is not None and camera.demo.clock:
        return LiveDemo(camera.id, camera.demo, label).open()
    if camera.demo is not None:
        clip = ensure_demo_clip(camera.id, camera.demo, label, demo_cache_dir)
        return StreamSource(url=str(clip), display=camera.redacted_source(), realtime=True, loop=True)
    raise SourceError(
        f"camera {camera.id}: an ONVIF camera is ingested through its profile's RTSP URL; "
        "put that URL under rtsp: in the site file"
    )


def sub_stream_source(camera: Camera, secrets_file: Path | None = None) -> StreamSource:
    """The camera's sub stream (``sub_rtsp``), with the camera's credentials."""
    if not camera.sub_rtsp:
        raise SourceError(f"camera {camera.id} has no sub stream (sub_rtsp)")
    return rtsp_source(with_credentials(camera.sub_rtsp, resolve(camera.credentials, secrets_file)))
