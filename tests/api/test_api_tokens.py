"""Tokens: shown once by the CLI, never stored in clear, never in a log; list and revoke."""

from __future__ import annotations

import hashlib
import json
import logging

import pytest
from sqlalchemy import text

from watchwall.config.settings import reset_settings_cache
from watchwall.dashboard.api_clients import TOKEN_PATTERN, add_client, hash_token, token_id_of
from watchwall.roles.cli import main

from .rows import CASES, CHECKINS


def all_cells(engine, table: str) -> list[str]:
    with engine.connect() as connection:
        return [str(value) for row in connection.execute(text(f"SELECT * FROM {table}")) for value in row]


def test_the_database_holds_only_a_hash_of_each_token(api):
    cells = all_cells(api.engine, "api_clients")
    for token in api.tokens.values():
        secret = TOKEN_PATTERN.match(token).group(2)
        assert not any(secret in cell for cell in cells), "a token's secret part is in the api_clients table"
        assert hash_token(token) == hashlib.sha256(token.encode()).hexdigest()
        assert hash_token(token) in cells
        assert token_id_of(token) in cells  # the id finds the row; it is not the secret


def test_tokens_are_random_and_well_formed(api):
    _, first = add_client(api.engine, "one", ["checkins"])
    _, second = add_client(api.engine, "two", ["checkins"])
    assert first != second and token_id_of(first) != token_id_of(second)
    assert TOKEN_PATTERN.match(first) and TOKEN_PATTERN.match(second)


def test_no_token_reaches_the_log(api, caplog):
    caplog.set_level(logging.DEBUG)
    token = api.tokens["both"]
    assert api.post("checkins", {"rows": CHECKINS}).status_code == 200
    assert api.post("cases", {"rows": CASES}).status_code == 200
    assert api.post("checkins", {"rows": [{"external_id": "x"}]}).status_code == 422
    assert api.post("checkins", {"rows": CHECKINS}, token=token[:-2]).status_code == 401
    assert "posted checkins" in caplog.text  # the API does log its writes, by client name
    assert token not in caplog.text and TOKEN_PATTERN.match(token).group(2)[:20] not in caplog.text


@pytest.fixture
def cli_env(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("WATCHWALL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WATCHWALL_DATABASE_URL", database_url)
    reset_settings_cache()
    yield database_url
    reset_settings_cache()


def test_cli_prints_the_token_once_lists_clients_and_revokes(cli_env, capsys, caplog, api):
    caplog.set_level(logging.DEBUG)
    assert main(["api-client", "add", "terminal-gangu", "--scope", "checkins", "--scope", "cases"]) == 0
    added = capsys.readouterr().out
    tokens = [line for line in added.splitlines() if TOKEN_PATTERN.match(line)]
    assert len(tokens) == 1, added
    token = tokens[0]
    assert "shown this once" in added

    # The printed token works against the API.
    assert api.post("cases", {"rows": CASES}, token=token).status_code == 200

    assert main(["api-client", "list"]) == 0
    listing = capsys.readouterr().out
    assert "terminal-gangu: checkins,cases; active" in listing and "(1 requests)" in listing
    assert main(["api-client", "list", "--json"]) == 0
    rows = {row["name"]: row for row in map(json.loads, capsys.readouterr().out.splitlines())}
    assert set(rows) == {"terminal-gangu", "terminal-qinzhou", "platform", "both"}
    assert (
        rows["terminal-gangu"]["scopes"] == ["checkins", "cases"] and rows["terminal-gangu"]["use_count"] == 1
    )

    assert main(["api-client", "revoke", "terminal-gangu"]) == 0
    assert "revoked" in capsys.readouterr().out
    assert api.post("cases", {"rows": CASES}, token=token).status_code == 401
    assert main(["api-client", "list"]) == 0
    assert "terminal-gangu: checkins,cases; revoked" in capsys.readouterr().out

    assert main(["api-client", "add", "terminal-gangu", "--scope", "cases"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["api-client", "revoke", "nobody"]) == 2
    assert "no API client named 'nobody'" in capsys.readouterr().err
    assert main(["api-client", "add", "bad name!", "--scope", "cases"]) == 2
    assert "client name" in capsys.readouterr().err

    secret = TOKEN_PATTERN.match(token).group(2)
    assert secret not in caplog.text
    assert not any(secret in cell for cell in all_cells(api.engine, "api_clients"))
