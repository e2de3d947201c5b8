"""Every page in both languages, in Chromium: rendered, no boxes for Chinese, no sideways scrolling."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser]

PAGES = [
    ("login", None, "/login"),
    ("centre", "sup-qinzhou", "/centres/qinzhou"),
    ("admin", "admin", "/admin"),
    ("forbidden", "sup-maiji", "/centres/qinzhou"),
]


@pytest.mark.parametrize("language", ["zh-CN", "en"])
@pytest.mark.parametrize(("name", "user", "path"), PAGES, ids=[page[0] for page in PAGES])
def test_page_renders_cleanly(login, browser, served, screenshots, name, user, path, language):
    options = {"viewport": {"width": 1920, "height": 1080}}
    context = login(browser, served, user, **options) if user else browser.new_context(**options)
    page = context.new_page()
    try:
        response = page.goto(f"{served.url}{path}?lang={language}")
        if name == "forbidden":
            assert response.status == 403
        else:
            assert response.status == 200
            if name != "login":
                page.wait_for_selector(".wall-header .push-status.online", timeout=30_000)
                page.wait_for_load_state("networkidle", timeout=30_000)
        page.screenshot(path=str(screenshots / f"{name}-{language}-1080p.png"))
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        if language == "zh-CN":
            text = page.inner_text("body")
            chinese = [c for c in text if "\u4e00" <= c <= "\u9fff"]
            assert chinese, f"{name}: no Chinese text in the zh-CN page"
            loaded = page.evaluate(
                "document.fonts.ready.then(() => [...document.fonts].filter(f => f.family.includes('Noto Sans SC')"
                " && f.status === 'loaded').length)"
            )
            assert loaded >= 1, f"{name}: the shipped Chinese font was not used"
    finally:
        context.close()
