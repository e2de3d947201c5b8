"""WS-Discovery: find ONVIF cameras (NetworkVideoTransmitter) on the local network.

One UDP Probe to 239.255.255.250:3702 (TTL 1: it never crosses a router), then every
ProbeMatch that relates to it is collected until the timeout.
"""

from __future__ import annotations

import fcntl
import ipaddress
import select
import socket
import struct
import time
import uuid
import xml.etree.ElementTree as ElementTree
from dataclasses import asdict, dataclass, field
from urllib.parse import unquote

from watchwall.config.errors import UserError

MULTICAST_GROUP = ("239.255.255.250", 3702)
PROBE_ACTION = "http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe"
PROBE_MATCHES_ACTION = "http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches"
ONVIF_SCOPE_PREFIX = "onvif://www.onvif.org/"
_SIOCGIFADDR = 0x8915
_MAX_DATAGRAM = 65535


class DiscoveryError(UserError):
    pass


@dataclass(frozen=True)
class DiscoveredDevice:
    endpoint: str
    xaddrs: list[str]
    scopes: list[str]
    types: list[str]
    sender: str = ""
    names: list[str] = field(default_factory=list)
    hardware: list[str] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.names[0] if self.names else ""

    def as_dict(self) -> dict:
        return asdict(self)


def build_probe(message_id: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
        'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" '
        'xmlns:dn="http://www.onvif.org/ver10/network/wsdl">'
        "<s:Header>"
        f'<a:Action s:mustUnderstand="1">{PROBE_ACTION}</a:Action>'
        f"<a:MessageID>{message_id}</a:MessageID>"
        "<a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>"
        '<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>'
        "</s:Header>"
        "<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body>"
        "</s:Envelope>"
    ).encode()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _first_text(element, name: str) -> str:
    for item in element.iter():
        if _local(item.tag) == name and item.text:
            return item.text.strip()
    return ""


def scope_values(scopes: list[str], category: str) -> list[str]:
    """Values of ``onvif://www.onvif.org/<category>/...`` scopes, URL-decoded."""
    prefix = f"{ONVIF_SCOPE_PREFIX}{category}/"
    return [
        unquote(scope[len(prefix) :])
        for scope in scopes
        if scope.startswith(prefix) and len(scope) > len(prefix)
    ]


def parse_probe_matches(
    data: bytes, relates_to: str | None = None, sender: str = ""
) -> list[DiscoveredDevice]:
    """The devices in one ProbeMatches datagram; anything else (Hello, Probe, junk) gives ``[]``."""
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return []
    header = next((child for child in root if _local(child.tag) == "Header"), None)
    body = next((child for child in root if _local(child.tag) == "Body"), None)
    if body is None:
        return []
    if (
        relates_to is not None
        and header is not None
        and _first_text(header, "RelatesTo") not in ("", relates_to)
    ):
        return []
    devices = []
    # The standard wraps matches in <ProbeMatches>; some responders send a bare <ProbeMatch>.
    matches = [item for item in body.iter() if _local(item.tag) == "ProbeMatch"]
    for match in matches:
        scopes = _first_text(match, "Scopes").split()
        devices.append(
            DiscoveredDevice(
                endpoint=_first_text(match, "Address"),
                xaddrs=_first_text(match, "XAddrs").split(),
                scopes=scopes,
                types=_first_text(match, "Types").split(),
                sender=sender,
                names=scope_values(scopes, "name"),
                hardware=scope_values(scopes, "hardware"),
                locations=scope_values(scopes, "location"),
            )
        )
    return devices


def interface_address(interface: str) -> str:
    """An IPv4 address, or the IPv4 address of the named interface (``eth0``)."""
    try:
        return str(ipaddress.IPv4Address(interface))
    except ValueError:
        pass
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        packed = struct.pack("256s", interface.encode()[:15])
        reply = fcntl.ioctl(probe.fileno(), _SIOCGIFADDR, packed)
    except OSError as exc:
        raise DiscoveryError(f"interface {interface!r} has no IPv4 address or does not exist") from exc
    finally:
        probe.close()
    return socket.inet_ntoa(reply[20:24])


def _open_socket(interface: str | None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        if interface:
            address = interface_address(interface)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(address))
            sock.bind((address, 0))
        else:
            sock.bind(("", 0))
    except BaseException:
        sock.close()
        raise
    return sock


def _merge(found: dict[str, DiscoveredDevice], device: DiscoveredDevice) -> None:
    key = device.endpoint or " ".join(device.xaddrs)
    if key not in found:
        found[key] = device


def discover(timeout: float = 3.0, interface: str | None = None, repeats: int = 2) -> list[DiscoveredDevice]:
    """Probe for ONVIF cameras; returns each answering device once, sorted by name then address."""
    if timeout <= 0:
        raise DiscoveryError("the discovery timeout must be more than 0 s")
    message_id = f"urn:uuid:{uuid.uuid4()}"
    probe = build_probe(message_id)
    found: dict[str, DiscoveredDevice] = {}
    sock = _open_socket(interface)
    try:
        # UDP may drop a datagram: WS-Discovery repeats the same Probe (same MessageID).
        try:
            for _ in range(max(1, repeats)):
                sock.sendto(probe, MULTICAST_GROUP)
        except OSError as exc:
            hint = "" if interface else " (give --interface)"
            raise DiscoveryError(f"cannot send the WS-Discovery probe: {exc.strerror or exc}{hint}") from exc
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([sock], [], [], remaining)
            if not readable:
                break
            data, (sender, _port) = sock.recvfrom(_MAX_DATAGRAM)
            for device in parse_probe_matches(data, relates_to=message_id, sender=sender):
                _merge(found, device)
    finally:
        sock.close()
    return sorted(found.values(), key=lambda device: (device.name, device.xaddrs))
