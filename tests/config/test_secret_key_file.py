"""One installation secret for every role of a cluster: the ``secret_key_file`` setting."""

from __future__ import annotations

import threading

from watchwall.config.secret_key import load_or_create_secret
from watchwall.config.settings import Settings


def test_roles_with_their_own_data_dirs_share_the_secret_file(tmp_path):
    shared = tmp_path / "etc" / "secret_key"
    shared.parent.mkdir()
    web = Settings(data_dir=tmp_path / "web", secret_key_file=shared)
    node = Settings(data_dir=tmp_path / "node", secret_key_file=shared)
    alone = Settings(data_dir=tmp_path / "alone")
    assert web.secret_key() == node.secret_key() == bytes.fromhex(shared.read_text().strip())
    assert alone.secret_key() != web.secret_key()  # without the setting: the data dir's own
    assert (tmp_path / "alone" / "secret_key").exists() and not (tmp_path / "web" / "secret_key").exists()


def test_processes_racing_to_make_the_secret_all_get_the_first_one(tmp_path):
    path = tmp_path / "secret_key"
    results: list[bytes] = []
    start = threading.Barrier(8)

    def make() -> None:
        start.wait()
        results.append(load_or_create_secret(path))

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(results) == 8 and len(set(results)) == 1
    assert results[0] == bytes.fromhex(path.read_text().strip())
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left
