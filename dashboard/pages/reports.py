"""/reports: the signed supervision reports the user may read, with their downloads.

County supervisors see their county's, city command and inspectors all (an inspector assigned
to counties, those counties'). The list is read from the reports folder; downloads go through
``dashboard/report_routes.py``, which checks the same rule again and audits each one.
"""

from __future__ import annotations

from dash import html

from watchwall.dashboard.access import can_read_report, require
from watchwall.dashboard.auth import current_principal
from watchwall.dashboard.components.panel_style import PANEL
from watchwall.dashboard.components.shell import header
from watchwall.dashboard.context import current
from watchwall.dashboard.i18n import normalise, t
from watchwall.reports.store import StoredReport, list_reports

CELL = {"padding": "4px 10px", "textAlign": "left", "borderBottom": "1px solid rgba(255,255,255,0.12)"}
LINK = {"color": "#64b5f6"}


def visible_reports(principal, data_dir) -> list[StoredReport]:
    return [report for report in list_reports(data_dir) if can_read_report(principal, report.scope)]


def _scope_name(scope: str, language: str) -> str:
    if scope == "city":
        return t("report.scope.city", language)
    try:
        return current().site.centre(scope).label.get(language)
    except KeyError:
        return scope


def _row(report: StoredReport, language: str) -> html.Tr:
    cells = [
        report.period,
        t(f"reports.kind.{report.kind}", language),
        _scope_name(report.scope, language),
        report.language,
        f"{report.size / 1024:,.0f} KB",
    ]
    links = html.Td(
        [
            html.A(
                t("reports.download", language),
                href=f"/reports/download/{report.report_id}",
                className="report-pdf",
                style=LINK,
            ),
            " · ",
            html.A(
                t("reports.signature", language), href=f"/reports/signature/{report.report_id}", style=LINK
            ),
        ],
        style=CELL,
    )
    return html.Tr([html.Td(cell, style=CELL) for cell in cells] + [links], id=f"report-{report.report_id}")


def layout(lang: str | None = None, **_query) -> html.Div:
    principal = current_principal()
    require(principal is not None)
    context = current()
    language = normalise(lang or context.settings.language)
    reports = visible_reports(principal, context.settings.data_dir)
    heads = ("period", "kind", "scope", "language", "size", "download")
    if reports:
        body = html.Table(
            [
                html.Thead(html.Tr([html.Th(t(f"reports.{k}", language), style=CELL) for k in heads])),
                html.Tbody([_row(report, language) for report in reports]),
            ],
            id="reports-table",
            style={"borderCollapse": "collapse", "width": "100%"},
        )
    else:
        body = html.P(t("reports.none", language), id="reports-none")
    return html.Div(
        [
            header(t("reports.title", language), language, "/reports"),
            html.Section(
                [html.P(t("reports.hint", language), style={"opacity": 0.75, "marginTop": 0}), body],
                style=PANEL,
            ),
        ]
    )
