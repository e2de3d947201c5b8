"""Accessibility basics and the admin forms: <html lang> on every page, labelled inputs, placeholders at
4.5:1 measured from the computed colours, the login keeping the typed user name, role and county names,
cleared forms, and a retention value that shows what was saved.

Real parts: ``watchwall serve`` on the demo site (SQLite), Debian's Chromium through Playwright.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.support.dash_dropdown import pick

PAGES = ("/wall", "/centres/qinzhou", "/incidents", "/recordings", "/reports", "/admin")
FOLLOW_MS = 20_000


@pytest.fixture(scope="module")
def server(tmp_path_factory, served_factory):
    instance = served_factory(
        tmp_path_factory.mktemp("served-a11y"), {}, ("command", "sup-qinzhou", "inspector", "admin")
    )
    instance.start("--no-ingest")
    yield instance
    instance.stop()


def html_lang(page) -> str:
    return page.evaluate("document.documentElement.getAttribute('lang')")


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_every_page_sets_the_html_lang_of_its_language(browser, login, server, language):
    other = "zh-CN" if language == "en" else "en"
    admin = login(browser, server, "admin")
    try:
        page = admin.new_page()
        for path in PAGES:
            page.goto(f"{server.url}{path}?lang={language}")
            page.wait_for_selector(f"header.wall-header[lang='{language}']", timeout=FOLLOW_MS)
            assert html_lang(page) == language, path
        # the language switch changes pages without reloading the document: lang follows
        page.evaluate("window.notReloaded = true")
        page.click("#lang-switch")
        page.wait_for_selector(f"header.wall-header[lang='{other}']", timeout=FOLLOW_MS)
        page.wait_for_function(f"document.documentElement.lang === '{other}'", timeout=FOLLOW_MS)
        assert page.evaluate("window.notReloaded === true")
        # without ?lang the served document already says the stored choice, before any script ran
        served_html = page.request.get(f"{server.url}/admin").text()
        assert served_html.startswith(f'<!DOCTYPE html>\n<html lang="{other}">')
        page.goto(f"{server.url}/admin?lang={language}")  # as the next test expects
    finally:
        admin.close()
    anonymous = browser.new_context()
    try:
        page = anonymous.new_page()
        page.goto(f"{server.url}/login?lang={language}")
        assert html_lang(page) == language
        page.goto(f"{server.url}/assets/no-such-file?lang={language}")
        assert html_lang(page) == language
    finally:
        anonymous.close()


UNLABELLED_CONTROLS = """() => {
  const named = (el) => {
    if (el.labels && el.labels.length && el.labels[0].textContent.trim()) return true;
    const first = (el.getAttribute('aria-labelledby') || '').split(' ').filter(Boolean)[0];
    const label = first && document.getElementById(first);
    return Boolean(label && label.tagName === 'LABEL' && label.textContent.trim());
  };
  const visible = (el) =>
    el.offsetParent !== null && el.type !== 'hidden' && el.getAttribute('aria-hidden') !== 'true';
  return [...document.querySelectorAll('input, select, textarea, button.dash-dropdown')]
    .filter(visible).filter((el) => !named(el)).map((el) => el.id || el.name || el.outerHTML.slice(0, 80));
}"""

PLACEHOLDER_CONTRASTS = """() => {
  const rgba = (text) => {
    const parts = text.match(/[\\d.]+/g).map(Number);
    return {r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1};
  };
  const over = (top, below) => ({
    r: top.r * top.a + below.r * (1 - top.a), g: top.g * top.a + below.g * (1 - top.a),
    b: top.b * top.a + below.b * (1 - top.a), a: 1});
  const background = (el) => {  // the colour under el: its own and its ancestors' backgrounds blended
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const colour = rgba(getComputedStyle(node).backgroundColor);
      if (colour.a > 0) layers.push(colour);
      if (colour.a === 1) break;
    }
    return layers.reverse().reduce((acc, layer) => over(layer, acc), {r: 255, g: 255, b: 255, a: 1});
  };
  const luminance = (c) => {
    const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  };
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const measured = [];
  for (const el of document.querySelectorAll('input[placeholder], textarea[placeholder]')) {
    if (!el.placeholder || el.offsetParent === null) continue;
    const style = getComputedStyle(el, '::placeholder');
    const under = background(el);
    const colour = over({...rgba(style.color), a: rgba(style.color).a * Number(style.opacity)}, under);
    measured.push([el.id || el.name, ratio(colour, under)]);
  }
  for (const el of document.querySelectorAll('.dash-dropdown-placeholder')) {
    if (el.offsetParent === null) continue;
    const under = background(el);
    measured.push([el.closest('button.dash-dropdown').id, ratio(over(rgba(getComputedStyle(el).color), under), under)]);
  }
  return measured;
}"""


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_inputs_are_labelled_and_placeholders_reach_4_5_to_1(browser, login, server, screenshots, language):
    admin = login(browser, server, "admin")
    try:
        page = admin.new_page()
        for path in ("/admin", "/recordings", "/incidents", "/centres/qinzhou"):
            page.goto(f"{server.url}{path}?lang={language}")
            page.wait_for_selector("header.wall-header", timeout=FOLLOW_MS)
            page.wait_for_timeout(1000)  # the callbacks fill the forms
            if path == "/admin":
                page.wait_for_selector("#camera-table")
                assert page.evaluate(UNLABELLED_CONTROLS) == []
                page.screenshot(path=str(screenshots / f"admin-form-labels-{language}.png"), full_page=True)
            measured = page.evaluate(PLACEHOLDER_CONTRASTS)
            low = [(name, round(value, 2)) for name, value in measured if value < 4.5]
            assert low == [], (path, low)
            if path == "/admin":
                names = {name for name, _ in measured}
                assert {"cam-address", "cam-centre", "user-role"} <= names  # the check saw the fields
        header_controls = page.evaluate(
            UNLABELLED_CONTROLS.replace(
                "document.querySelectorAll", "document.querySelector('header').querySelectorAll"
            )
        )
        assert header_controls == []
        page.goto(f"{server.url}/admin?lang={language}")
        label = "Centre" if language == "en" else "中心"
        assert page.get_by_label(label, exact=True).get_attribute("id") == "cam-centre"
        password = "Camera password" if language == "en" else "摄像机密码"
        assert page.get_by_label(password, exact=True).get_attribute("type") == "password"
    finally:
        admin.close()


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_the_login_keeps_the_typed_user_name_after_a_failed_attempt(browser, server, screenshots, language):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{server.url}/login?lang={language}")
        user_label = "User name" if language == "en" else "用户名"
        page.get_by_label(user_label, exact=True).fill('admin"><b>x')
        page.get_by_label("Password" if language == "en" else "密码", exact=True).fill("wrong password 123")
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.click("button[type=submit]")
        assert answer.value.status == 401
        page.wait_for_selector(".login-error")
        assert page.input_value("#login-username") == 'admin"><b>x'  # kept, and escaped: no <b> made
        assert page.locator("main b").count() == 0
        assert page.input_value("#login-password") == ""
        # autofocus is applied at the page's first rendering, which waits for its style sheets
        page.wait_for_function(
            "document.activeElement && document.activeElement.id === 'login-password'", timeout=10_000
        )
        assert html_lang(page) == language
        measured = page.evaluate(PLACEHOLDER_CONTRASTS)
        assert all(value >= 4.5 for _, value in measured)
        page.screenshot(path=str(screenshots / f"login-failed-keeps-user-{language}.png"))
    finally:
        context.close()


def test_users_are_added_under_role_and_county_names_and_the_form_is_cleared(
    browser, login, server, screenshots
):
    admin = login(browser, server, "admin")
    try:
        page = admin.new_page()
        page.goto(f"{server.url}/admin?lang=en")
        page.wait_for_selector("#user-table")
        page.click("#user-role")
        page.locator(".dash-dropdown-option").first.wait_for(
            timeout=10_000
        )  # the menu renders after the click
        roles = page.locator(".dash-dropdown-option").all_inner_texts()
        assert roles == ["City command centre", "County supervisor", "Inspector", "Administrator"]
        page.keyboard.press("Escape")

        # refused: the reason as an error, the user name kept, the password emptied
        page.fill("#user-name", "sup-gangu")
        pick(page, "user-role", "County supervisor")
        pick(page, "user-county", "Gangu")
        page.fill("#user-password", "short")
        page.click("#user-add")
        page.locator("#user-result .admin-error").wait_for(timeout=FOLLOW_MS)
        assert page.input_value("#user-name") == "sup-gangu" and page.input_value("#user-password") == ""

        page.fill("#user-password", "a long enough password")
        page.click("#user-add")
        page.locator("#user-result .admin-ok", has_text="User added: sup-gangu").wait_for(timeout=FOLLOW_MS)
        assert page.input_value("#user-name") == "" and page.input_value("#user-password") == ""
        assert page.locator("#user-role .dash-dropdown-placeholder").count() == 1
        assert page.locator("#user-county .dash-dropdown-placeholder").count() == 1
        row = page.locator("#user-table tr", has=page.locator("td:text-is('sup-gangu')"))
        assert row.locator("td").all_inner_texts()[1:3] == ["County supervisor", "Gangu"]
        page.screenshot(path=str(screenshots / "admin-user-added-en.png"), full_page=True)
        page.goto(f"{server.url}/admin?lang=zh-CN")
        row = page.locator("#user-table tr", has=page.locator("td:text-is('sup-gangu')"))
        row.wait_for(timeout=FOLLOW_MS)
        assert row.locator("td").all_inner_texts()[1:3] == ["县区监管员", "甘谷县"]
        page.screenshot(path=str(screenshots / "admin-user-added-zh-CN.png"), full_page=True)
    finally:
        admin.close()


def test_retention_shows_the_saved_value_and_when_it_applies(browser, login, server, screenshots):
    data_dir = Path(server.env["WATCHWALL_DATA_DIR"])
    admin = login(browser, server, "admin")
    try:
        page = admin.new_page()
        page.goto(f"{server.url}/admin?lang=en")
        page.wait_for_selector("#retention-days")
        assert page.input_value("#retention-days") == "30"
        assert "without a restart" in page.inner_text("#retention-note")
        page.fill("#retention-days", "0")
        page.click("#retention-save")
        page.locator("#retention-result .admin-error").wait_for(timeout=FOLLOW_MS)
        assert page.input_value("#retention-days") == "30"  # the refused value is not left standing

        page.fill("#retention-days", "14")
        page.click("#retention-save")
        done = page.locator("#retention-result .admin-ok")
        done.wait_for(timeout=FOLLOW_MS)
        assert "kept 14 days" in done.inner_text() and "no restart" in done.inner_text()
        page.reload()
        page.wait_for_selector("#retention-days")
        assert page.input_value("#retention-days") == "14"  # was 30 again before
        page.screenshot(path=str(screenshots / "admin-retention-saved-en.png"), full_page=True)
        page.goto(f"{server.url}/admin?lang=zh-CN")
        page.wait_for_selector("#retention-days")
        assert page.input_value("#retention-days") == "14"
        assert "无需重启" in page.inner_text("#retention-note")
        page.screenshot(path=str(screenshots / "admin-retention-saved-zh-CN.png"), full_page=True)
    finally:
        admin.close()
    saved = yaml.safe_load((data_dir / "watchwall.yaml").read_text(encoding="utf-8"))
    assert saved["retention_days"] == 14
    changes = server.cli("audit", "list", "--json", "--action", "config_change")
    assert '"days": 14' in changes.stdout
