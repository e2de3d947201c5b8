"""Vendor variations the parsers absorb, and WS-Discovery message parsing (no camera needed)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from watchwall.cameras import parsers
from watchwall.cameras.discovery import build_probe, parse_probe_matches, scope_values
from watchwall.config.errors import UserError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.168.1.64", ("192.168.1.64", 80)),
        ("192.168.1.64:8000", ("192.168.1.64", 8000)),
        ("cam.local:8080", ("cam.local", 8080)),
        ("[fe80::1]:8899", ("fe80::1", 8899)),
        ("http://10.0.0.5:2020/onvif/device_service", ("10.0.0.5", 2020)),
    ],
)
def test_parse_address(text, expected):
    assert parsers.parse_address(text) == expected


@pytest.mark.parametrize("text", ["", "host:0x", "host:70000", "http://admin:pw@host"])
def test_parse_address_rejects(text):
    with pytest.raises(UserError):
        parsers.parse_address(text)


def test_strip_credentials():
    assert (
        parsers.strip_credentials("rtsp://admin:12345@10.0.0.5:554/Streaming/101")
        == "rtsp://10.0.0.5:554/Streaming/101"
    )
    assert parsers.strip_credentials("rtsp://10.0.0.5/live") == "rtsp://10.0.0.5/live"
    assert parsers.strip_credentials(None) is None


def test_bitrate_in_bits_per_second_is_recognised():
    assert parsers.bitrate_kbps(4096) == 4096
    assert parsers.bitrate_kbps(4_096_000_000) == 4_096_000
    assert parsers.bitrate_kbps(0) is None
    assert parsers.bitrate_kbps("junk") is None


def test_profile_without_encoder_or_ptz():
    profile = parsers.parse_profile({"token": "p3", "Name": "audio only"})
    assert profile == parsers.StreamProfile("p3", "audio only", None, None, None, None, None, False)


def test_main_profile_is_the_largest_whatever_the_camera_order():
    sub = parsers.StreamProfile("sub", "s", "H264", 640, 360, 15.0, 512, False)
    main = parsers.StreamProfile("main", "m", "H265", 2560, 1440, 25.0, 4096, True)
    assert parsers.order_main_first([sub, main]) == [main, sub]


def _clock(utc=None, local=None, tz=None) -> dict:
    def stamp(value: datetime) -> dict:
        return {
            "Date": {"Year": value.year, "Month": value.month, "Day": value.day},
            "Time": {"Hour": value.hour, "Minute": value.minute, "Second": value.second},
        }

    return {
        "UTCDateTime": stamp(utc) if utc else None,
        "LocalDateTime": stamp(local) if local else None,
        "TimeZone": {"TZ": tz} if tz else None,
    }


def test_camera_clock_from_utc():
    reply = _clock(utc=datetime(2026, 3, 1, 4, 5, 6))
    assert parsers.parse_camera_clock(reply) == datetime(2026, 3, 1, 4, 5, 6, tzinfo=UTC)


@pytest.mark.parametrize("tz", ["CST-8", "GMT+08:00", "UTC+8"])
def test_camera_clock_from_local_time_only(tz):
    reply = _clock(local=datetime(2026, 3, 1, 12, 0, 0), tz=tz)
    assert parsers.parse_camera_clock(reply) == datetime(2026, 3, 1, 4, 0, 0, tzinfo=UTC)


def test_camera_clock_unusable():
    assert (
        parsers.parse_camera_clock(_clock(local=datetime(2026, 3, 1, 12, 0, 0), tz="Asia/Shanghai")) is None
    )
    assert parsers.parse_camera_clock({}) is None


def test_ptz_status_variants():
    standard = {
        "Position": {"PanTilt": {"x": 0.25, "y": -0.5}, "Zoom": {"x": 0.1}},
        "MoveStatus": {"PanTilt": "IDLE", "Zoom": "MOVING"},
        "UtcTime": datetime(2026, 3, 1, 4, 0, 0),
    }
    status = parsers.parse_ptz_status(standard)
    assert (status.pan, status.tilt, status.zoom, status.moving) == (0.25, -0.5, 0.1, True)
    assert status.utc_time.tzinfo is UTC
    bare = parsers.parse_ptz_status({"Position": None, "MoveStatus": "idle"})
    assert (bare.pan, bare.moving, bare.utc_time) == (None, False, None)


def test_presets_and_set_preset_reply_shapes():
    presets = parsers.parse_presets([{"token": "1", "Name": None}, {"token": "", "Name": "x"}])
    assert presets == [parsers.Preset("1", "1", None, None, None)]
    assert parsers.parse_set_preset_reply(" 7 ") == "7"
    assert parsers.parse_set_preset_reply({"PresetToken": "8"}) == "8"


def test_media_uri_never_carries_credentials():
    assert parsers.parse_media_uri({"Uri": "rtsp://u:p@cam/1"}) == "rtsp://cam/1"
    assert parsers.parse_media_uri({"Uri": None}) is None


@pytest.mark.parametrize(
    ("code", "subcodes", "message", "is_auth"),
    [
        ("Sender", ["NotAuthorized"], "Sender not Authorized", True),
        ("Receiver", [], "Sender not authorized", True),
        ("Sender", ["InvalidArgVal"], "Invalid token", False),
        ("", [], "The action requested requires authorization and the sender is not authorized", True),
    ],
)
def test_auth_fault_wordings(code, subcodes, message, is_auth):
    assert parsers.is_auth_fault(code, subcodes, message) is is_auth


MATCHES = """<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope"
  xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing"
  xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery">
 <SOAP-ENV:Header><wsa:RelatesTo>{relates}</wsa:RelatesTo></SOAP-ENV:Header>
 <SOAP-ENV:Body><d:ProbeMatches>
  <d:ProbeMatch>
   <wsa:EndpointReference><wsa:Address>urn:uuid:cam-1</wsa:Address></wsa:EndpointReference>
   <d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>
   <d:Scopes>onvif://www.onvif.org/name/IPC%20Gate onvif://www.onvif.org/hardware/DS-2CD2143
     onvif://www.onvif.org/location/city/tianshui onvif://www.onvif.org/Profile/Streaming</d:Scopes>
   <d:XAddrs>http://10.0.0.5/onvif/device_service http://[fe80::5]/onvif/device_service</d:XAddrs>
  </d:ProbeMatch>
 </d:ProbeMatches></SOAP-ENV:Body>
</SOAP-ENV:Envelope>"""


def test_probe_matches_standard_form():
    [device] = parse_probe_matches(MATCHES.format(relates="urn:uuid:m1").encode(), "urn:uuid:m1", "10.0.0.5")
    assert device.endpoint == "urn:uuid:cam-1"
    assert device.name == "IPC Gate"
    assert device.hardware == ["DS-2CD2143"]
    assert device.locations == ["city/tianshui"]
    assert device.xaddrs == ["http://10.0.0.5/onvif/device_service", "http://[fe80::5]/onvif/device_service"]
    assert device.sender == "10.0.0.5"


def test_probe_matches_for_another_probe_or_junk_are_ignored():
    assert parse_probe_matches(MATCHES.format(relates="urn:uuid:other").encode(), "urn:uuid:m1") == []
    assert parse_probe_matches(b"not xml at all", "urn:uuid:m1") == []
    assert parse_probe_matches(build_probe("urn:uuid:m1"), "urn:uuid:m1") == []


def test_bare_probe_match_without_wrapper_is_accepted():
    bare = (
        MATCHES.replace("<d:ProbeMatches>", "").replace("</d:ProbeMatches>", "").format(relates="urn:uuid:m1")
    )
    assert [device.endpoint for device in parse_probe_matches(bare.encode(), "urn:uuid:m1")] == [
        "urn:uuid:cam-1"
    ]


def test_scope_values_ignore_other_categories():
    scopes = ["onvif://www.onvif.org/name/A", "onvif://www.onvif.org/name/", "http://example/name/B"]
    assert scope_values(scopes, "name") == ["A"]
