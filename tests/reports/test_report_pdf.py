"""A daily county report on the demo data (PostgreSQL): its figures are the wall's, its pages show
plots and Chinese text in an embedded font, and ``watchwall verify`` accepts it and names a
byte-flipped copy."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from watchwall.audit.log import AuditEntry
from watchwall.config.database import make_engine
from watchwall.config.settings import get_settings
from watchwall.config.site import load_site
from watchwall.metrics import compliance
from watchwall.metrics.localtime import SHANGHAI
from watchwall.reports.gather import gather
from watchwall.reports.layout import number, percent
from watchwall.reports.period import ReportRequest, daily

pytestmark = pytest.mark.postgres


def yesterday() -> str:
    return (datetime.now(UTC).astimezone(SHANGHAI).date() - timedelta(days=1)).isoformat()


def pdf_text(path) -> str:
    """The text of every page, whitespace (pypdf puts each table cell on a line) as single spaces."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(path).pages).split())


@pytest.fixture
def county_report(demo_pg, run_watchwall, tmp_path):
    out = tmp_path / "qinzhou.pdf"
    code, stdout, stderr = run_watchwall(
        demo_pg, "report", "--county", "qinzhou", "--day", yesterday(), "--out", str(out)
    )
    assert code == 0, stderr
    assert out.is_file() and out.with_name("qinzhou.pdf.sig").is_file()
    return out


def test_figures_equal_watchwall_metrics_at_the_same_instant(county_report, demo_pg, run_watchwall):
    signature = json.loads(county_report.with_name("qinzhou.pdf.sig").read_text())
    as_of = signature["report"]["as_of"]
    assert as_of == f"{yesterday()}T23:59:59+08:00"
    code, stdout, _ = run_watchwall(demo_pg, "metrics", "--json", "--at", as_of)
    assert code == 0
    metrics = json.loads(stdout)
    text = pdf_text(county_report)
    rates = metrics["checkin_compliance"]
    for label, value in (
        ("当日报到率（截至数据时刻）", percent(rates["today"])),
        ("近30日报到率", percent(rates["last_30_days"])),
        ("本区县近30日报到率", percent(rates["by_county"]["qinzhou"])),
        ("在矫人数", number(metrics["subjects_under_supervision"])),
        ("协同平台案件总数", number(metrics["cases_total"])),
        ("审前社会调查评估", number(metrics["pretrial_evaluations"])),
        ("本月案件", number(metrics["cases_this_month"])),
        ("档案数字化", number(metrics["archives_digitised"])),
        (
            "教育/公益/就业基地",
            " / ".join(number(metrics["bases"][k]) for k in ("education", "public_welfare", "employment")),
        ),
    ):
        assert f"{label} {value}" in text, f"{label}: {value} not in the report's text"
    assert metrics["as_of"] in text


def test_day_figures_come_from_the_metrics_queries(demo_pg):
    day = date.fromisoformat(yesterday())
    engine = make_engine(demo_pg)
    try:
        site = load_site(get_settings().site)
        data = gather(engine, site, ReportRequest("qinzhou", daily(day)), SHANGHAI, datetime.now(UTC))
        with Session(engine) as session:
            expected = compliance.compliance_by_day(session, day, day, "qinzhou")[day]
            methods = compliance.checks_by_method(session, day, day, "qinzhou")
            city_methods = compliance.checks_by_method(session, day, day)
    finally:
        engine.dispose()
    total = data["compliance"]["total"]
    assert (total["required"], total["satisfied"], total["out_of_area"], total["missed"]) == (
        expected.required,
        expected.satisfied,
        expected.out_of_area,
        expected.missed,
    )
    assert total["required"] > 0 and total["rate"] == expected.rate
    assert data["compliance"]["by_method"] == methods
    # the county filter is real: the county's checks are fewer than the city's
    assert sum(m["checks"] for m in methods.values()) < sum(m["checks"] for m in city_methods.values())
    # the incidents table exists and the demo day has none; roll-calls are not built yet
    assert data["incidents"] == {
        "by_kind": {},
        "total": {"opened": 0, "closed": 0, "overdue": 0, "open_at_end": 0},
    }
    assert data["rollcalls"] is None


def test_pages_show_plots_and_chinese_in_an_embedded_font(county_report, tmp_path):
    fonts = subprocess.run(
        ["pdffonts", str(county_report)], capture_output=True, text=True, check=True
    ).stdout
    embedded = [line for line in fonts.splitlines() if "WenQuanYiMicroHei" in line]
    assert embedded, fonts
    for line in embedded:
        columns = line.split()
        assert columns[-5:-2] == ["yes", "yes", "yes"], line  # embedded, subset, with a Unicode map
    text = pdf_text(county_report)
    for words in (
        "天水市社区矫正督导日报",
        "秦州区",
        "一、位置核查报到",
        "钉钉打卡",
        "指标定义",
    ):
        assert words in text
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "2", str(county_report), str(tmp_path / "page")],
        check=True,
    )
    first = np.asarray(Image.open(tmp_path / "page-1.png").convert("RGB")).astype(int)
    # the compliance plot's bars: the report's green (#2e7d32) fills a visible area of page 1
    green = (
        (abs(first[..., 0] - 0x2E) < 12) & (abs(first[..., 1] - 0x7D) < 12) & (abs(first[..., 2] - 0x32) < 12)
    )
    assert green.sum() > 2000
    # and text covers the page's upper half (the title and the tables)
    dark = (first.sum(axis=2) < 384)[: first.shape[0] // 2]
    assert dark.sum() > 1500


def test_verify_accepts_the_report_and_names_a_byte_flipped_copy(
    county_report, demo_pg, run_watchwall, tmp_path
):
    code, stdout, _ = run_watchwall(demo_pg, "verify", str(county_report))
    assert code == 0 and stdout.startswith("valid:")

    tampered = tmp_path / "tampered.pdf"
    shutil.copy(county_report, tampered)
    shutil.copy(county_report.with_name("qinzhou.pdf.sig"), tmp_path / "tampered.pdf.sig")
    data = bytearray(tampered.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered.write_bytes(bytes(data))
    code, stdout, _ = run_watchwall(demo_pg, "verify", str(tampered))
    assert code == 1
    assert f"NOT VALID: {tampered}" in stdout and "tampered.pdf: the PDF was changed after signing" in stdout
    code, _, _ = run_watchwall(demo_pg, "verify", str(county_report))
    assert code == 0  # the original is untouched


def test_report_hash_is_in_the_audit_log(county_report, demo_pg):
    signature = json.loads(county_report.with_name("qinzhou.pdf.sig").read_text())
    engine = make_engine(demo_pg)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(AuditEntry.target, AuditEntry.detail).where(AuditEntry.action == "report")
            ).all()
    finally:
        engine.dispose()
    details = [
        json.loads(detail) for target, detail in rows if target == f"qinzhou-daily-{yesterday()}-zh-CN"
    ]
    assert signature["sha256"] in [detail["sha256"] for detail in details]


def test_english_variant(demo_pg, run_watchwall, tmp_path):
    out = tmp_path / "city-en.pdf"
    code, _, stderr = run_watchwall(
        demo_pg, "report", "--city", "--day", yesterday(), "--out", str(out), "--lang", "en"
    )
    assert code == 0, stderr
    text = pdf_text(out)
    assert "1. Location check-ins" in text and "Definitions of the figures" in text and "Tianshui" in text
