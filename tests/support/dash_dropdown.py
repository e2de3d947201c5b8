"""Choosing an option of a Dash dropdown in Playwright, and making sure it was the one taken."""

from __future__ import annotations

from playwright.sync_api import expect


def pick(page, dropdown: str, option: str) -> None:
    """Choose ``option`` in ``#dropdown``; again if the list re-rendered under the click (options
    that follow another field, such as a centre's rooms, arrive from the server a moment after it
    changed) and another option was taken."""
    for _ in range(3):
        page.click(f"#{dropdown}")
        page.locator(".dash-dropdown-option", has_text=option).first.click()
        try:
            expect(page.locator(f"#{dropdown}")).to_contain_text(option, timeout=2_000)
            return
        except AssertionError:
            page.keyboard.press("Escape")
    raise AssertionError(f"{option!r} could not be chosen in #{dropdown}")
