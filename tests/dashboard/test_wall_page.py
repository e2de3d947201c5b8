"""/wall in Debian's Chromium against a real ``watchwall serve``: figures, layout, push, reconnect."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser]

WALL_SIZES = {"1080p": (1920, 1080), "4k": (3840, 2160)}


def open_wall(login, browser, served, language: str, size=(1920, 1080)):
    context = login(browser, served, "command", viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.goto(f"{served.url}/wall?lang={language}")
    page.wait_for_selector("#kpi-cases-total", timeout=30_000)
    page.wait_for_selector(".push-status.online", timeout=30_000)
    page.wait_for_function("document.querySelectorAll('.wall-chart .main-svg').length >= 4", timeout=30_000)
    return page


def kpi(page, name: str) -> str:
    return page.inner_text(f"#kpi-{name}").strip()


def rate(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def test_wall_figures_equal_watchwall_metrics_json(login, browser, served):
    expected = served.metrics()
    page = open_wall(login, browser, served, "en")
    try:
        assert kpi(page, "cases-total") == str(expected["cases_total"]) == "555"
        assert kpi(page, "centres") == str(expected["centres"]) == "8"
        bases, staff = expected["bases"], expected["staff"]
        assert (
            kpi(page, "bases") == f"{bases['education']} / {bases['public_welfare']} / {bases['employment']}"
        )
        assert kpi(page, "bases") == "16 / 37 / 15"
        assert (
            kpi(page, "staff")
            == f"{staff['full_time']} / {staff['public_welfare_posts']} / {staff['certified_officers']}"
        )
        assert kpi(page, "staff") == "29 / 18 / 278"
        assert (
            kpi(page, "psych") == f"{expected['psych_assessed']} / {expected['reoffending_risk']}" == "49 / 2"
        )
        assert kpi(page, "compliance-30d") == rate(expected["checkin_compliance"]["last_30_days"])
        assert kpi(page, "subjects") == f"{expected['subjects_under_supervision']:,}"
        assert "135" in page.inner_text("[data-kpi=cases-total]")
        for code, value in expected["checkin_compliance"]["by_county"].items():
            assert page.inner_text(f"[data-centre={code}] .centre-rate").strip() == rate(value)
    finally:
        page.context.close()


@pytest.mark.parametrize("language", ["zh-CN", "en"])
@pytest.mark.parametrize("size_name", list(WALL_SIZES))
def test_wall_fills_the_display_without_scrolling(login, browser, served, screenshots, language, size_name):
    width, height = WALL_SIZES[size_name]
    page = open_wall(login, browser, served, language, (width, height))
    try:
        page.screenshot(path=str(screenshots / f"wall-{language}-{size_name}.png"))
        overflow = page.evaluate(
            "[document.documentElement.scrollWidth - innerWidth, document.documentElement.scrollHeight - innerHeight]"
        )
        assert overflow[0] <= 0 and overflow[1] <= 0, f"the wall scrolls at {width}x{height}: {overflow}"
        clipped = page.evaluate(
            """[...document.querySelectorAll('.kpi-value, .centre-name, .wall-title')]
                 .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)"""
        )
        assert clipped == [], f"text cut off at {width}x{height}: {clipped}"
        if language == "zh-CN":
            assert page.inner_text(".wall-title") == "社区矫正指挥中心"
            # the shipped webfont, not whatever the machine has, draws the Chinese text
            loaded = page.evaluate(
                "document.fonts.ready.then(() => [...document.fonts].filter(f => f.family.includes('Noto Sans SC')"
                " && f.status === 'loaded').length)"
            )
            assert loaded >= 1
            assert page.evaluate("document.fonts.check('16px \"Noto Sans SC\"', '社区矫正指挥中心')")
    finally:
        page.context.close()


def test_wall_catches_up_after_a_server_restart(login, browser, served):
    page = open_wall(login, browser, served, "zh-CN")
    try:
        served.stop()
        page.wait_for_selector(".push-status.offline", timeout=15_000)
        served.start("--no-ingest")
        page.wait_for_selector(".push-status.online", timeout=30_000)
        assert kpi(page, "cases-total") == "555"
    finally:
        page.context.close()


def test_imported_cases_reach_the_open_wall_by_push(login, browser, served, tmp_path):
    page = open_wall(login, browser, served, "en")
    try:
        before = int(kpi(page, "cases-total"))
        rows = tmp_path / "new-cases.csv"
        rows.write_text(
            "external_id,case_type,source_agency,county,received_at,closed_at\n"
            "push-test-1,correction_reception,court,qinzhou,2026-11-20T09:00:00+08:00,\n",
            encoding="utf-8",
        )
        result = served.cli("import", "cases", str(rows))
        assert result.returncode == 0, result.stderr
        # no reload, no polling by the page: the server's watcher pushes metrics.changed
        page.wait_for_function(
            f"document.getElementById('kpi-cases-total').textContent.trim() === '{before + 1}'",
            timeout=30_000,
        )
        assert served.metrics()["cases_total"] == before + 1
    finally:
        page.context.close()


def test_metrics_endpoint_counts_push_clients_and_times_callbacks(login, browser, served):
    import re

    import requests

    page = open_wall(login, browser, served, "en")
    try:
        text = requests.get(f"{served.url}/metrics", timeout=10).text
        clients = re.search(r"^watchwall_push_clients (\S+)$", text, re.M)
        assert clients and float(clients.group(1)) >= 1
        timed = re.findall(r'^watchwall_callback_seconds_count\{callback="([^"]+)"\} (\S+)$', text, re.M)
        assert any("wall-kpis" in name and float(count) >= 1 for name, count in timed), timed
    finally:
        page.context.close()
