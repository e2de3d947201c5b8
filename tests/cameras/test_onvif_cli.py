"""``watchwall onvif`` / ``discover`` as an operator runs them: real processes, real servers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cameras.onvif_test_params import CAMERA_PASSWORD, CAMERA_USER, CLOCK_OFFSET_S, PASSWORD_ENV

ROOT = Path(__file__).resolve().parents[2]
# Each camera request has its own deadline; the whole command must end well within this.
COMMAND_BOUND_S = 60


def watchwall(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "watchwall.roles.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_BOUND_S,
    )


def assert_one_line_failure(result: subprocess.CompletedProcess, *fragments: str) -> str:
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("watchwall onvif: ")
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def test_onvif_prints_device_profiles_and_drift(open_camera, cli_env):
    result = watchwall("onvif", open_camera.address, env=cli_env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "PythonCam VirtualCam-1" in out
    assert f"rtsp://127.0.0.1:{open_camera.rtsp_port}/video_main" in out
    assert f"rtsp://127.0.0.1:{open_camera.rtsp_port}/video_sub" in out
    assert "320x240" in out and "160x120" in out and "1000 kbit/s" in out and "300 kbit/s" in out
    assert f"http://127.0.0.1:{open_camera.onvif_port}/snapshot.jpg" in out
    assert "ptz       yes" in out
    assert "camera ahead of this machine" in out


def test_onvif_json_with_credentials_never_shows_the_password(auth_camera, cli_env):
    env = {**cli_env, PASSWORD_ENV: CAMERA_PASSWORD}
    result = watchwall(
        "onvif", auth_camera.address, "--user", CAMERA_USER, "--password-env", PASSWORD_ENV, "--json", env=env
    )
    assert result.returncode == 0, result.stderr
    described = json.loads(result.stdout)
    assert described["device"]["model"] == "VirtualCam-1"
    assert [profile["token"] for profile in described["profiles"]] == ["Profile_Main", "Profile_Sub"]
    assert described["ptz_capable"] is True
    assert abs(described["clock_drift_s"]) <= 1.6
    assert CAMERA_PASSWORD not in result.stdout + result.stderr


def test_onvif_drift_in_json(open_camera, cli_env):
    described = json.loads(watchwall("onvif", open_camera.address, "--json", env=cli_env).stdout)
    assert CLOCK_OFFSET_S - 1.6 <= described["clock_drift_s"] <= CLOCK_OFFSET_S + 0.6


def test_wrong_credentials(auth_camera, cli_env):
    env = {**cli_env, PASSWORD_ENV: "not-the-password"}
    result = watchwall(
        "onvif", auth_camera.address, "--user", CAMERA_USER, "--password-env", PASSWORD_ENV, env=env
    )
    assert_one_line_failure(result, "refused the credentials", "'admin'")
    assert "not-the-password" not in result.stderr


def test_no_credentials_for_a_protected_camera(auth_camera, cli_env):
    assert_one_line_failure(watchwall("onvif", auth_camera.address, env=cli_env), "refused the credentials")


def test_unset_password_env(auth_camera, cli_env):
    result = watchwall(
        "onvif", auth_camera.address, "--user", CAMERA_USER, "--password-env", "WW_UNSET_VAR", env=cli_env
    )
    assert_one_line_failure(result, "WW_UNSET_VAR", "not set")


def test_http_server_that_is_not_onvif(plain_http_server, cli_env):
    assert_one_line_failure(watchwall("onvif", plain_http_server, env=cli_env), "not as an ONVIF device")


def test_closed_port(closed_port, cli_env):
    assert_one_line_failure(
        watchwall("onvif", closed_port, env=cli_env), "cannot connect", "connection refused"
    )


def test_server_that_never_answers(silent_tcp_server, cli_env):
    result = watchwall("onvif", silent_tcp_server, "--timeout", "2", env=cli_env)
    assert_one_line_failure(result, "did not answer within 2 s")


@pytest.mark.parametrize(
    ("address", "fragment"),
    [("127.0.0.1:99999", "invalid port"), ("http://user:pw@127.0.0.1:80", "must not contain a password")],
)
def test_bad_addresses(address, fragment, cli_env):
    assert_one_line_failure(watchwall("onvif", address, env=cli_env), fragment)


def test_debug_logging_never_shows_the_password(auth_camera, cli_env):
    env = {**cli_env, PASSWORD_ENV: CAMERA_PASSWORD}
    result = watchwall(
        "-vv", "onvif", auth_camera.address, "--user", CAMERA_USER, "--password-env", PASSWORD_ENV, env=env
    )
    assert result.returncode == 0, result.stderr
    assert " DEBUG " in result.stderr  # the ONVIF stack did log its requests
    assert CAMERA_PASSWORD not in result.stdout + result.stderr
