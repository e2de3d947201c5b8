"""``watchwall export / verify / keys / audit`` as an inspector runs them, in a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.video.record.recording_media import feed, h264_clip, media_packets, wait_drained
from watchwall.config.database import make_engine, upgrade
from watchwall.config.settings import reset_settings_cache
from watchwall.roles.cli import main
from watchwall.video.ingest.fanout import Fanout
from watchwall.video.record.recorder import Recorder

CAMERA = "tianshui-checkin-1"  # a camera of the shipped site: its centre and room go into the manifest
T0 = 1_790_000_000.0  # 2026-09-21T14:13:20Z = 22:13:20 in Tianshui


def watchwall_process(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHWALL_")}
    env["WATCHWALL_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "watchwall.roles.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def watchwall(monkeypatch, capsys):
    """Runs the ``watchwall`` command in this process (the same code path as the console script)."""

    def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
        for name in [k for k in os.environ if k.startswith("WATCHWALL_")]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("WATCHWALL_DATA_DIR", str(data_dir))
        reset_settings_cache()
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        reset_settings_cache()
        return subprocess.CompletedProcess(args, code, captured.out, captured.err)

    return run


@pytest.fixture
def data_dir(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    url = f"sqlite:///{data_dir / 'watchwall.db'}"
    upgrade(url)
    engine = make_engine(url)
    info, raw = h264_clip(4.0)
    fanout = Fanout(CAMERA)
    recorder = Recorder(CAMERA, fanout, engine, data_dir / "recordings", segment_seconds=2).start()
    feed(fanout, media_packets(CAMERA, info, raw, T0))
    wait_drained(fanout)
    recorder.stop()
    engine.dispose()
    return data_dir


def test_export_verify_keys_and_audit(data_dir, tmp_path, watchwall):
    out = tmp_path / "evidence.zip"
    done = watchwall_process(
        data_dir, "export", "--camera", CAMERA, "--from", "2026-09-21T22:13:21", "--to", "2026-09-21T14:13:23Z",
        "--out", str(out), "--reason", "check-in dispute", "--user", "inspector-li",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "2026-09-21T22:13:21.000+08:00" in done.stdout
    with zipfile.ZipFile(out) as package:
        manifest = package.read("manifest.json").decode()
    assert '"centre": "tianshui"' in manifest and '"room": "checkin"' in manifest
    assert "check-in dispute" in manifest

    keys = watchwall(data_dir, "keys")
    assert keys.returncode == 0 and "BEGIN PUBLIC KEY" in keys.stdout and "SHA-256 fingerprint" in keys.stdout

    valid = watchwall(data_dir, "verify", str(out))
    assert (valid.returncode, valid.stdout.strip()) == (0, f"valid: {out}")

    elsewhere = tmp_path / "elsewhere"
    unknown = watchwall(elsewhere, "verify", str(out))
    assert unknown.returncode == 1 and "unknown key" in unknown.stdout
    (tmp_path / "trusted.pem").write_text(keys.stdout.split("SHA-256")[0])
    trusted = watchwall(elsewhere, "verify", str(out), "--trust-key", str(tmp_path / "trusted.pem"))
    assert trusted.returncode == 0, trusted.stdout

    with zipfile.ZipFile(out) as package:
        members = {name: package.read(name) for name in package.namelist()}
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(tampered, "w") as package:
        for name, data in members.items():
            package.writestr(
                name, data.replace(b"check-in dispute", b"routine check") if name == "manifest.json" else data
            )
    edited = watchwall(data_dir, "verify", str(tampered))
    assert edited.returncode == 1 and "manifest: manifest.json: edited after it was signed" in edited.stdout

    intact = watchwall(data_dir, "verify", "--recordings", "--camera", CAMERA)
    assert intact.returncode == 0 and "intact" in intact.stdout

    audit = watchwall(data_dir, "audit", "list", "--json")
    assert audit.returncode == 0 and '"action": "export"' in audit.stdout and "inspector-li" in audit.stdout
    chain = watchwall(data_dir, "audit", "verify")
    assert (chain.returncode, chain.stdout.strip()) == (
        0,
        "audit log intact: 1 entries, anchored with this installation's key",
    )


def test_bad_input_is_one_clear_line(data_dir, tmp_path, watchwall):
    traversal = watchwall(
        data_dir, "export", "--camera", "../../etc", "--from", "2026-09-21T22:13:21", "--to", "2026-09-21T22:13:23",
        "--out", str(tmp_path / "x.zip"),
    )  # fmt: skip
    assert traversal.returncode == 2 and "refused camera id" in traversal.stderr
    assert len(traversal.stderr.strip().splitlines()) == 1
    bad_time = watchwall(
        data_dir,
        "export",
        "--camera",
        CAMERA,
        "--from",
        "yesterday",
        "--to",
        "now",
        "--out",
        str(tmp_path / "x.zip"),
    )
    assert bad_time.returncode == 2 and "ISO 8601" in bad_time.stderr
    assert not (tmp_path / "x.zip").exists()
