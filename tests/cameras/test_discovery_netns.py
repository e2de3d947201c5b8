"""WS-Discovery end to end, inside two network namespaces the test creates (multicast never leaves them).

The responder is ipycam's own discovery service (Hello/Bye suppressed) in one namespace;
``watchwall discover`` runs in the other, joined by a veth pair.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.ipycam_process import start_ipycam

ROOT = Path(__file__).resolve().parents[2]
CAMERA_NAME = "秦州区报到登记室"


@dataclass(frozen=True)
class Namespaces:
    camera_ns: str
    scan_ns: str
    camera_ip: str
    scan_ip: str
    scan_interface: str


def _ip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)


def _must(*args: str) -> None:
    result = _ip(*args)
    if result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")


@pytest.fixture
def namespaces() -> Iterator[Namespaces]:
    suffix = secrets.token_hex(3)
    camera_ns, scan_ns = f"ww-cam-{suffix}", f"ww-scan-{suffix}"
    camera_if, scan_if = f"wwc-{suffix}", f"wws-{suffix}"
    subnet = f"10.253.{secrets.randbelow(250) + 1}"
    probe = _ip("netns", "add", camera_ns)
    if probe.returncode != 0:
        pytest.skip(
            f"cannot create a network namespace here (needs root/CAP_SYS_ADMIN): {probe.stderr.strip()}"
        )
    try:
        _must("netns", "add", scan_ns)
        _must(
            "link",
            "add",
            camera_if,
            "netns",
            camera_ns,
            "type",
            "veth",
            "peer",
            "name",
            scan_if,
            "netns",
            scan_ns,
        )
        for ns, interface, address in (
            (camera_ns, camera_if, f"{subnet}.1"),
            (scan_ns, scan_if, f"{subnet}.2"),
        ):
            _must("-n", ns, "link", "set", "lo", "up")
            _must("-n", ns, "addr", "add", f"{address}/24", "dev", interface)
            _must("-n", ns, "link", "set", interface, "up")
            _must("-n", ns, "route", "add", "224.0.0.0/4", "dev", interface)
        yield Namespaces(camera_ns, scan_ns, f"{subnet}.1", f"{subnet}.2", scan_if)
    finally:
        for ns in (scan_ns, camera_ns):
            _ip("netns", "del", ns)


@pytest.fixture
def responder(namespaces, tmp_path) -> Iterator[str]:
    camera = start_ipycam(
        tmp_path,
        host=namespaces.camera_ip,
        rtsp=False,
        mode="discovery",
        name=CAMERA_NAME,
        command_prefix=["ip", "netns", "exec", namespaces.camera_ns],
    )
    yield camera.ready["xaddr"]
    camera.stop()


def discover_in(namespaces: Namespaces, *args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("WATCHWALL_")}
    command = [
        "ip",
        "netns",
        "exec",
        namespaces.scan_ns,
        sys.executable,
        "-m",
        "watchwall.roles.cli",
        "discover",
        *args,
    ]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_discover_finds_the_camera(namespaces, responder):
    result = discover_in(namespaces, "--timeout", "2", "--json")
    assert result.returncode == 0, result.stderr
    [device] = json.loads(result.stdout)
    assert device["xaddrs"] == [responder]
    assert device["xaddrs"] == [f"http://{namespaces.camera_ip}:8080/onvif/device_service"]
    assert device["names"] == [CAMERA_NAME]
    assert device["sender"] == namespaces.camera_ip
    assert "dn:NetworkVideoTransmitter" in device["types"]
    assert device["endpoint"].startswith("urn:uuid:")


def test_discover_on_a_named_interface_prints_a_table(namespaces, responder):
    result = discover_in(namespaces, "--timeout", "2", "--interface", namespaces.scan_interface)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(CAMERA_NAME) and lines[0].endswith(responder)


def test_discover_with_no_camera_says_so(namespaces):
    result = discover_in(namespaces, "--timeout", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "no ONVIF camera answered within 1 s"


def test_unknown_interface_is_one_line(namespaces):
    result = discover_in(namespaces, "--timeout", "1", "--interface", "nosuch0")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "watchwall discover: interface 'nosuch0' has no IPv4 address or does not exist"
    ]
