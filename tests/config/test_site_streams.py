"""Two streams per camera in the site file: sub_rtsp beside rtsp, roles per camera, bad input refused."""

from __future__ import annotations

import pytest

from tests.config.test_site_file import MINIMAL, write
from watchwall.config.site import Camera, SiteError, load_site, same_stream
from watchwall.roles.cli import main


def with_camera_lines(lines: str) -> str:
    return MINIMAL + "".join(f"            {line}\n" for line in lines.splitlines())


def test_sub_stream_and_default_roles(tmp_path):
    site = load_site(write(tmp_path, with_camera_lines("sub_rtsp: rtsp://127.0.0.1:8554/cam0-sub")))
    camera = site.camera("qinzhou-checkin-1").camera
    assert camera.has_sub_stream
    roles = {role: camera.stream_for(role) for role in ("record", "live", "tiles", "thumbnails", "faces")}
    assert roles == {"record": "main", "live": "main", "tiles": "sub", "thumbnails": "sub", "faces": "main"}


def test_roles_are_settable_per_camera_and_a_single_stream_does_everything(tmp_path):
    text = with_camera_lines(
        "sub_rtsp: rtsp://127.0.0.1:8554/cam0-sub\nstreams: {tiles: main, thumbnails: main, live: sub}"
    )
    camera = load_site(write(tmp_path, text)).camera("qinzhou-checkin-1").camera
    assert (camera.stream_for("tiles"), camera.stream_for("thumbnails"), camera.stream_for("live")) == (
        "main",
        "main",
        "sub",
    )
    alone = Camera(id="a", name="a", rtsp="rtsp://127.0.0.1/main")
    assert not alone.has_sub_stream and {alone.stream_for(r) for r in ("tiles", "thumbnails", "live")} == {
        "main"
    }
    legacy = Camera(id="b", name="b", rtsp="rtsp://127.0.0.1/m", sub_rtsp="rtsp://127.0.0.1/s", profile="sub")
    assert not legacy.has_sub_stream  # profile: sub pulls the sub stream alone, as before


@pytest.mark.parametrize(
    "sub",
    [
        "rtsp://127.0.0.1:8554/cam0",
        "rtsp://127.0.0.1:8554/cam0/",
        "RTSP://127.0.0.1:8554/cam0",
        "rtsp://viewer@127.0.0.1:8554/cam0",
    ],
)
def test_a_sub_stream_equal_to_the_main_one_is_refused_naming_the_field(tmp_path, sub, capsys):
    path = write(tmp_path, with_camera_lines(f"sub_rtsp: {sub}"))
    with pytest.raises(SiteError) as caught:
        load_site(path)
    message = str(caught.value)
    assert "cameras[0].sub_rtsp" in message and "main stream's URL (rtsp)" in message
    assert f"{path}:12:" in message  # the sub_rtsp line
    assert main(["site", "check", str(path)]) == 2
    assert "sub_rtsp" in capsys.readouterr().err


def test_a_sub_stream_without_a_main_one_is_refused(tmp_path):
    text = MINIMAL.replace(
        "rtsp: rtsp://127.0.0.1:8554/cam0",
        "sub_rtsp: rtsp://127.0.0.1:8554/cam0-sub\n            onvif: {host: 127.0.0.1}",
    )
    with pytest.raises(SiteError, match="sub_rtsp needs the main stream's rtsp"):
        load_site(write(tmp_path, text))


def test_same_stream_compares_what_names_a_stream():
    assert same_stream("rtsp://cam/main", "rtsp://cam:554/main")
    assert not same_stream("rtsp://cam/main", "rtsp://cam/sub")
    assert not same_stream("rtsp://cam/stream?channel=1", "rtsp://cam/stream?channel=2")
    assert not same_stream("rtsp://cam:8554/main", "rtsp://cam:8555/main")
