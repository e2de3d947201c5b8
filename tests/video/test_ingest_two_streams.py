"""``watchwall ingest --json`` with two streams per camera, against a real GStreamer camera server:
today's keys from the main stream, and ``streams`` with each stream's state, codec, size, rate, packets.
A sub stream whose picture turns out larger than the main one's is refused, naming sub_rtsp."""

from __future__ import annotations

import json

import pytest

from tests.support.rtsp_process import RtspServerProcess
from watchwall.config.settings import reset_settings_cache
from watchwall.roles.cli import main

pytestmark = pytest.mark.rtsp


@pytest.fixture(scope="module")
def camera_server():
    server = RtspServerProcess({"/main": "h265@640x360", "/sub": "h264@320x180"}).start()
    yield server
    server.kill()


def test_ingest_json_reports_both_streams_and_refuses_a_larger_sub_stream(
    camera_server, tmp_path, monkeypatch, capsys
):
    site = tmp_path / "site.yaml"
    site.write_text(
        f"""
centres:
  - code: qinan
    name: 秦安县
    level: county
    rooms:
      - code: archives
        name: 档案室
        cameras:
          - id: door
            name: door
            rtsp: {camera_server.url("/main")}
            sub_rtsp: {camera_server.url("/sub")}
          - id: swapped
            name: swapped
            rtsp: {camera_server.url("/sub")}
            sub_rtsp: {camera_server.url("/main")}
          - id: single
            name: single
            rtsp: {camera_server.url("/sub")}
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("WATCHWALL_DATA_DIR", str(tmp_path / "data"))
    reset_settings_cache()
    try:
        code = main(
            ["ingest", "--site", str(site), "--seconds", "6", "--json", "--no-record", "--no-thumbnails"]
        )
    finally:
        reset_settings_cache()
    captured = capsys.readouterr()
    assert code == 0, captured.err
    report = json.loads(captured.out)
    door = report["door"]
    assert door["state"] == "online" and door["packets"] > 20  # today's keys: the main stream's
    main_stream, sub = door["streams"]["main"], door["streams"]["sub"]
    assert (main_stream["state"], main_stream["codec"], main_stream["width"], main_stream["height"]) == (
        "online",
        "hevc",
        640,
        360,
    )
    assert main_stream["packets"] == door["packets"] and main_stream["fps"] == pytest.approx(15, abs=3)
    assert (sub["state"], sub["codec"], sub["width"], sub["height"]) == ("online", "h264", 320, 180)
    assert sub["packets"] > 20 and sub["fps"] == pytest.approx(15, abs=3)

    swapped = report["swapped"]
    assert swapped["state"] == "online"  # its main stream is pulled and recorded as ever
    refused = swapped["streams"]["sub"]
    assert (refused["state"], refused["error_kind"]) == ("error", "refused")
    assert refused["detail"].startswith("sub_rtsp: ") and "640x360 is larger than" in refused["detail"]

    assert set(report["single"]["streams"]) == {"main"}


def test_site_check_probe_refuses_a_larger_sub_stream_naming_the_field(camera_server, tmp_path, capsys):
    site = tmp_path / "site.yaml"
    text = f"""centres:
  - code: qinan
    name: 秦安县
    level: county
    rooms:
      - code: archives
        name: 档案室
        cameras:
          - id: door
            name: door
            rtsp: {camera_server.url("/main")}
            sub_rtsp: {camera_server.url("/sub")}
"""
    site.write_text(text, encoding="utf-8")
    assert main(["site", "check", str(site), "--probe"]) == 0, capsys.readouterr().err
    assert "valid" in capsys.readouterr().out

    swapped = text.replace("/main", "/TMP").replace("/sub", "/main").replace("/TMP", "/sub")
    site.write_text(swapped, encoding="utf-8")
    assert main(["site", "check", str(site)]) == 0  # without --probe nothing opens the streams
    capsys.readouterr()
    assert main(["site", "check", str(site), "--probe"]) == 2
    err = capsys.readouterr().err
    assert (
        f"{site}:12: centres[0].rooms[0].cameras[0].sub_rtsp: sub_rtsp: the sub stream's picture 640x360"
        in err
    )
