"""The report's PDF: gathered figures and plots laid out with reportlab, set in the shipped CJK font.

One function, :func:`render_pdf`, from the figures dict to PDF bytes. Every number is formatted
here by the same helpers (``percent``, ``number``), so a reader of the text finds the figures
exactly as ``watchwall metrics`` prints them (rates as ``93.4%``).
"""

from __future__ import annotations

import io
from datetime import datetime

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import Image, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from watchwall.dashboard.i18n import t
from watchwall.reports import plots
from watchwall.reports.fonts import pdf_font

# Binary image and font streams: ASCII85 makes them a quarter bigger, and reportlab's encoder for it
# is pure Python here (no rl_accel), a measurable share of a report's time.
rl_config.useA85 = 0
PAGE_WIDTH = A4[0] - 3.6 * cm


def percent(value: float | None) -> str:
    """A rate as ``watchwall metrics`` prints it (one decimal), or a dash."""
    return "-" if value is None else f"{value:.1%}"


def number(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"


def minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f}"


class Styles:
    def __init__(self) -> None:
        font = pdf_font()
        self.title = ParagraphStyle("title", fontName=font, fontSize=17, leading=23, spaceAfter=6)
        self.h2 = ParagraphStyle("h2", fontName=font, fontSize=12.5, leading=17, spaceBefore=10, spaceAfter=4)
        self.body = ParagraphStyle("body", fontName=font, fontSize=9, leading=13, alignment=TA_LEFT)
        self.small = ParagraphStyle("small", fontName=font, fontSize=7.5, leading=10, textColor=colors.grey)
        self.notice = ParagraphStyle(
            "notice", parent=self.body, textColor=colors.HexColor("#b71c1c"), fontSize=11
        )
        self.font = font

    def table(self, rows: list[list], widths: list[float] | None = None) -> Table:
        cells = [[Paragraph(str(cell), self.body) for cell in row] for row in rows]
        table = Table(cells, colWidths=widths, repeatRows=1, hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3eaf2")),
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#b0bec5")),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("TOPPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        return table


def _image(png: bytes) -> Image:
    width = PAGE_WIDTH
    height = width * plots.HEIGHT_IN / plots.WIDTH_IN
    return Image(io.BytesIO(png), width=width, height=height)


def render_pdf(
    data: dict, *, scope_name: str, county_names: dict[str, str], site_name: str, generated: datetime
) -> bytes:
    language = data["report"]["language"]
    styles = Styles()

    def tr(key: str, **values) -> str:
        text = t(key, language)
        return text.format(**values) if values else text

    report = data["report"]
    title = ("" if language == "zh-CN" else " ").join(
        filter(None, (site_name, tr(f"report.title.{report['kind']}")))
    )
    story = [
        Paragraph(title, styles.title),
        Paragraph(f"{scope_name} · {tr('report.period')} {report['period']}", styles.h2),
        Paragraph(
            f"{tr('report.as_of')} {report['as_of']} · {tr('report.generated')} "
            f"{generated.isoformat(timespec='seconds')} · {tr('report.id')} {report['id']}",
            styles.small,
        ),
        Spacer(1, 6),
    ]
    if not data["has_data"]:
        story += [Paragraph(tr("report.no_data"), styles.notice), Spacer(1, 6)]
    story += _headline(data, tr, styles)
    story += _compliance(data, tr, styles, county_names, language)
    story += _incidents(data, tr, styles, language)
    story += _rollcalls(data, tr, styles)
    story += _uptime(data, tr, styles, language)
    story += _coverage(data, tr, styles, language)
    story += _inspection(data, tr, styles)
    story += _cases(data, tr, styles, language)
    story += [PageBreak(), Paragraph(tr("report.section.definitions"), styles.h2)]
    for key in (
        "headline",
        "compliance",
        "today",
        "last_30_days",
        "methods",
        "incidents",
        "rollcalls",
        "uptime",
        "coverage",
        "inspection",
        "cases",
    ):
        story += [Paragraph(tr(f"report.def.{key}"), styles.body), Spacer(1, 4)]
    story += [Spacer(1, 8), Paragraph(tr("report.signed"), styles.small)]

    def footer(canvas, document) -> None:
        canvas.saveState()
        canvas.setFont(styles.font, 7.5)
        canvas.setFillColor(colors.grey)
        canvas.drawString(1.8 * cm, 1.1 * cm, f"{report['id']}")
        canvas.drawRightString(A4[0] - 1.8 * cm, 1.1 * cm, tr("report.page", page=document.page))
        canvas.restoreState()

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=1.8 * cm,
        rightMargin=1.8 * cm,
        topMargin=1.6 * cm,
        bottomMargin=1.8 * cm,
        title=title,
        author="WatchWall",
        subject=report["id"],
        creator="WatchWall",
        lang="en" if language == "en" else "zh-CN",
    )
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _headline(data, tr, styles) -> list:
    h = data["headline"]
    rates = h["checkin_compliance"]
    rows = [
        [tr("report.headline.as_of"), h["as_of"]],
        [tr("report.headline.centres"), number(h["centres"])],
        [tr("report.headline.subjects"), number(h["subjects_under_supervision"])],
        [tr("report.headline.today"), percent(rates["today"])],
        [tr("report.headline.last_30_days"), percent(rates["last_30_days"])],
    ]
    scope = data["report"]["scope"]
    if scope != "city":
        rows.append([tr("report.headline.county_30_days"), percent(rates["by_county"].get(scope))])
    rows += [
        [tr("report.headline.cases_total"), number(h["cases_total"])],
        [tr("report.headline.pretrial"), number(h["pretrial_evaluations"])],
        [tr("report.headline.cases_this_month"), number(h["cases_this_month"])],
        [
            tr("report.headline.bases"),
            " / ".join(number(h["bases"][k]) for k in ("education", "public_welfare", "employment")),
        ],
        [
            tr("report.headline.staff"),
            " / ".join(
                number(h["staff"][k]) for k in ("full_time", "public_welfare_posts", "certified_officers")
            ),
        ],
        [tr("report.headline.psych"), f"{number(h['psych_assessed'])} / {number(h['reoffending_risk'])}"],
        [tr("report.headline.archives"), number(h["archives_digitised"])],
    ]
    return [Paragraph(tr("report.section.headline"), styles.h2), styles.table(rows, [9 * cm, 8 * cm])]


def _compliance_row(label: str, figures: dict) -> list:
    return [
        label,
        number(figures["required"]),
        number(figures["satisfied"]),
        number(figures["out_of_area"]),
        number(figures["missed"]),
        percent(figures["rate"]),
    ]


def _compliance(data, tr, styles, county_names, language) -> list:
    compliance = data["compliance"]
    head = [tr(f"report.compliance.{k}") for k in ("required", "satisfied", "out_of_area", "missed", "rate")]
    story = [Paragraph(tr("report.section.compliance"), styles.h2)]
    rows = [
        [tr("report.compliance.day"), *head],
        _compliance_row(tr("report.compliance.total"), compliance["total"]),
    ]
    if data["report"]["kind"] == "monthly":
        rows += [_compliance_row(day, figures) for day, figures in compliance["by_day"].items()]
    story.append(styles.table(rows))
    if compliance.get("by_county"):
        rows = [[tr("report.compliance.county"), *head]]
        rows += [_compliance_row(county_names.get(c, c), f) for c, f in compliance["by_county"].items()]
        story += [Spacer(1, 4), styles.table(rows)]
    methods = compliance["by_method"]
    rows = [
        [
            tr("report.compliance.method"),
            tr("report.compliance.checks"),
            *(tr(f"report.check.{k}") for k in ("ok", "missed", "out_of_area")),
        ]
    ]
    rows += [
        [
            t(f"method.{m}", language),
            number(v["checks"]),
            number(v["ok"]),
            number(v["missed"]),
            number(v["out_of_area"]),
        ]
        for m, v in methods.items()
    ]
    story += [Spacer(1, 4), styles.table(rows)]
    if compliance["total"]["required"]:
        story += [Spacer(1, 4), _image(plots.compliance_plot(data, language, county_names))]
    if methods:
        story.append(_image(plots.methods_plot(data, language)))
    return story


def _incidents(data, tr, styles, language) -> list:
    story = [Paragraph(tr("report.section.incidents"), styles.h2)]
    incidents = data["incidents"]
    if incidents is None:
        return story + [Paragraph(tr("report.incidents.none"), styles.body)]
    keys = ("opened", "closed", "overdue", "open_at_end")
    rows = [
        [
            tr("report.incidents.kind"),
            *(tr(f"report.incidents.{k}") for k in keys),
            tr("report.incidents.ack_median"),
            tr("report.incidents.close_median"),
        ]
    ]
    for kind, figures in incidents["by_kind"].items():
        rows.append(
            [
                kind,
                *(number(figures[k]) for k in keys),
                minutes(figures["ack_median_s"]),
                minutes(figures["close_median_s"]),
            ]
        )
    rows.append([tr("report.incidents.total"), *(number(incidents["total"][k]) for k in keys), "", ""])
    story.append(styles.table(rows))
    if incidents["by_kind"]:
        story.append(_image(plots.incidents_plot(data, language)))
    return story


def _rollcalls(data, tr, styles) -> list:
    story = [Paragraph(tr("report.section.rollcalls"), styles.h2)]
    rollcalls = data["rollcalls"]
    if rollcalls is None:
        return story + [Paragraph(tr("report.rollcalls.none"), styles.body)]
    rows = [[tr("report.rollcalls.result"), tr("report.rollcalls.count")]]
    rows += [[result, number(count)] for result, count in rollcalls["by_result"].items()]
    rows.append([tr("report.rollcalls.total"), number(rollcalls["total"])])
    return story + [styles.table(rows, [9 * cm, 4 * cm])]


def _name(names: dict, language: str) -> str:
    return names["en" if language == "en" else "zh"]


def _uptime(data, tr, styles, language) -> list:
    story = [Paragraph(tr("report.section.uptime"), styles.h2)]
    rooms = data["coverage"]["rooms"]
    if not rooms:
        return story + [Paragraph(tr("report.uptime.none"), styles.body)]
    rows = [[tr(f"report.uptime.{k}") for k in ("centre", "room", "cameras", "uptime", "coverage")]]
    rows += [
        [
            _name(r["centre_name"], language),
            _name(r["room_name"], language),
            number(r["cameras"]),
            percent(r["uptime"]),
            percent(r["coverage"]),
        ]
        for r in rooms
    ]
    return story + [styles.table(rows)]


def _coverage(data, tr, styles, language) -> list:
    coverage = data["coverage"]
    story = [Paragraph(tr("report.section.coverage"), styles.h2)]
    rows = [
        [tr("report.coverage.recorded_h"), tr("report.coverage.expected_h"), tr("report.coverage.rate")],
        [number(coverage["recorded_h"]), number(coverage["expected_h"]), percent(coverage["rate"])],
    ]
    story.append(styles.table(rows))
    gaps = coverage["gaps_h_by_reason"]
    if gaps:
        rows = [[tr("report.coverage.reason"), tr("report.coverage.gap_h")]]
        rows += [[t(f"rec.gap.{reason}", language), number(hours)] for reason, hours in gaps.items()]
        story += [Spacer(1, 4), styles.table(rows, [9 * cm, 4 * cm])]
    else:
        story.append(Paragraph(tr("report.coverage.no_gaps"), styles.body))
    if coverage["rooms"]:
        story.append(_image(plots.coverage_plot(data, language)))
    return story


def _action_name(action: str, tr) -> str:
    key = "report.action.report_download" if action == "report_download" else f"rec.action.{action}"
    return tr(key)


def _inspection(data, tr, styles) -> list:
    inspection = data["inspection"]
    story = [Paragraph(tr("report.section.inspection"), styles.h2)]
    actions = list(inspection["by_action"])
    rows = [[tr("report.inspection.action"), *(_action_name(a, tr) for a in actions)]]
    rows.append([tr("report.inspection.count"), *(number(inspection["by_action"][a]) for a in actions)])
    story.append(styles.table(rows))
    if inspection["by_actor"]:
        rows = [[tr("report.inspection.actor"), *(_action_name(a, tr) for a in actions)]]
        rows += [
            [actor, *(number(counts.get(a, 0)) for a in actions)]
            for actor, counts in inspection["by_actor"].items()
        ]
        story += [Spacer(1, 4), styles.table(rows)]
    else:
        story.append(Paragraph(tr("report.inspection.none"), styles.body))
    return story


def _cases(data, tr, styles, language) -> list:
    cases = data["cases"]
    story = [Paragraph(tr("report.section.cases"), styles.h2)]
    rows = [[tr("report.cases.type"), tr("report.cases.count")]]
    rows += [
        [t(f"case.{case_type}", language), number(count)] for case_type, count in cases["by_type"].items()
    ]
    rows.append([tr("report.cases.total"), number(cases["total"])])
    story += [
        Paragraph(tr("report.cases.month", month=cases["month"]), styles.body),
        styles.table(rows, [9 * cm, 4 * cm]),
    ]
    rows = [[tr("report.bases.kind"), tr("report.bases.count")]]
    rows += [[t(f"base.{kind}", language), number(count)] for kind, count in data["bases"].items()]
    return story + [Spacer(1, 4), styles.table(rows, [9 * cm, 4 * cm])]
