"""The report's plots: pure functions from gathered figures to PNG bytes (matplotlib's Agg canvas,
no pyplot and no global state, so generating reports in threads is safe)."""

from __future__ import annotations

import functools
import io

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from watchwall.dashboard.i18n import t
from watchwall.reports.fonts import plot_font

WIDTH_IN, HEIGHT_IN, DPI = 6.8, 2.6, 150
COLOURS = {
    "ok": "#2e7d32",
    "out_of_area": "#f9a825",
    "missed": "#c62828",
    "recorded": "#1565c0",
    "expected": "#b0bec5",
}


def _figure() -> tuple[Figure, object]:
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    axes.tick_params(labelsize=7)
    axes.set_axisbelow(True)
    axes.grid(axis="y", color="#e0e0e0", linewidth=0.6)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure, axes


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout(pad=0.6)
    # reportlab decodes the PNG and compresses its pixels again: a light PNG compression here is time saved
    figure.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def _in_report_font(plot):
    """Run ``plot`` with the report's font for every text it makes (fonts are fixed at creation)."""

    @functools.wraps(plot)
    def wrapped(*args, **kwargs):
        with rc_context({"font.family": [plot_font()], "axes.unicode_minus": False}):
            return plot(*args, **kwargs)

    return wrapped


def _percent_axis(axes) -> None:
    axes.set_ylim(0, 1.0)
    axes.yaxis.set_major_formatter(lambda value, _position: f"{value:.0%}")


@_in_report_font
def compliance_plot(data: dict, language: str, county_names: dict[str, str]) -> bytes:
    """Daily rate over a month; per county for a city day; slot outcomes for a county day."""
    figure, axes = _figure()
    compliance = data["compliance"]
    by_day = compliance["by_day"]
    if len(by_day) > 1:
        days = sorted(by_day)
        axes.bar([day[8:] for day in days], [by_day[day]["rate"] or 0 for day in days], color=COLOURS["ok"])
        axes.set_xlabel(t("report.plot.day_of_month", language), fontsize=7)
        _percent_axis(axes)
    elif compliance.get("by_county"):
        codes = list(compliance["by_county"])
        axes.bar(
            [county_names.get(code, code) for code in codes],
            [compliance["by_county"][code]["rate"] or 0 for code in codes],
            color=COLOURS["ok"],
        )
        _percent_axis(axes)
    else:
        total = compliance["total"]
        parts = [
            ("ok", total["satisfied"]),
            ("out_of_area", total["out_of_area"]),
            ("missed", total["missed"]),
        ]
        left = 0
        for key, value in parts:
            axes.barh([0], [value], left=left, color=COLOURS[key], label=t(f"report.slot.{key}", language))
            left += value
        axes.set_yticks([])
        axes.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=3, frameon=False)
    axes.set_title(t("report.plot.compliance", language), fontsize=9)
    return _png(figure)


@_in_report_font
def methods_plot(data: dict, language: str) -> bytes:
    figure, axes = _figure()
    methods = data["compliance"]["by_method"]
    names = [t(f"method.{method}", language) for method in methods]
    bottom = [0] * len(names)
    for key in ("ok", "out_of_area", "missed"):
        values = [methods[method][key] for method in methods]
        axes.bar(names, values, bottom=bottom, color=COLOURS[key], label=t(f"report.check.{key}", language))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.legend(fontsize=7)
    axes.set_title(t("report.plot.methods", language), fontsize=9)
    return _png(figure)


@_in_report_font
def coverage_plot(data: dict, language: str) -> bytes:
    """Hours recorded against hours expected, per centre (city) or per room (county)."""
    figure, axes = _figure()
    rooms = data["coverage"]["rooms"]
    key = "room_name" if data["report"]["scope"] != "city" else "centre_name"
    groups: dict[str, list[float]] = {}
    for room in rooms:
        name = room[key]["en" if language == "en" else "zh"]
        totals = groups.setdefault(name, [0.0, 0.0])
        totals[0] += room["recorded_h"]
        totals[1] += room["expected_h"]
    names = list(groups)
    positions = range(len(names))
    axes.bar(
        [p - 0.2 for p in positions],
        [groups[n][1] for n in names],
        0.4,
        color=COLOURS["expected"],
        label=t("report.coverage.expected_h", language),
    )
    axes.bar(
        [p + 0.2 for p in positions],
        [groups[n][0] for n in names],
        0.4,
        color=COLOURS["recorded"],
        label=t("report.coverage.recorded_h", language),
    )
    axes.set_xticks(
        list(positions),
        names,
        rotation=30 if len(names) > 5 else 0,
        ha="right" if len(names) > 5 else "center",
    )
    axes.legend(fontsize=7)
    axes.set_title(t("report.plot.coverage", language), fontsize=9)
    return _png(figure)


@_in_report_font
def incidents_plot(data: dict, language: str) -> bytes:
    figure, axes = _figure()
    by_kind = data["incidents"]["by_kind"]
    kinds = list(by_kind)
    positions = range(len(kinds))
    for offset, (key, colour) in zip(
        (-0.27, 0, 0.27), (("opened", "#1565c0"), ("closed", "#2e7d32"), ("overdue", "#c62828")), strict=True
    ):
        axes.bar(
            [p + offset for p in positions],
            [by_kind[k][key] for k in kinds],
            0.27,
            color=colour,
            label=t(f"report.incidents.{key}", language),
        )
    axes.set_xticks(list(positions), kinds)
    axes.legend(fontsize=7)
    axes.set_title(t("report.plot.incidents", language), fontsize=9)
    return _png(figure)
