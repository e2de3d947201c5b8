"""The page frame: title bar with navigation, clock, push status and the language switch."""

from __future__ import annotations

from dash import dcc, html

from watchwall.dashboard.components.nav import page_nav
from watchwall.dashboard.context import current
from watchwall.dashboard.i18n import t


def header(title: str, language: str, path: str) -> html.Header:
    other = "en" if language == "zh-CN" else "zh-CN"
    return html.Header(
        [
            html.H1(title, className="wall-title"),
            page_nav(language, path),
            html.Div(
                [
                    html.Span(
                        t("status.disconnected", language),
                        id="push-status",
                        className="push-status offline",
                        **{
                            "data-online": t("status.connected", language),
                            "data-offline": t("status.disconnected", language),
                        },
                    ),
                    # the site's time zone, not the browser's: the clock shows the date the data has
                    html.Time(
                        id="wall-clock",
                        className="wall-clock",
                        **{"data-zone": current().settings.timezone},
                    ),
                    dcc.Link(
                        t("nav.language", language),
                        href=f"{path}?lang={other}",
                        className="lang-switch",
                        id="lang-switch",
                    ),
                    html.Form(
                        html.Button(t("nav.logout", language), type="submit", className="logout-button"),
                        action="/logout",
                        method="post",
                        className="logout-form",
                    ),
                ],
                className="header-right",
            ),
        ],
        className="wall-header",
        lang=language,  # assets/page-lang.js copies it to <html lang> on every page change
    )
