"""/incidents in Chromium: filters, history and the CSV export, each user seeing only what is theirs."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from tests.dashboard.conftest import login_as
from watchwall.config.database import make_engine
from watchwall.config.incident_settings import IncidentSettings
from watchwall.incidents.store import act, open_incident

pytestmark = [pytest.mark.browser]


class Supervisor:
    username, role, counties, all_counties = "sup-qinzhou", "county_supervisor", ("qinzhou",), False


@pytest.fixture(scope="module")
def page_world(tmp_path_factory, served_factory):
    folder = tmp_path_factory.mktemp("incidents-page")
    database = f"sqlite:///{folder / 'watchwall.db'}"
    server = served_factory(
        folder, {"WATCHWALL_DATABASE_URL": database}, users=("command", "sup-qinzhou", "inspector")
    )
    engine = make_engine(database)
    settings = IncidentSettings()
    old = datetime.now(UTC) - timedelta(days=3)
    ids = {
        "camera": open_incident(
            engine, settings, kind="offline", county="qinzhou", camera_id="qinzhou-checkin-1", at=old
        )["id"],
        "missed": open_incident(engine, settings, kind="missed_checkin", county="qinzhou", subject_ref="李*")[
            "id"
        ],
        "maiji": open_incident(engine, settings, kind="covered", county="maiji", camera_id="maiji-checkin-1")[
            "id"
        ],
    }
    act(engine, Supervisor(), ids["camera"], "close", reason="false_alarm", note="演练")
    server.start("--no-ingest")
    yield server, ids
    server.stop()
    engine.dispose()


def rows_shown(page) -> list[str]:
    return page.eval_on_selector_all("#incident-table tbody tr", "rows => rows.map(r => r.dataset.incident)")


def test_filters_history_and_export_for_city_command(page_world, browser, http_login):
    server, ids = page_world
    context = login_as(browser, server, "command", viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    try:
        page.goto(f"{server.url}/incidents?lang=en")
        page.wait_for_selector("#incident-table tbody tr", timeout=30_000)
        assert set(rows_shown(page)) == {str(i) for i in ids.values()}
        page.click("#incidents-state")
        page.click("text=Closed")
        page.wait_for_function(
            "() => document.querySelectorAll('#incident-table tbody tr').length === 1", timeout=15_000
        )
        assert rows_shown(page) == [str(ids["camera"])]
        assert "state=closed" in page.get_attribute("#incidents-export", "href")
        page.click(f"#incident-table tbody tr[data-incident='{ids['camera']}'] button")
        page.wait_for_selector("#incidents-history li", timeout=15_000)
        history = page.inner_text("#incidents-history")
        assert "sup-qinzhou" in history and "False alarm" in history and "演练" in history
        page.fill("#incidents-from", "2000-01-02")
        page.fill("#incidents-to", "2000-01-01")
        page.wait_for_function(
            "() => document.getElementById('incidents-error').textContent.includes('before the start')",
            timeout=15_000,
        )
    finally:
        context.close()
    session = http_login(server, "command")
    exported = session.get(f"{server.url}/incidents/export.csv?county=maiji", timeout=10)
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [(row["id"], row["kind"], row["county"]) for row in rows] == [
        (str(ids["maiji"]), "covered", "maiji")
    ]
    assert session.get(f"{server.url}/incidents/export.csv?kind=bored", timeout=10).status_code == 400


def test_a_county_supervisor_sees_its_county_and_an_inspector_reads_only(page_world, browser, http_login):
    server, ids = page_world
    context = login_as(browser, server, "sup-qinzhou", viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    try:
        page.goto(f"{server.url}/incidents?lang=en")
        page.wait_for_selector("#incident-table tbody tr", timeout=30_000)
        assert set(rows_shown(page)) == {str(ids["camera"]), str(ids["missed"])}
    finally:
        context.close()
    inspector = http_login(server, "inspector")
    rows = list(
        csv.DictReader(
            io.StringIO(inspector.get(f"{server.url}/incidents/export.csv", timeout=10).text.lstrip("\ufeff"))
        )
    )
    assert {row["id"] for row in rows} == {str(i) for i in ids.values()}
