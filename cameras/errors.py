"""What can go wrong talking to a camera, each as one line an operator can act on."""

from __future__ import annotations

import asyncio
import os

import aiohttp
import zeep.exceptions
from lxml import etree

from watchwall.cameras.parsers import is_auth_fault, is_soap_fault
from watchwall.config.errors import UserError


class OnvifError(UserError):
    """A camera could not be used; ``str()`` is the one line to show."""


class CameraUnreachable(OnvifError):
    pass


class CameraTimeout(OnvifError):
    pass


class CameraAuthError(OnvifError):
    pass


class NotOnvif(OnvifError):
    pass


class NotACamera(OnvifError):
    """Answers ONVIF, but offers no media profile: nothing to pull."""


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _qname_text(value) -> str:
    return "" if value is None else str(getattr(value, "localname", value))


def _fault_error(fault: zeep.exceptions.Fault, endpoint: str, username: str | None) -> OnvifError:
    code = _qname_text(fault.code)
    subcodes = [_qname_text(item) for item in (fault.subcodes or [])]
    message = (fault.message or "").strip()
    if is_auth_fault(code, subcodes, message):
        who = f"user {username!r}" if username else "no credentials"
        return CameraAuthError(
            f"camera {endpoint} refused the credentials ({who}): {message or 'not authorized'}"
        )
    if not is_soap_fault(code, message):
        return NotOnvif(f"{endpoint} answered, but not as an ONVIF device (no SOAP reply)")
    return OnvifError(f"camera {endpoint} answered with a fault: {message or code}")


def _os_reason(error: OSError | None) -> str:
    if error is not None and error.errno:
        return os.strerror(error.errno).lower()
    return str(error) if error is not None else "connection failed"


def translate(exc: BaseException, endpoint: str, timeout: float, username: str | None = None) -> OnvifError:
    """Map an exception from the ONVIF stack to the one-line error an operator sees."""
    for item in _chain(exc):
        if isinstance(item, OnvifError):
            return item
        if isinstance(item, TimeoutError | asyncio.TimeoutError | aiohttp.ServerTimeoutError):
            return CameraTimeout(f"camera {endpoint} did not answer within {timeout:g} s")
        if isinstance(item, zeep.exceptions.Fault):
            return _fault_error(item, endpoint, username)
        if isinstance(item, zeep.exceptions.TransportError):
            if item.status_code == 401:
                who = f"user {username!r}" if username else "no credentials"
                return CameraAuthError(f"camera {endpoint} refused the credentials ({who}): HTTP 401")
            return NotOnvif(f"{endpoint} answered, but not as an ONVIF device (HTTP {item.status_code})")
        if isinstance(
            item, zeep.exceptions.XMLSyntaxError | zeep.exceptions.XMLParseError | etree.XMLSyntaxError
        ):
            return NotOnvif(f"{endpoint} answered, but not as an ONVIF device (no SOAP XML)")
        if isinstance(item, AttributeError) and "getroottree" in str(item):
            # zeep handed a reply without an XML document (an HTML page, an empty body) to its parser
            return NotOnvif(f"{endpoint} answered, but not as an ONVIF device (no SOAP XML)")
        if isinstance(item, aiohttp.ClientConnectorError):
            return CameraUnreachable(f"cannot connect to camera {endpoint}: {_os_reason(item.os_error)}")
        if isinstance(item, aiohttp.ServerDisconnectedError):
            return NotOnvif(f"{endpoint} closed the connection without an answer")
        if isinstance(item, aiohttp.ClientResponseError):
            return NotOnvif(f"{endpoint} answered, but not as an ONVIF device (HTTP {item.status})")
        if isinstance(item, aiohttp.ClientError | ConnectionError):
            return CameraUnreachable(f"cannot talk to camera {endpoint}: {item}")
    return OnvifError(f"camera {endpoint}: {type(exc).__name__}: {exc}")
