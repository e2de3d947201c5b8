"""/wall: the city command wall — KPIs, centre board and charts, refreshed by push."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from dash import Input, Output, State, dcc, html

from watchwall.dashboard import figure_cache, figures
from watchwall.dashboard.access import can_see_wall, require
from watchwall.dashboard.auth import current_principal
from watchwall.dashboard.components.county_map import county_map_panel
from watchwall.dashboard.components.incident_items import centre_counts, incident_ticker, place_names
from watchwall.dashboard.components.kpi import kpi_card
from watchwall.dashboard.components.rollcall_control import rollcall_control
from watchwall.dashboard.components.room_list import push_refresh_button
from watchwall.dashboard.components.shell import header
from watchwall.dashboard.components.stream_label import stream_labels
from watchwall.dashboard.components.wall_camera_view import (
    camera_health_table,
    camera_view,
    focused_camera,
    view_labels,
)
from watchwall.dashboard.components.wall_tour import tour_bar, with_ticker_count
from watchwall.dashboard.context import AppContext, current
from watchwall.dashboard.i18n import normalise, t
from watchwall.dashboard.language import page_language
from watchwall.incidents.kinds import SEVERITY
from watchwall.incidents.store import counts_by_centre
from watchwall.metrics import cases, compliance, resources
from watchwall.metrics.headline import headline_figures
from watchwall.metrics.localtime import local_day

CHARTS = ("compliance-county", "compliance-day", "cases-month", "resources-county")
STATES = ("connecting", "online", "stalled", "offline", "error", "stopped")


def layout(lang: str | None = None, **_query) -> html.Div:
    principal = current_principal()
    require(principal is not None and can_see_wall(principal))  # Dash's page router calls this too
    context = current()
    language = page_language(lang)  # a ?lang= choice is remembered for the user
    return html.Div(
        [
            # push.js clicks this hidden button when the server says the figures changed
            html.Button(id="push-refresh", n_clicks=0, hidden=True, className="push-refresh"),
            # wall-tiles.js clicks this one once the live tiles show their first pictures: drawing
            # the charts holds the browser's main thread for a second or more, and the video
            # must not wait for it
            html.Button(id="wall-charts-go", n_clicks=0, hidden=True),
            push_refresh_button("wall-cameras-refresh"),  # cameras.changed: the tour and the ticker's names
            dcc.Store(id="wall-language", data=language),
            # the screen's width, written by wall-tiles.js: the charts' text is sized from it
            dcc.Store(id="wall-viewport", data=None),
            # #camera=ID opens one camera full screen, #centre=CODE its centre's page (browser back closes)
            dcc.Location(id="wall-location", refresh=False),
            header(t("wall.title", language), language, "/wall"),
            html.Section(id="wall-kpis", className="kpi-row"),
            html.Main(
                [
                    html.Section(id="wall-centres", className="centre-board"),
                    html.Section(
                        [
                            with_ticker_count(
                                incident_ticker(
                                    context, language, principal.role in ("city_command", "admin")
                                ),
                                language,
                            ),
                            rollcall_control(context, principal, language),
                            tour_bar(language),
                            html.Div(
                                id="tile-grid",
                                className="tile-grid",
                                **{"data-tour": tour_json(context, language)},
                            ),
                        ],
                        className="live-area",
                    ),
                ],
                className="wall-main",
            ),
            html.Div(
                [html.Section(id="wall-charts", className="chart-row"), county_map_panel("wall", language)],
                className="wall-lower",
            ),
            camera_view(language),
        ],
        className="wall-page",
        lang=language,
    )


def tour_pages(context: AppContext, language: str) -> list[dict]:
    """The cameras of the tour in pages of at most ``wall_tiles``, one centre a page (a centre with
    more cameras takes several pages), each page naming its centre."""
    per_page = context.settings.wall_tiles
    by_centre: dict[str, list[dict]] = {}
    centres = {}
    for place in context.site.cameras():
        if not place.camera.enabled:
            continue
        centre, room, name = (
            place.centre.label.get(language),
            place.room.name.get(language),
            place.camera.name.get(language),
        )
        centres[place.centre.code] = centre
        label = name if room in name else f"{name} · {room}"  # many cameras are named after their room
        by_centre.setdefault(place.centre.code, []).append(
            {
                "id": place.camera.id,
                "name": name,
                "room": room,
                "centre": place.centre.code,
                "label": label,
                # the video's accessible name: the camera and its room (and centre)
                "aria": f"{label}, {centre}",
            }
        )
    pages = []
    for code, cameras in by_centre.items():
        for index in range(0, len(cameras), per_page):
            pages.append(
                {"centre": code, "centre_label": centres[code], "cameras": cameras[index : index + per_page]}
            )
    return pages


def tour_json(context: AppContext, language: str) -> str:
    states = {state: t(f"state.{state}", language) for state in STATES}
    return json.dumps(
        {
            "pages": tour_pages(context, language),
            "interval": context.settings.tour_interval_s,
            "states": states,
            "streams": stream_labels(language),  # which stream a tile shows (wall-tiles.js)
            "severity": SEVERITY,  # an alarm's colour on its tile
            "zone": context.settings.timezone,  # the playback link's times are the site's
            "labels": view_labels(language),
        },
        ensure_ascii=False,
    )


def wall_data(context: AppContext, language: str, now: datetime | None = None) -> dict:
    """Everything the wall shows, from the case database (one connection, plain queries)."""
    now = now or datetime.now(UTC)
    zone = context.settings.zone
    today = local_day(now, zone)
    first, last = compliance.last_30_days(today)
    with context.engine.connect() as connection:
        return {
            "headline": headline_figures(
                connection,
                centres=len(context.site.centres),
                now=now,
                zone=zone,
                windows=context.settings.checkin_windows,
            ),
            "by_day": {
                day: value.rate
                for day, value in compliance.compliance_by_day(connection, first, last).items()
            },
            "cases_by_month_and_type": cases.cases_by_month_and_type(
                connection, months=_months_back(today, 12)
            ),
            "bases_by_county": resources.bases_by_county(connection),
            "staff_by_county": resources.staff_by_county(connection),
        }


def headline_figures_now(context: AppContext) -> dict:
    with context.engine.connect() as connection:
        return headline_figures(
            connection,
            centres=len(context.site.centres),
            now=datetime.now(UTC),
            zone=context.settings.zone,
            windows=context.settings.checkin_windows,
        )


def _months_back(today: date, count: int) -> tuple[str, str]:
    year, month = today.year, today.month - (count - 1)
    while month <= 0:
        year, month = year - 1, month + 12
    return f"{year:04d}-{month:02d}", f"{today.year:04d}-{today.month:02d}"


def kpi_cards(headline: dict, language: str) -> list[html.Div]:
    rate = figures.format_rate
    bases, staff, checkins = headline["bases"], headline["staff"], headline["checkin_compliance"]
    return [
        kpi_card("centres", t("kpi.centres", language), str(headline["centres"])),
        kpi_card("subjects", t("kpi.subjects", language), f"{headline['subjects_under_supervision']:,}"),
        kpi_card(
            "compliance-today",
            t("kpi.compliance_today", language),
            rate(checkins["today"]),
            f"{checkins['today_done']}/{checkins['today_due']} · {t('kpi.pending', language)} {checkins['today_pending']}",
        ),
        kpi_card("compliance-30d", t("kpi.compliance_30d", language), rate(checkins["last_30_days"])),
        kpi_card("cases-month", t("kpi.cases_month", language), str(headline["cases_this_month"])),
        kpi_card(
            "cases-total",
            t("kpi.cases_total", language),
            str(headline["cases_total"]),
            f"{t('kpi.pretrial', language)} {headline['pretrial_evaluations']}",
        ),
        kpi_card(
            "bases",
            t("kpi.bases", language),
            f"{bases['education']} / {bases['public_welfare']} / {bases['employment']}",
        ),
        kpi_card(
            "staff",
            t("kpi.staff", language),
            f"{staff['full_time']} / {staff['public_welfare_posts']} / {staff['certified_officers']}",
        ),
        kpi_card(
            "psych",
            t("kpi.psych", language),
            f"{headline['psych_assessed']} / {headline['reoffending_risk']}",
        ),
    ]


def centre_board(
    context: AppContext, rates: dict[str, float | None], language: str, incidents: dict | None = None
) -> list:
    rows = [html.H2(t("centres.title", language), className="board-title")]
    incidents = incidents or {}
    for centre in context.site.centres:
        cameras = sum(camera.enabled for camera in centre.cameras())
        rows.append(
            html.Div(
                [
                    html.Span(
                        centre.label.get(language), className="centre-name", title=centre.name.get(language)
                    ),
                    html.Span(f"{cameras} {t('centres.cameras', language)}", className="centre-cameras"),
                    html.Span(
                        figures.format_rate(rates.get(centre.code)) if centre.level == "county" else "",
                        className="centre-rate",
                    ),
                    centre_counts(centre.code, incidents.get(centre.code), language),
                ],
                className=f"centre-row level-{centre.level}",
                # wall-tiles.js: a click, Enter or Space shows the centre's cameras
                tabIndex="0",
                role="button",
                **{"data-centre": centre.code, "aria-label": centre.label.get(language)},
            )
        )
    return rows


def charts(context: AppContext, data: dict, language: str, scale: float = 1.0) -> list:
    names = context.county_names(language)
    rates = data["headline"]["checkin_compliance"]["by_county"]
    drawn = {
        "compliance-county": figures.compliance_by_county(rates, names, language, scale),
        "compliance-day": figures.compliance_by_day(data["by_day"], language, scale),
        "cases-month": figures.cases_by_month_and_type(data["cases_by_month_and_type"], language, scale),
        "resources-county": figures.resources_by_county(
            data["bases_by_county"], data["staff_by_county"], names, language, scale
        ),
    }
    return [
        dcc.Graph(
            id=f"chart-{name}",
            className="wall-chart",
            figure=drawn[name],
            config={"displayModeBar": False},
            responsive=True,
        )
        for name in CHARTS
    ]


def register_callbacks(app) -> None:
    @app.callback(
        Output("wall-kpis", "children"),
        Output("wall-centres", "children"),
        Input("push-refresh", "n_clicks"),
        State("wall-language", "data"),
    )
    def refresh_board(_version, language):
        principal = current_principal()
        require(principal is not None and can_see_wall(principal))
        context = current()
        language = normalise(language)
        headline = figure_cache.cached(context, ("wall-headline",), lambda: headline_figures_now(context))
        rates = headline["checkin_compliance"]["by_county"]
        return kpi_cards(headline, language), centre_board(
            context, rates, language, counts_by_centre(context.engine)
        )

    @app.callback(
        Output("wall-charts", "children"),
        Input("wall-charts-go", "n_clicks"),
        Input("push-refresh", "n_clicks"),
        State("wall-language", "data"),
        State("wall-viewport", "data"),
        prevent_initial_call=True,
    )
    def refresh_charts(_go, _version, language, viewport):
        principal = current_principal()
        require(principal is not None and can_see_wall(principal))
        context = current()
        language = normalise(language)
        width = viewport.get("width") if isinstance(viewport, dict) else None
        scale = round(figures.text_scale(width if isinstance(width, int | float) else None), 2)
        return figure_cache.cached(
            context,
            ("wall-charts", language, scale),
            lambda: charts(context, wall_data(context, language), language, scale),
        )

    @app.callback(
        Output("camera-view-health", "children"),
        Input("wall-location", "hash"),
        Input("camera-view-refresh", "n_clicks"),
        State("wall-language", "data"),
        prevent_initial_call=True,
    )
    def refresh_camera_health(hash_, _refresh, language):
        """The health table of the camera opened full screen (its live cells, as /admin shows them)."""
        principal = current_principal()
        require(principal is not None and can_see_wall(principal))
        context = current()
        camera_id = focused_camera(hash_)
        return camera_health_table(context, camera_id, normalise(language)) if camera_id else []

    @app.callback(
        Output("tile-grid", "data-tour"),
        Output("incident-ticker", "data-names"),
        Input("wall-cameras-refresh", "n_clicks"),
        State("wall-language", "data"),
        prevent_initial_call=True,
    )
    def refresh_cameras(_changed, language):
        """The tour and the ticker's camera names again (wall-tiles.js redraws what changed)."""
        principal = current_principal()
        require(principal is not None and can_see_wall(principal))
        context = current()
        language = normalise(language)
        return tour_json(context, language), json.dumps(place_names(context, language), ensure_ascii=False)
