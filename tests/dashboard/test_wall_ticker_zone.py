"""The wall's ticker gives incident times in the site's zone (Asia/Shanghai), not the browser's."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

SHANGHAI = ZoneInfo("Asia/Shanghai")
pytestmark = [pytest.mark.browser]

OPEN_INCIDENTS = """() => new Promise((resolve) =>
  window.watchwallSocket.emit("incidents.open", {}, (answer) => resolve(answer)))"""


def test_a_browser_in_utc_shows_ticker_times_in_shanghai(login, browser, served):
    context = login(browser, served, "command", viewport={"width": 1920, "height": 1080}, timezone_id="UTC")
    page = context.new_page()
    try:
        page.goto(f"{served.url}/wall?lang=en")
        page.wait_for_selector(".push-status.online", timeout=30_000)
        page.wait_for_selector("#incident-ticker .incident-item", timeout=30_000)
        assert page.evaluate("new Date().getTimezoneOffset()") == 0  # the browser is in UTC
        answer = page.evaluate(OPEN_INCIDENTS)
        assert answer["ok"], answer
        opened = {str(item["id"]): item["opened_at"] for item in answer["incidents"] if item.get("opened_at")}
        items = page.locator("#incident-ticker .incident-item")
        checked = 0
        for index in range(min(items.count(), 5)):
            item = items.nth(index)
            incident = item.get_attribute("data-incident")
            if incident not in opened:
                continue
            moment = datetime.fromisoformat(opened[incident].replace("Z", "+00:00"))
            local = moment.astimezone(SHANGHAI).strftime("%H:%M:%S")
            utc = moment.astimezone(ZoneInfo("UTC")).strftime("%H:%M:%S")
            text = item.inner_text()
            assert local in text and local != utc, (text, local, utc)
            checked += 1
        assert checked, "no ticker item with an opening time"
    finally:
        context.close()
