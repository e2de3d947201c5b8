"""``watchwall probe`` and ``watchwall ingest`` as an operator runs them."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from tests.support.rtsp_process import RTSP_PASSWORD, RTSP_USER
from tests.video.test_ingest_files import write_h264_file
from watchwall.config.settings import reset_settings_cache
from watchwall.roles.cli import main

pytestmark = pytest.mark.rtsp


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_probe_measures_a_good_stream(rtsp_server, capsys):
    code, out, err = run(capsys, "probe", rtsp_server.url("/cam0"), "--seconds", "2.5", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert (result["codec"], result["width"], result["height"]) == ("h264", 320, 240)
    assert result["profile"] == "Constrained Baseline" and result["browser_playable"] is True
    assert result["fps"] == pytest.approx(15, abs=2)
    assert result["keyframe_interval_s"] == pytest.approx(1.0, abs=0.15)
    assert result["keyframe_interval_frames"] == 15
    assert 0 < result["time_to_first_keyframe_s"] < 5 and result["bitrate_bps"] > 10_000


def test_probe_prints_a_readable_summary_of_a_file(tmp_path, capsys):
    clip = tmp_path / "clip.mp4"
    write_h264_file(clip, seconds=3)
    code, out, err = run(capsys, "probe", str(clip), "--seconds", "2")
    assert code == 0, err
    assert "codec:             h264" in out and "size:              160x96" in out
    assert "keyframe interval: 1 s (10 frames)" in out and "browser playable:  yes" in out


def test_probe_of_h265_says_the_browser_cannot_play_it(rtsp_server, capsys):
    code, out, _ = run(capsys, "probe", rtsp_server.url("/hevc"), "--seconds", "2")
    assert code == 0 and "hevc" in out and "browser playable:  no" in out


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("{rtsp}/no-such-path", "not_found:"),
        ("{auth}/cam0", "auth:"),
        ("rtsp://127.0.0.1:{closed}/cam0", "unreachable:"),
        ("rtsp://127.0.0.1:{garbage}/cam0", "protocol:"),
        ("http://{user}:{password}@127.0.0.1:{closed}/cam0", "is not an RTSP URL"),
    ],
    ids=["404", "401", "closed-port", "garbage", "http"],
)
def test_probe_of_a_bad_url_says_what_is_wrong_in_one_line(
    rtsp_server, auth_server, garbage_server, refused_port, capsys, url, words
):
    url = url.format(
        rtsp=rtsp_server.url("").replace("rtsp://", f"rtsp://{RTSP_USER}:{quote(RTSP_PASSWORD, safe='')}@"),
        auth=auth_server.url(""),
        closed=refused_port,
        garbage=garbage_server.port,
        user=RTSP_USER,
        password=RTSP_PASSWORD,
    )
    code, out, err = run(capsys, "probe", url, "--seconds", "1")
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("watchwall probe: ") and words in err
    assert RTSP_PASSWORD not in err and quote(RTSP_PASSWORD, safe="") not in err


def test_ingest_reports_each_camera_of_a_site(rtsp_server, tmp_path, monkeypatch, capsys):
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
          - id: live
            name: live
            rtsp: {rtsp_server.url("/cam1")}
          - id: gone
            name: gone
            rtsp: {rtsp_server.url("/no-such-path")}
          - id: disabled
            name: disabled
            rtsp: {rtsp_server.url("/cam0")}
            enabled: false
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("WATCHWALL_DATA_DIR", str(tmp_path / "data"))
    reset_settings_cache()
    try:
        code, out, err = run(capsys, "ingest", "--site", str(site), "--seconds", "3", "--json", "--no-record")
    finally:
        reset_settings_cache()
    assert code == 0, err
    report = json.loads(out)
    assert set(report) == {"live", "gone"}
    live, gone = report["live"], report["gone"]
    assert live["state"] == "online" and live["packets"] > 10 and live["keyframes"] >= 1 and live["bytes"] > 0
    assert live["gaps"] == [] and live["alarms"] == [] and live["reconnects"] == 0
    assert (gone["state"], gone["error_kind"], gone["packets"]) == ("error", "not_found", 0)
    assert gone["errors"] >= 1 and gone["gaps"][0]["end"] is None


def test_ingest_text_report(rtsp_server, tmp_path, monkeypatch, capsys):
    site = tmp_path / "site.yaml"
    site.write_text(
        "centres:\n  - code: gangu\n    name: 甘谷县\n    level: county\n    rooms:\n      - code: checkin\n"
        f"        name: 报到登记室\n        cameras:\n          - {{id: door, name: door, rtsp: '{rtsp_server.url('/cam0')}'}}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("WATCHWALL_DATA_DIR", str(tmp_path / "data"))
    reset_settings_cache()
    try:
        code, out, err = run(capsys, "ingest", "--site", str(site), "--seconds", "2", "--no-thumbnails")
    finally:
        reset_settings_cache()
    assert code == 0, err
    assert out.startswith("door: online; packets ")
    assert "reconnects 0, errors 0" in out
