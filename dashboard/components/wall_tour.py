"""The wall's tour controls (centre named, page indicator, previous / pause / next) and the ticker's
count. wall-tiles.js drives them; Dash only draws them once."""

from __future__ import annotations

from dash import html

from watchwall.dashboard.i18n import t


def tour_bar(language: str) -> html.Div:
    def button(button_id: str, key: str, text: str) -> html.Button:
        return html.Button(
            text,
            id=button_id,
            className="tour-button",
            type="button",
            title=t(key, language),
            **{"aria-label": t(key, language)},
        )

    return html.Div(
        [
            html.H2(id="tour-centre", className="tour-centre"),
            html.Span(
                id="tour-page",
                className="tour-page",
                role="status",
                **{"data-template": t("wall.tour.page", language)},
            ),
            button("tour-prev", "wall.tour.prev", "◀"),
            html.Button(
                "❚❚",
                id="tour-pause",
                className="tour-button",
                type="button",
                title=t("wall.tour.pause", language),
                **{
                    "aria-label": t("wall.tour.pause", language),
                    "aria-pressed": "false",
                    "data-pause": t("wall.tour.pause", language),
                    "data-resume": t("wall.tour.resume", language),
                },
            ),
            button("tour-next", "wall.tour.next", "▶"),
            # other wall tools (the roll-call button) go here
            html.Div(id="wall-tools", className="wall-tools"),
        ],
        className="tour-bar",
        id="tour-bar",
    )


def with_ticker_count(ticker_bar: html.Div, language: str) -> html.Div:
    """The ticker bar with a count of its items beside its title (wall-tiles.js keeps it)."""
    count = html.Span(
        "0",
        id="ticker-count",
        className="ticker-count",
        title=t("wall.ticker.count", language),
        **{"aria-label": t("wall.ticker.count", language)},
    )
    ticker_bar.children = [ticker_bar.children[0], count, *ticker_bar.children[1:]]
    return ticker_bar
