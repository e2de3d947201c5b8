"""Reverse proxies named by the ``trusted_proxies`` setting, and only those, set the client's address.

Behind TLS termination on the same host every request comes from the proxy; the login throttle,
the audit log and ``/metrics`` must see the real client. Werkzeug's ProxyFix believes
``X-Forwarded-For/-Proto/-Host/-Port`` (one hop), but only for a request whose peer is one of the
trusted proxies: the same headers from anyone else are ignored, so a client cannot claim to
be loopback or someone else.
"""

from __future__ import annotations

import ipaddress
import logging

from werkzeug.middleware.proxy_fix import ProxyFix

from watchwall.config.errors import UserError

log = logging.getLogger(__name__)


def parse_networks(entries, setting: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(str(entry).strip(), strict=False))
        except ValueError:
            raise UserError(
                f"{setting}: {entry!r} is not an address or network (e.g. 127.0.0.1 or 10.8.0.0/24)"
            ) from None
    return networks


def address_in(remote_addr: str | None, networks) -> bool:
    try:
        address = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return any(address in network or (mapped is not None and mapped in network) for network in networks)


class TrustedProxyFix:
    """ProxyFix for requests from a trusted proxy; every other request passes untouched."""

    def __init__(self, app, trusted) -> None:
        self.app = app
        self.networks = parse_networks(trusted, "trusted_proxies")
        self.fixed = ProxyFix(app, x_for=1, x_proto=1, x_host=1, x_port=1)

    def __call__(self, environ, start_response):
        if self.networks and address_in(environ.get("REMOTE_ADDR"), self.networks):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)
