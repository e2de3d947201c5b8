"""/incidents in Chromium: filters, history and the CSV export, each user seeing only what is theirs;
comments and assigning an incident back to a county, on /incidents and on the county page."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

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
    yield server, ids, database
    server.stop()
    engine.dispose()


def rows_shown(page) -> list[str]:
    return page.eval_on_selector_all("#incident-table tbody tr", "rows => rows.map(r => r.dataset.incident)")


def test_filters_history_and_export_for_city_command(page_world, browser, http_login):
    server, ids, _database = page_world
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
    server, ids, _database = page_world
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


def incident_row(database: str, incident_id: int) -> dict:
    engine = make_engine(database)
    try:
        with engine.connect() as connection:
            row = connection.execute(text("SELECT * FROM incidents WHERE id = :id"), {"id": incident_id})
            return dict(row.one()._mapping)
    finally:
        engine.dispose()


def people_actions(database: str, incident_id: int) -> list[tuple[str, str, str]]:
    engine = make_engine(database)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT action, actor, detail FROM audit_log WHERE target = :target ORDER BY id"),
                {"target": f"incident:{incident_id}"},
            )
            return [(r.action, r.actor, r.detail) for r in rows if r.actor != "system:incidents"]
    finally:
        engine.dispose()


def wait_for_answer(page, result: str, before: str) -> str:
    page.wait_for_function(
        f"() => document.querySelector({result!r}).textContent !== {before!r}", timeout=15_000
    )
    return page.inner_text(result)


def test_city_command_comments_and_assigns_back_and_the_county_comments_on_its_page(page_world, browser):
    """Run last in this module: it moves an incident of maiji to qinzhou."""
    server, _ids, database = page_world
    engine = make_engine(database)
    try:
        moved = open_incident(
            engine, IncidentSettings(), kind="frozen", county="maiji", camera_id="maiji-checkin-1"
        )["id"]
    finally:
        engine.dispose()
    result = "#incidents-history-result"
    card = f"#incidents-history .incident-card[data-incident='{moved}']"
    context = login_as(browser, server, "command", viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    try:
        page.goto(f"{server.url}/incidents?lang=en")
        page.wait_for_selector(f"#incident-table tbody tr[data-incident='{moved}']", timeout=30_000)
        page.click(f"#incident-table tbody tr[data-incident='{moved}'] button")
        page.wait_for_selector(f"{card}[data-county=maiji]", timeout=15_000)
        # an empty comment is refused, and nothing changes
        answer = page.inner_text(result)
        page.click(f"{card} button.incident-comment")
        answer = wait_for_answer(page, result, answer)
        assert "needs some text" in answer
        assert incident_row(database, moved)["version"] == 1
        page.fill(f"{card} .incident-note input", "请县里查一下线路")
        page.click(f"{card} button.incident-comment")
        answer = wait_for_answer(page, result, answer)
        assert "Comment" in answer and "✓" in answer
        page.wait_for_function(
            "() => document.querySelector('#incidents-history .incident-notes').textContent"
            ".includes('请县里查一下线路')",
            timeout=15_000,
        )
        # assigning without a county is refused; then back to Qinzhou
        page.click(f"{card} button.incident-assign")
        answer = wait_for_answer(page, result, answer)
        assert "unknown county" in answer
        assert incident_row(database, moved)["county"] == "maiji"
        page.click(f"{card} .incident-assign-county")
        page.get_by_role("option", name="Qinzhou", exact=True).click()
        page.click(f"{card} button.incident-assign")
        page.wait_for_selector(f"{card}[data-county=qinzhou]", timeout=15_000)
        assert "✓" in page.inner_text(result)
    finally:
        context.close()
    row = incident_row(database, moved)
    assert (row["county"], row["state"], row["escalated_at"]) == ("qinzhou", "open", None)

    # the county's supervisor now has it on the county page, and comments there
    context = login_as(browser, server, "sup-qinzhou", viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    panel_card = f"#incident-panel-list .incident-card[data-incident='{moved}']"
    try:
        page.goto(f"{server.url}/centres/qinzhou?lang=en")
        page.wait_for_selector(panel_card, timeout=30_000)
        assert page.query_selector(f"{panel_card} button.incident-assign") is None  # city command's
        before = page.inner_text("#incident-panel-result")
        page.fill(f"{panel_card} .incident-note input", "已派人检查")
        page.click(f"{panel_card} button.incident-comment")
        answer = wait_for_answer(page, "#incident-panel-result", before)
        assert "✓" in answer
    finally:
        context.close()
    actions = people_actions(database, moved)
    assert [(action, actor) for action, actor, _ in actions] == [
        ("incident.comment", "command"),
        ("incident.assign", "command"),
        ("incident.comment", "sup-qinzhou"),
    ]
    assert (
        "请县里查一下线路" in actions[0][2] and '"qinzhou"' in actions[1][2] and "已派人检查" in actions[2][2]
    )
