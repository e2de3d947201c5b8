"""Figure builders are pure functions of query results."""

from __future__ import annotations

from datetime import date, timedelta

from watchwall.dashboard import figures
from watchwall.dashboard.i18n import LANGUAGES, strings, t

NAMES = {"qinzhou": "秦州区", "maiji": "麦积区"}


def test_every_language_has_every_key():
    keys = [set(strings(language)) for language in LANGUAGES]
    assert keys[0] == keys[1]


def test_missing_translation_shows_the_key():
    assert t("no.such.key", "en") == "no.such.key"
    assert t("kpi.subjects", "english") == strings("en")["kpi.subjects"]


def test_compliance_by_county_keeps_site_order_and_labels():
    figure = figures.compliance_by_county({"maiji": 0.9, "qinzhou": 0.99, "other": None}, NAMES, "zh-CN")
    bar = figure.data[0]
    assert list(bar.x) == ["秦州区", "麦积区", "other"]
    assert list(bar.text) == ["99.0%", "90.0%", "–"]
    assert figure.layout.title.text == t("chart.compliance_county", "zh-CN")


def test_cases_by_month_and_type_stacks_every_type_over_all_months():
    figure = figures.cases_by_month_and_type(
        {"pretrial_evaluation": {"2026-01": 3}, "correction_reception": {"2026-02": 5}}, "en"
    )
    assert figure.layout.barmode == "stack"
    assert {trace.name for trace in figure.data} == {"Pre-trial evaluation", "Correction reception"}
    for trace in figure.data:
        assert list(trace.x) == ["2026-01", "2026-02"]
    assert sum(sum(trace.y) for trace in figure.data) == 8


def test_resources_by_county_reads_county_kind_tables():
    figure = figures.resources_by_county(
        {"qinzhou": {"education": 2}, "maiji": {"education": 1, "employment": 4}},
        {"qinzhou": {"full_time": 5}},
        NAMES,
        "en",
    )
    by_name = {trace.name: list(trace.x) for trace in figure.data}
    assert by_name == {"Education bases": [2, 1], "Employment bases": [0, 4], "Full-time staff": [5, 0]}
    assert list(figure.data[0].y) == ["秦州区", "麦积区"]


def test_compliance_by_day_in_order_and_rates():
    figure = figures.compliance_by_day({date(2026, 11, 2): 0.97, date(2026, 11, 1): None}, "en")
    assert list(figure.data[0].x) == ["2026-11-01", "2026-11-02"]
    assert figures.format_rate(0.9734) == "97.3%" and figures.format_rate(None) == "–"


def text_sizes(figure) -> list[float]:
    """Every font size the figure sets (layout, title, legend, axes, annotations)."""
    layout = figure.layout
    sizes = [layout.font.size, layout.title.font.size, layout.legend.font.size]
    sizes += [annotation.font.size for annotation in layout.annotations or ()]
    for axis in (layout[name] for name in ("xaxis", "yaxis", "xaxis2", "yaxis2") if name in layout):
        if axis is not None and axis.tickfont.size is not None:
            sizes.append(axis.tickfont.size)
    return [size for size in sizes if size is not None]


def test_a_4k_screen_draws_every_chart_text_at_20_px_or_more():
    scale = figures.text_scale(3840)
    assert scale == 2.0 and figures.text_scale(1920) == 1.0 and figures.text_scale(None) == 1.0
    drawn = [
        figures.compliance_by_county({"qinzhou": 0.9}, NAMES, "en", scale),
        figures.compliance_by_day({date(2026, 11, 1): 0.97}, "en", scale),
        figures.cases_by_month_and_type({"pretrial_evaluation": {"2026-01": 3}}, "en", scale),
        figures.resources_by_county({"qinzhou": {"education": 2}}, {}, NAMES, "en", scale),
    ]
    for figure in drawn:
        assert min(text_sizes(figure)) >= 20, (figure.layout.title.text, text_sizes(figure))
    # plotly must not shrink the bars' labels to fit
    assert drawn[0].data[0].constraintext == "none"


def test_chinese_charts_write_their_dates_in_chinese():
    days = {date(2026, 11, 1) + timedelta(days=offset): 0.97 for offset in range(30)}
    by_day = figures.compliance_by_day(days, "zh-CN")
    labels = list(by_day.layout.xaxis.ticktext)
    assert labels[-1] == "11月30日" and all(label.endswith("日") and "月" in label for label in labels)
    assert list(by_day.layout.xaxis.tickvals)[-1] == "2026-11-30"
    english = figures.compliance_by_day(days, "en")
    assert list(english.layout.xaxis.ticktext)[-1] == "Nov 30"
    months = figures.cases_by_month_and_type({"pretrial_evaluation": {"2025-12": 1, "2026-01": 2}}, "zh-CN")
    assert list(months.layout.xaxis.ticktext) == ["2025年12月", "2026年1月"]
    assert figures.month_label("2026-02", "zh-CN", with_year=False) == "2月"
    assert figures.month_label("2026-01", "en") == "Jan 2026"


def test_compliance_bars_are_coloured_by_their_distance_from_the_target():
    rates = {"a": 0.97, "b": 0.94, "c": 0.92, "d": 0.85, "e": None}
    figure = figures.compliance_by_county(rates, {}, "en")
    colours = list(figure.data[0].marker.color)
    assert colours == [
        figures.compliance_colour(0.97),
        figures.compliance_colour(0.94),
        figures.compliance_colour(0.92),
        figures.compliance_colour(0.85),
        figures.GRID,
    ]
    assert len(set(colours[:4])) == 4  # on target, close, further, far: four colours
    assert colours[0] == "#48d597" and colours[3] == figures.COMPLIANCE_FAR
    assert figure.layout.shapes[0].y0 == figures.COMPLIANCE_TARGET  # the target drawn as a line


def test_metrics_fingerprint_moves_when_cases_arrive(tmp_path):
    from watchwall.config.database import make_engine, upgrade
    from watchwall.config.settings import Settings
    from watchwall.config.site import load_site
    from watchwall.dashboard.context import AppContext
    from watchwall.dashboard.push import metrics_fingerprint
    from watchwall.metrics.importer import import_file

    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    engine = make_engine(url)
    settings = Settings(data_dir=tmp_path)
    context = AppContext(settings=settings, site=load_site(settings.site), engine=engine)
    before = metrics_fingerprint(context)
    assert metrics_fingerprint(context) == before
    rows = tmp_path / "cases.csv"
    rows.write_text(
        "external_id,case_type,source_agency,county,received_at,closed_at\n"
        "fp-1,correction_reception,court,qinzhou,2026-11-20T09:00:00+08:00,\n",
        encoding="utf-8",
    )
    import_file(engine, "cases", rows)
    assert metrics_fingerprint(context) != before
