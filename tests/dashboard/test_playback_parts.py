"""The pure parts of playback: evidence file names in local time, the pickers' refusals, the audit
trail's labels, a jump's seek request, and the ``?start=`` of a link."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from watchwall.config.settings import Settings
from watchwall.config.site import load_site
from watchwall.dashboard.components.audit_trail import readable_detail
from watchwall.dashboard.components.export_form import span_problem
from watchwall.dashboard.components.recording_player import seek_request_instant
from watchwall.dashboard.context import AppContext
from watchwall.video.record.export import package_name
from watchwall.video.record.segments import UnsafePathError

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_an_evidence_package_is_named_in_local_time_with_its_offset():
    start = datetime(2026, 12, 4, 17, 58, 30, tzinfo=UTC).timestamp()  # 01:58:30 on the 5th in Shanghai
    assert (
        package_name("qinzhou-checkin-1", start, SHANGHAI)
        == "evidence-qinzhou-checkin-1-20261205T015830+0800.zip"
    )
    assert package_name("cam", start, ZoneInfo("UTC")).endswith("-20261204T175830+0000.zip")
    with pytest.raises(UnsafePathError):
        package_name("../x", start, SHANGHAI)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-12-05T01:58:30", "2026-12-05T01:59:30", ""),
        ("2026-12-05T01:58", "2026-12-05T01:58:01", ""),
        ("2026-12-05T01:58:30", "2026-12-05T01:58:30", "The end must come after the start."),
        ("2026-12-05T01:58:30", "2026-12-05T01:00:00", "The end must come after the start."),
        ("2026-12-05T01:58:30", "2026-12-06T01:58:31", "The span may be at most 24 hours."),
        ("", "2026-12-05T01:58:30", "Choose a start and an end date and time."),
        ("soon", "2026-12-05T01:58:30", "Choose a start and an end date and time."),
    ],
)
def test_the_pickers_refuse_an_end_before_the_start_and_a_span_over_the_limit(start, end, expected):
    assert span_problem(start, end, "86400", "en") == expected


def test_the_pickers_say_it_in_chinese():
    assert (
        span_problem("2026-12-05T02:00:00", "2026-12-05T01:00:00", "86400", "zh-CN")
        == "结束时间必须晚于开始时间。"
    )
    assert (
        span_problem("2026-12-05T00:00:00", "2026-12-05T03:00:01", "10800", "zh-CN") == "时间段最长 3 小时。"
    )


def test_audit_details_are_labelled_in_the_pages_language_with_local_times_marked():
    context = AppContext(settings=Settings(), site=load_site(Settings().site), engine=None)
    detail = json.dumps({"from_utc": "2026-12-04T17:58:30.000Z", "reason": "核查", "width": 1920})
    assert (
        readable_detail(detail, context, "en")
        == "From: 2026-12-05 01:58:30 (local time) · Reason: 核查 · Width: 1920"
    )
    assert (
        readable_detail(detail, context, "zh-CN")
        == "起: 2026-12-05 01:58:30 (本地时间) · 原因: 核查 · 宽: 1920"
    )
    export = json.dumps(
        {"file": "evidence-x.zip", "opened_at": "2026-12-04T17:58:30.000Z", "clip_sha256": "ab" * 32}
    )
    assert readable_detail(export, context, "zh-CN") == (
        "文件: evidence-x.zip · opened_at: 2026-12-05 01:58:30 (本地时间) · 视频 SHA-256: " + "ab" * 8 + "…"
    )
    assert readable_detail('{"unknown_key": 1}', context, "en") == "unknown_key: 1"
    assert readable_detail("not json", context, "en") == "not json"


def test_a_seek_request_carries_an_instant_and_nothing_else():
    assert seek_request_instant("1796407110.500|1733352000000") == 1796407110.5
    for junk in (None, "", "x|1", "-5|1", "1e300|1", ["1"]):
        assert seek_request_instant(junk) is None


def test_a_links_start_survives_an_unencoded_plus():
    from watchwall.dashboard.pages.recordings import initial_start

    context = AppContext(settings=Settings(), site=load_site(Settings().site), engine=None)
    expected = datetime(2026, 12, 5, 1, 58, 30, tzinfo=SHANGHAI).timestamp()
    assert initial_start("2026-12-05T01:58:30+08:00", context) == expected
    assert initial_start("2026-12-05T01:58:30 08:00", context) == expected  # '+' read as a space
    assert initial_start("2026-12-04T17:58:30Z", context) == expected
    assert initial_start("2026-12-05T01:58:30", context) == expected  # naive: the site's time
    assert initial_start("2026-12-05 01:58:30", context) == expected
    assert initial_start("yesterday", context) is None
    assert initial_start(None, context) is None
