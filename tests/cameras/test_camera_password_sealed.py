"""A camera password typed in (not an env var name) is used for ONVIF and RTSP, and stored sealed.

Real parts: the ipycam camera with WS-Security credentials, PostgreSQL and its ``pg_dump``, the
data dir's key file. The password must appear nowhere in clear text: not in the database dump,
not in any log record (every logger at DEBUG, zeep's SOAP traffic included), not in a repr.
"""

from __future__ import annotations

import logging
import stat
import subprocess
from urllib.parse import quote

import pytest

from tests.cameras.onvif_test_params import CAMERA_PASSWORD, CAMERA_USER
from watchwall.cameras.credentials import CredentialsError, resolve
from watchwall.cameras.errors import CameraAuthError
from watchwall.cameras.inventory import NewCamera, add_camera, get_camera, list_cameras, move_camera
from watchwall.cameras.password_seal import KEY_FILE_NAME, SEALED_PREFIX, seal
from watchwall.cameras.pull_list import camera_of_row
from watchwall.config.database import make_engine, upgrade
from watchwall.config.errors import UserError


def clear_forms(password: str) -> list[bytes]:
    """The password as it could leak: as typed, percent-encoded in a URL."""
    return [password.encode(), quote(password, safe="").encode()]


def assert_nowhere(password: str, blob: bytes, where: str) -> None:
    for form in clear_forms(password):
        assert form not in blob, f"the camera password is in clear text in {where}"


@pytest.fixture
def engine(scratch_database_url):
    upgrade(scratch_database_url)
    engine = make_engine(scratch_database_url)
    yield engine
    engine.dispose()


def new_camera(auth_camera, password: str, camera_id: str = "qz-typed") -> NewCamera:
    return NewCamera(
        camera_id,
        "qinzhou",
        "checkin",
        "typed password",
        auth_camera.host,
        auth_camera.onvif_port,
        username=CAMERA_USER,
        password=password,
    )


def test_a_typed_password_is_sealed_in_the_database_and_opened_only_with_the_key(
    auth_camera, engine, scratch_database_url, tmp_path, caplog
):
    key_dir = tmp_path / "data"
    caplog.set_level(logging.DEBUG)  # every logger, zeep's request dumps included
    new = new_camera(auth_camera, CAMERA_PASSWORD)
    assert CAMERA_PASSWORD not in repr(new)
    row, description = add_camera(engine, new, timeout=10, key_dir=key_dir)
    assert description.main is not None and row.main_stream_uri

    stored = get_camera(engine, "qz-typed")
    assert stored.password_sealed.startswith(SEALED_PREFIX)
    assert stored.password_env is None and stored.password_secret is None
    assert_nowhere(CAMERA_PASSWORD, stored.password_sealed.encode(), "the sealed column")
    key_file = key_dir / KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    dump = subprocess.run(
        ["pg_dump", "--data-only", scratch_database_url.replace("postgresql+psycopg", "postgresql")],
        capture_output=True,
        timeout=60,
        check=True,
    ).stdout
    assert b"qz-typed" in dump and stored.password_sealed.encode() in dump  # the dump has the row
    assert_nowhere(CAMERA_PASSWORD, dump, "pg_dump")
    assert_nowhere(CAMERA_PASSWORD, caplog.text.encode(), "the log records")

    # the ingest's view of the row: the same password comes back, with this key only
    camera = camera_of_row(stored)
    assert CAMERA_PASSWORD not in repr(camera)
    resolved = resolve(camera.credentials, key_dir=key_dir)
    assert (resolved.username, resolved.password) == (CAMERA_USER, CAMERA_PASSWORD)
    elsewhere = tmp_path / "another-installation"
    with pytest.raises(CredentialsError, match="needs the camera key"):
        resolve(camera.credentials, key_dir=elsewhere)
    assert not (elsewhere / KEY_FILE_NAME).exists()  # reading never invents a key
    seal("something else", elsewhere)  # that installation's own key
    with pytest.raises(CredentialsError, match="cannot be opened") as refused:
        resolve(camera.credentials, key_dir=elsewhere)
    assert stored.password_sealed not in str(refused.value)

    # a move asks the camera again with the sealed password
    moved, _ = move_camera(engine, "qz-typed", host="localhost", port=auth_camera.onvif_port, key_dir=key_dir)
    assert moved.onvif_host == "localhost"
    assert_nowhere(CAMERA_PASSWORD, caplog.text.encode(), "the log records")


def test_a_wrong_password_is_refused_and_stores_nothing(auth_camera, engine, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "not-the-password-9000"
    with pytest.raises(CameraAuthError):
        add_camera(engine, new_camera(auth_camera, wrong, "qz-wrong"), timeout=10, key_dir=tmp_path)
    assert list_cameras(engine) == []
    assert_nowhere(wrong, caplog.text.encode(), "the log records")


def test_a_typed_password_with_an_env_reference_is_refused_before_asking(auth_camera, engine, tmp_path):
    both = NewCamera(
        "qz-both",
        "qinzhou",
        "checkin",
        "both",
        auth_camera.host,
        auth_camera.onvif_port,
        username=CAMERA_USER,
        password_env="SOME_ENV",
        password=CAMERA_PASSWORD,
    )
    with pytest.raises(UserError, match="not both"):
        add_camera(engine, both, timeout=10, key_dir=tmp_path)
    assert list_cameras(engine) == []
