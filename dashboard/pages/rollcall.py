"""/rollcall: start a roll-call (city command, or a county supervisor for their own centre), watch it
live, and its history with filters (county, date, result), each result with its clip.

Inspectors read the history only. Everyone sees only the roll-calls of the centres they may see.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from dash import Input, Output, State, dcc, html

from watchwall.dashboard import access
from watchwall.dashboard.auth import current_principal
from watchwall.dashboard.components.rollcall_control import ROLLCALL_PUSH, rollcall_control
from watchwall.dashboard.components.shell import header
from watchwall.dashboard.context import AppContext, current
from watchwall.dashboard.i18n import normalise, t
from watchwall.dashboard.language import page_language
from watchwall.dashboard.rollcall_routes import clip_url
from watchwall.rollcall import rules
from watchwall.rollcall.models import NO_ANSWER, NO_FACE, NO_RECORDING, STATES
from watchwall.rollcall.store import list_calls

RESULTS = (*STATES, NO_ANSWER, NO_FACE, NO_RECORDING)
HISTORY_LIMIT = 500


def _reader():
    principal = current_principal()
    access.require(
        principal is not None
        and principal.role in ("city_command", "county_supervisor", "inspector", "admin")
    )
    return principal


def readable_counties(context: AppContext, principal) -> list[str]:
    return [centre.code for centre in context.site.counties if rules.can_read(principal, centre.code)]


def layout(lang: str | None = None, **_query) -> html.Div:
    principal = _reader()
    context = current()
    language = page_language(lang)
    counties = readable_counties(context, principal)
    names = {centre.code: centre.label.get(language) for centre in context.site.counties}
    parts = [
        html.Button(
            id="rollcall-history-refresh", n_clicks=0, hidden=True, **{"data-push-refresh": ROLLCALL_PUSH}
        ),
        dcc.Store(id="rollcall-page-language", data=language),
        header(t("rollcall.title", language), language, "/rollcall"),
    ]
    if rules.can_start_any(principal):
        parts.append(rollcall_control(context, principal, language, choose_camera=True))
    else:
        parts.append(html.Div(id="rollcall-board", className="rollcall-board"))
    parts.append(
        html.Section(
            [
                html.H2(t("rollcall.history", language)),
                html.Div(
                    [
                        dcc.Dropdown(
                            id="rollcall-filter-county",
                            options=[{"label": names[code], "value": code} for code in counties],
                            placeholder=t("rollcall.filter.county", language),
                            className="rollcall-filter",
                        ),
                        html.Div(
                            dcc.DatePickerSingle(
                                id="rollcall-filter-day",
                                display_format="YYYY-MM-DD",
                                placeholder=t("rollcall.filter.day", language),
                                clearable=True,
                            ),
                            className="rollcall-filter-day",
                        ),
                        dcc.Dropdown(
                            id="rollcall-filter-result",
                            options=[
                                {"label": t(f"rollcall.result.{r}", language), "value": r} for r in RESULTS
                            ],
                            placeholder=t("rollcall.filter.result", language),
                            className="rollcall-filter",
                        ),
                    ],
                    className="rollcall-filters",
                ),
                html.Table(id="rollcall-history", className="rollcall-history"),
            ],
            className="rollcall-history-section",
        )
    )
    return html.Div(parts, className="rollcall-page", lang=language)


def _local(iso_text: str | None, context: AppContext) -> str:
    if not iso_text:
        return ""
    moment = datetime.fromisoformat(iso_text.replace("Z", "+00:00")).astimezone(context.settings.zone)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def recordings_link(call: dict, context: AppContext) -> str:
    """The clip on /recordings (play, export as an evidence package): its camera, day and start."""
    start = datetime.fromisoformat(call["clip_start_at"].replace("Z", "+00:00"))
    end = call["clip_end_at"] or call["clip_start_at"]
    query = {
        "camera": call["camera_id"],
        "day": start.astimezone(context.settings.zone).date().isoformat(),
        "from": call["clip_start_at"],
        "to": end,
    }
    return "/recordings?" + urlencode(query)


def result_text(call: dict, language: str) -> str:
    text = t(f"rollcall.state.{call['state']}", language)
    if call["reason"]:
        text += " · " + t(f"rollcall.reason.{call['reason']}", language)
    return text


def history_rows(context: AppContext, principal, calls: list[dict], language: str) -> list:
    cameras = {place.camera.id: place.camera.name.get(language) for place in context.site.cameras()}
    centres = {centre.code: centre.label.get(language) for centre in context.site.centres}
    head = html.Tr(
        [
            html.Th(t(f"rollcall.col.{name}", language))
            for name in ("called", "centre", "camera", "result", "answer", "face", "answered_by", "clip")
        ]
    )
    rows = [head]
    for call in calls:
        face = call["face_present"]
        links = []
        if call["clip_end_at"]:
            links.append(
                html.A(
                    t("rollcall.play", language),
                    href=clip_url(call["id"]),
                    target="_blank",
                    className="clip-link",
                )
            )
            if access.can_see_recordings(principal, call["county"]):
                links.append(
                    html.A(
                        t("rollcall.recordings", language),
                        href=recordings_link(call, context),
                        className="rec-link",
                    )
                )
        if call["incident_id"]:
            links.append(
                html.Span(
                    f"{t('rollcall.incident', language)} #{call['incident_id']}", className="incident-ref"
                )
            )
        rows.append(
            html.Tr(
                [
                    html.Td(_local(call["called_at"], context)),
                    html.Td(centres.get(call["county"], call["county"])),
                    html.Td(cameras.get(call["camera_id"], call["camera_id"])),
                    html.Td(result_text(call, language), className=f"result-{call['state']}"),
                    html.Td("" if call["time_to_answer_s"] is None else f"{call['time_to_answer_s']:.1f} s"),
                    html.Td(
                        ""
                        if face is None
                        else f"{t('rollcall.face.yes' if face else 'rollcall.face.no', language)} "
                        f"({call['frames_with_face']}/{call['frames_checked']})"
                    ),
                    html.Td(call["answered_by"] or ""),
                    html.Td(links, className="rollcall-links"),
                ],
                className=f"rollcall-row state-{call['state']}",
                **{"data-call": str(call["id"]), "data-county": call["county"]},
            )
        )
    if len(rows) == 1:
        rows.append(html.Tr(html.Td(t("rollcall.history_empty", language), colSpan=8)))
    return rows


def register_callbacks(app) -> None:
    @app.callback(
        Output("rollcall-history", "children"),
        Input("rollcall-history-refresh", "n_clicks"),
        Input("rollcall-filter-county", "value"),
        Input("rollcall-filter-day", "date"),
        Input("rollcall-filter-result", "value"),
        State("rollcall-page-language", "data"),
    )
    def _history(_refresh, county, day, result, language):
        principal = _reader()
        context = current()
        language = normalise(language)
        counties = readable_counties(context, principal)
        if county and county not in counties:
            raise access.Forbidden()
        since = until = None
        if day:
            local = datetime.combine(
                date.fromisoformat(day[:10]), datetime.min.time(), tzinfo=context.settings.zone
            )
            since, until = local.astimezone(UTC), (local + timedelta(days=1)).astimezone(UTC)
        calls = list_calls(
            context.engine,
            counties=counties,
            county=county or None,
            result=result if result in RESULTS else None,
            since=since,
            until=until,
            limit=HISTORY_LIMIT,
        )
        return history_rows(context, principal, calls, language)
