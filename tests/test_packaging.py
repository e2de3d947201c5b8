"""The wheel built from the repository serves the whole product from a clean environment, and
claims no generic top-level module names."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.dashboard.conftest import free_port, wait_http, watchwall_env

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "--disable-pip-version-check",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return next(out.glob("watchwall-*.whl"))


def test_wheel_holds_one_namespace_and_the_assets(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"watchwall"}, top_level
    for needed in (
        "watchwall/assets/live-player.js",
        "watchwall/assets/wall.css",
        "watchwall/assets/i18n/zh-CN.json",
        "watchwall/assets/vendor/socket.io-4.8.4.min.js",
        "watchwall/config/sites/tianshui.yaml",
        "watchwall/config/migrations/env.py",
        "watchwall/roles/cli.py",
        "watchwall/reports/cli.py",
        "watchwall/assets/i18n/reports/zh-CN.json",
        "watchwall/assets/fonts/wqy-microhei/wqy-microhei.ttc",
        "watchwall/assets/fonts/wqy-microhei/LICENSE-Apache-2.0.txt",
    ):
        assert needed in names, needed
    assert not any(name.endswith("__init__.py") and name.count("/") == 1 for name in names)  # a namespace
    # the RTSP loop's per-packet path, compiled (video/rtsp/_speedups.c)
    assert any(name.startswith("watchwall/video/rtsp/_speedups.") and name.endswith(".so") for name in names)
    # the recorder's per-packet path, compiled (video/record/_fragments.c)
    assert any(
        name.startswith("watchwall/video/record/_fragments.") and name.endswith(".so") for name in names
    )


def test_installed_wheel_serves_pages_and_assets(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "-q",
            "--disable-pip-version-check",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    # the dependencies come from the test venv's site-packages, added as a plain path: its .pth
    # files (among them the editable install of this checkout) are not run
    site_packages = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (site_packages / "test-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    located = subprocess.run(
        [str(python), "-c", "import watchwall.dashboard.app as app; print(app.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    ).stdout.strip()
    assert located.startswith(str(site_packages)), located

    env = watchwall_env(tmp_path / "data")
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [str(venv / "bin" / "watchwall"), "serve", "--no-ingest", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/login", 120)
        for path in ("/assets/live-player.js", "/assets/wall.css", "/assets/vendor/socket.io-4.8.4.min.js"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
                assert answer.status == 200 and len(answer.read()) > 100, path
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as answer:
            page = answer.read().decode()
        assert "login.css" in page
    finally:
        serve.terminate()
        serve.wait(timeout=30)
        log.close()
