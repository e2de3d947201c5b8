"""Pure rules: name masking, Asia/Shanghai days and slots, compliance arithmetic, exact allocation."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from watchwall.metrics.allocation import allocate
from watchwall.metrics.compliance_rules import (
    DayCompliance,
    active_subjects_by_day,
    compliance_rate,
    slot_outcome,
    slots_due,
)
from watchwall.metrics.localtime import as_utc, day_bounds_utc, local_day, slot_of
from watchwall.metrics.masking import mask_name


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三明", "张*明"),
        ("李四", "李*"),
        ("欧阳小明", "欧**明"),
        ("王", "*"),
        ("", ""),
        (" 张三明 ", "张*明"),
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_a_check_at_2330_utc_belongs_to_the_next_local_morning():
    moment = utc(2024, 4, 30, 23, 30)
    assert local_day(moment) == date(2024, 5, 1)
    assert slot_of(moment) == "morning"


@pytest.mark.parametrize(
    ("moment", "day", "slot"),
    [
        (utc(2024, 4, 30, 15, 59, 59), date(2024, 4, 30), "afternoon"),  # 23:59:59 local
        (utc(2024, 4, 30, 16, 0, 0), date(2024, 5, 1), "morning"),  # 00:00 local
        (utc(2024, 5, 1, 3, 59, 59), date(2024, 5, 1), "morning"),  # 11:59:59 local
        (utc(2024, 5, 1, 4, 0, 0), date(2024, 5, 1), "afternoon"),  # 12:00 local
        (datetime(2024, 5, 1, 0, 10), date(2024, 5, 1), "morning"),  # naive = local time
    ],
)
def test_day_and_slot_edges(moment, day, slot):
    assert local_day(moment) == day
    assert slot_of(moment) == slot


def test_day_bounds_are_local_midnights_in_utc():
    assert day_bounds_utc(date(2024, 5, 1)) == (utc(2024, 4, 30, 16), utc(2024, 5, 1, 16))
    assert as_utc(datetime(2024, 5, 1, 8, 0)) == utc(2024, 5, 1, 0, 0)


@pytest.mark.parametrize(
    ("results", "outcome"),
    [
        (["ok"], "satisfied"),
        (["missed", "ok"], "satisfied"),
        (["out_of_area", "ok"], "satisfied"),
        (["out_of_area", "missed"], "out_of_area"),
        (["missed"], "missed"),
        ([], "missed"),
    ],
)
def test_slot_outcome(results, outcome):
    assert slot_outcome(results) == outcome


def test_compliance_rate():
    assert compliance_rate(0, 0) is None
    assert compliance_rate(3, 4) == 0.75
    assert compliance_rate(5, 4) == 1.0


def test_slots_are_due_once_their_window_closed():
    # default windows 06:00-12:00 and 12:00-20:00 local: nothing is owed before noon
    assert slots_due(utc(2024, 5, 1, 3, 59, 59)) == 0
    assert slots_due(utc(2024, 5, 1, 4, 0)) == 1
    assert slots_due(utc(2024, 5, 1, 11, 59, 59)) == 1
    assert slots_due(utc(2024, 5, 1, 12, 0)) == 2
    assert slots_due(utc(2024, 4, 30, 16, 0)) == 0  # just after local midnight


def test_day_compliance_counts_unrecorded_slots_as_missed():
    day = DayCompliance(required=10, satisfied=7, out_of_area=1)
    assert day.missed == 2
    assert day.rate == 0.7
    assert DayCompliance(0, 0, 0).rate is None


def test_active_subjects_by_day_includes_both_end_days():
    spans = [
        ("qinan", date(2024, 5, 2), date(2024, 5, 2)),  # one day only
        ("qinan", date(2024, 1, 1), None),  # open-ended
        ("gangu", date(2024, 4, 1), date(2024, 5, 1)),  # ends on the first day of the range
        ("gangu", date(2024, 6, 1), date(2024, 7, 1)),  # after the range
    ]
    active = active_subjects_by_day(spans, date(2024, 5, 1), date(2024, 5, 3))
    assert active == {
        ("qinan", date(2024, 5, 1)): 1,
        ("qinan", date(2024, 5, 2)): 2,
        ("qinan", date(2024, 5, 3)): 1,
        ("gangu", date(2024, 5, 1)): 1,
    }


@pytest.mark.parametrize("total", [0, 1, 16, 37, 278, 555])
def test_allocate_adds_up_exactly(total):
    weights = [0.19, 0.17, 0.08, 0.15, 0.16, 0.14, 0.11]
    shares = allocate(total, weights)
    assert sum(shares) == total
    assert all(abs(share - total * w / sum(weights)) < 1 for share, w in zip(shares, weights, strict=True))


def test_allocate_refuses_nonsense():
    with pytest.raises(ValueError):
        allocate(5, [0, 0])


def test_figures_are_taken_now_or_at_the_end_of_a_past_day():
    from watchwall.metrics.headline import figures_moment
    from watchwall.metrics.localtime import SHANGHAI

    moment = utc(2024, 5, 1, 2, 0)
    assert figures_moment(date(2020, 1, 1), moment, SHANGHAI) == moment
    assert figures_moment(date(2024, 5, 1), None, SHANGHAI) == utc(2024, 5, 1, 15, 59, 59)  # 23:59:59 local
    present = figures_moment(None, None, SHANGHAI)
    assert abs((present - datetime.now(UTC)).total_seconds()) < 60
