"""The days statistics can be counted on: from 1949-09-01 to today, each refusal naming its field
(issue 20, item 6)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from xueji.core.errors import ServiceError
from xueji.stats import dates

TODAY = datetime.date(2026, 12, 6)


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    # The statistics tests' horizon (conftest) is undone: the bound here is the real one.
    monkeypatch.setattr(dates, "today", lambda: timezone.localdate())
    return TODAY


def test_today_and_the_first_school_year_are_days_to_count_on(today):
    assert dates.date_problem(today, "date") is None
    assert dates.date_problem(dates.EARLIEST, "date") is None
    assert dates.checked(None, "date") is None


def test_a_day_after_today_is_refused_naming_the_field(today):
    for field, name in (("date", "The date"), ("start", "The start"), ("end", "The end")):
        with pytest.raises(ServiceError) as refused:
            dates.checked(today + datetime.timedelta(days=1), field)
        assert refused.value.code == "bad_date" and refused.value.details["field"] == field
        assert str(refused.value.message).startswith(name)
        assert "after today (2026-12-06)" in str(refused.value.message)


def test_a_day_before_the_statistics_begin_is_refused(today):
    with pytest.raises(ServiceError) as refused:
        dates.checked(datetime.date(1949, 8, 31), "date")
    assert refused.value.details["field"] == "date"
    assert "before 1949-09-01" in str(refused.value.message)


def test_the_refusal_is_in_chinese_by_default(today):
    from django.utils import translation

    with translation.override("zh-hans"):
        problem = dates.date_problem(datetime.date(2999, 1, 1), "end")
    assert problem == "截止日期不能晚于今天（2026-12-06）。"
