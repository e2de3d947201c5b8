"""/reports on a real ``watchwall serve``: each role lists and downloads the reports it may read,
downloads are audited, and a downloaded report with its signature passes ``watchwall verify``."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.dashboard.conftest import add_users
from watchwall.audit.listing import list_entries
from watchwall.config.database import make_engine
from watchwall.metrics.localtime import SHANGHAI

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DAY = (datetime.now(UTC).astimezone(SHANGHAI).date() - timedelta(days=1)).isoformat()
QINZHOU, MAIJI, CITY = (f"{scope}-daily-{DAY}-zh-CN" for scope in ("qinzhou", "maiji", "city"))


@pytest.fixture(scope="module")
def server(served_factory, tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports-served")
    server = served_factory(folder, users=("command", "sup-qinzhou", "sup-maiji", "admin"))
    add_users(server, ("inspector",))
    server.start("--no-ingest")
    try:
        for scope in (["--county", "qinzhou"], ["--county", "maiji"], ["--city"]):
            made = server.cli("report", *scope, "--day", DAY, "--user", "admin", timeout=300)
            assert made.returncode == 0, made.stderr
        yield server
    finally:
        server.stop()


def audited_downloads(server, actor: str) -> list[str]:
    engine = make_engine(f"sqlite:///{Path(server.env['WATCHWALL_DATA_DIR']) / 'watchwall.db'}")
    try:
        return [
            entry.target for entry in list_entries(engine, action="report_download", actor=actor, limit=100)
        ]
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("username", "allowed", "refused"),
    [
        ("sup-qinzhou", [QINZHOU], [MAIJI, CITY]),
        ("sup-maiji", [MAIJI], [QINZHOU, CITY]),
        ("command", [QINZHOU, MAIJI, CITY], []),
        ("inspector", [QINZHOU, MAIJI, CITY], []),
    ],
)
def test_downloads_by_role_are_audited(server, http_login, username, allowed, refused):
    session = http_login(server, username)
    before = audited_downloads(server, username)
    for report_id in allowed:
        answer = session.get(f"{server.url}/reports/download/{report_id}", timeout=60)
        assert answer.status_code == 200 and answer.content.startswith(b"%PDF")
        signature = session.get(f"{server.url}/reports/signature/{report_id}", timeout=60).json()
        assert hashlib.sha256(answer.content).hexdigest() == signature["sha256"]
    for report_id in refused:
        assert session.get(f"{server.url}/reports/download/{report_id}", timeout=60).status_code == 403
        assert session.get(f"{server.url}/reports/signature/{report_id}", timeout=60).status_code == 403
    after = audited_downloads(server, username)
    assert sorted(after[: len(after) - len(before)]) == sorted(allowed)  # newest first: one per download


@pytest.mark.parametrize("report_id", ["nope", f"{QINZHOU}.pdf", f"{QINZHOU}%00", "%2E%2E"])
def test_unknown_reports_are_404(server, http_login, report_id):
    session = http_login(server, "command")
    assert session.get(f"{server.url}/reports/download/{report_id}", timeout=60).status_code == 404
    assert session.get(f"{server.url}/reports/signature/{report_id}", timeout=60).status_code == 404


@pytest.mark.parametrize("trick", ["..%2F..%2Fwatchwall.db", "..%2F..%2Fevidence-signing-key.pem", ".."])
def test_path_tricks_never_reach_a_file(server, http_login, trick):
    session = http_login(server, "command")
    for route in ("download", "signature"):
        answer = session.get(f"{server.url}/reports/{route}/{trick}", timeout=60)
        # 404 from the route, or Dash's page shell for a path no route matches: never a file
        assert answer.status_code in (404, 200)
        assert not answer.headers["Content-Type"].startswith(("application/pdf", "application/json"))
        assert b"SQLite format" not in answer.content and b"PRIVATE KEY" not in answer.content


def test_a_downloaded_report_verifies(server, http_login, tmp_path):
    session = http_login(server, "sup-qinzhou")
    pdf = tmp_path / "downloaded.pdf"
    pdf.write_bytes(session.get(f"{server.url}/reports/download/{QINZHOU}", timeout=60).content)
    (tmp_path / "downloaded.pdf.sig").write_bytes(
        session.get(f"{server.url}/reports/signature/{QINZHOU}", timeout=60).content
    )
    checked = server.cli("verify", str(pdf))
    assert checked.returncode == 0 and checked.stdout.startswith("valid:"), checked.stdout + checked.stderr
    assert json.loads((tmp_path / "downloaded.pdf.sig").read_text())["report"]["id"] == QINZHOU


@pytest.mark.parametrize(
    ("username", "listed", "hidden"),
    [("sup-qinzhou", [QINZHOU], [MAIJI, CITY]), ("command", [QINZHOU, MAIJI, CITY], [])],
)
def test_the_page_lists_what_the_role_may_read(server, browser, login, screenshots, username, listed, hidden):
    context = login(browser, server, username)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/reports")
        page.wait_for_selector("#reports-table", timeout=60_000)
        for report_id in listed:
            assert page.locator(f"#report-{report_id}").count() == 1
            assert page.locator(f"#report-{report_id} a.report-pdf").get_attribute("href") == (
                f"/reports/download/{report_id}"
            )
        for report_id in hidden:
            assert page.locator(f"#report-{report_id}").count() == 0
        assert "督导报告" in page.content()
        page.screenshot(path=str(screenshots / f"reports-{username}.png"))
    finally:
        context.close()
