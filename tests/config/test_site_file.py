"""The site file: the minimal example loads as written; bad files name file, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from watchwall.config.site import STANDARD_ROOMS, SiteError, load_site
from watchwall.roles.cli import main

MINIMAL = textwrap.dedent(
    """\
    centres:
      - code: qinzhou
        name: {zh: 秦州区社区矫正中心, en: Qinzhou District Centre}
        level: county
        rooms:
          - code: checkin
            name: {zh: 报到登记室, en: Check-in room}
            cameras:
              - id: qinzhou-checkin-1
                name: {zh: 报到登记室 1, en: Check-in 1}
                rtsp: rtsp://127.0.0.1:8554/cam0
    """
)


def write(tmp_path: Path, text: str, name: str = "site.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_site_loads_exactly_as_written(tmp_path):
    site = load_site(write(tmp_path, MINIMAL))
    (centre,) = site.centres
    assert centre.code == "qinzhou"
    assert centre.name.zh == "秦州区社区矫正中心" and centre.name.en == "Qinzhou District Centre"
    assert centre.level == "county"
    (room,) = centre.rooms
    assert room.code == "checkin" and room.standard_kind == "checkin"
    (camera,) = room.cameras
    assert camera.id == "qinzhou-checkin-1"
    assert camera.rtsp == "rtsp://127.0.0.1:8554/cam0"
    assert camera.source_kind == "rtsp" and camera.profile == "main"
    assert site.camera("qinzhou-checkin-1").centre.code == "qinzhou"


def test_plain_string_names_are_accepted(tmp_path):
    text = MINIMAL.replace("{zh: 报到登记室, en: Check-in room}", "报到登记室")
    room = load_site(write(tmp_path, text)).centres[0].rooms[0]
    assert room.name.zh == room.name.en == "报到登记室"


def test_standard_rooms_have_both_languages():
    for code in (
        "checkin",
        "announcement",
        "admonition",
        "counselling",
        "education",
        "monitoring",
        "archives",
    ):
        zh, en = STANDARD_ROOMS[code]
        assert zh and en


@pytest.mark.parametrize(
    ("old", "new", "line", "expected"),
    [
        ("level: county", "level: town", 4, "centres[0].level"),
        ("level: county", "level: county\n    colour: red", 5, "unknown key 'colour'"),
        ("rtsp: rtsp://127.0.0.1:8554/cam0", "rtsp: http://127.0.0.1/cam0", 11, "must be an rtsp:// URL"),
        (
            "rtsp: rtsp://127.0.0.1:8554/cam0",
            "rtsp: rtsp://admin:hunter2@127.0.0.1:8554/cam0",
            11,
            "password written in it",
        ),
        (
            "rtsp: rtsp://127.0.0.1:8554/cam0",
            "demo: {}\n            rtsp: rtsp://127.0.0.1/x",
            9,
            "exactly one media source",
        ),
        ("code: qinzhou", "code: Qin Zhou", 2, "centres[0].code"),
    ],
)
def test_bad_site_names_file_line_and_field(tmp_path, old, new, line, expected):
    path = write(tmp_path, MINIMAL.replace(old, new))
    with pytest.raises(SiteError) as error:
        load_site(path)
    message = str(error.value)
    assert f"{path}:{line}:" in message
    assert expected in message
    assert "hunter2" not in message


def test_duplicate_camera_ids_are_refused(tmp_path):
    text = MINIMAL + textwrap.indent(
        textwrap.dedent(
            """\
          - code: maiji
            name: 麦积区
            level: county
            rooms:
              - code: checkin
                name: 报到登记室
                cameras:
                  - id: qinzhou-checkin-1
                    name: again
                    demo: {}
        """
        ),
        "  ",
    )
    with pytest.raises(SiteError, match="camera id 'qinzhou-checkin-1' appears twice"):
        load_site(write(tmp_path, text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("centres: [\n", "YAML syntax error"),
        ("- just\n- a list\n", "a site file is a mapping"),
        ("centres:\n  - code: a\n    code: b\n", "duplicate key 'code'"),
        ("centres: []\n", "centres"),
    ],
)
def test_unusable_files_give_one_clear_message(tmp_path, text, expected):
    with pytest.raises(SiteError, match=expected):
        load_site(write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(SiteError, match="no such file"):
        load_site(tmp_path / "nowhere.yaml")


def test_site_check_command_lists_and_redacts(tmp_path, capsys, monkeypatch):
    text = MINIMAL.replace(
        "rtsp: rtsp://127.0.0.1:8554/cam0",
        "rtsp: rtsp://operator@127.0.0.1:8554/cam0\n            credentials: {username: operator, password_env: CAM_PW}",
    )
    monkeypatch.setenv("CAM_PW", "s3cret-pw")
    assert main(["site", "check", str(write(tmp_path, text))]) == 0
    out = capsys.readouterr().out
    assert "qinzhou-checkin-1" in out and "秦州区社区矫正中心" in out
    assert "1 centres, 1 rooms, 1 cameras" in out
    assert "s3cret-pw" not in out


def test_site_check_command_bad_file_exit_code(tmp_path, capsys):
    path = write(tmp_path, MINIMAL.replace("level: county", "level: town"))
    assert main(["site", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:4: centres[0].level" in err


def test_onvif_may_stand_beside_rtsp_as_the_control_address(tmp_path):
    text = MINIMAL.replace(
        "rtsp: rtsp://127.0.0.1:8554/cam0",
        "rtsp: rtsp://127.0.0.1:8554/cam0\n            onvif: {host: 127.0.0.1, port: 8080}\n            ptz: true",
    )
    camera = load_site(write(tmp_path, text)).centres[0].rooms[0].cameras[0]
    assert camera.source_kind == "rtsp" and camera.controllable
    assert camera.redacted_source() == "rtsp://127.0.0.1:8554/cam0 (onvif 127.0.0.1:8080)"
