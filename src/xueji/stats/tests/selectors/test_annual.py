"""The annual statistics (事业统计): census counts per kind of school, movements of the year,
exits dated by their events, cohorts' in-school rate and attrition."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from xueji.core import codes
from xueji.core.errors import ServiceError
from xueji.stats.selectors import annual_report, census_date
from xueji.stats.targets import TargetSpec
from xueji.stats.tests.conftest import cells
from xueji.stats.tests.world import leave, transfer
from xueji.students.models import RecordState

pytestmark = pytest.mark.django_db

FUTIAN = TargetSpec("county", code="440304")


@pytest.fixture
def after_the_year(monkeypatch):
    """Today is in the summer after the 2026–2027 school year."""
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: datetime.date(2027, 8, 20))


def test_the_census_date_is_30_september_or_today_before_it():
    assert census_date(2026, datetime.date(2027, 1, 5)) == datetime.date(2026, 9, 30)
    assert census_date(2026, datetime.date(2026, 9, 12)) == datetime.date(2026, 9, 12)


def test_census_counts_by_kind_of_school_grade_age_and_sex(small, after_the_year):
    small.register(small.class_futian)
    small.register(small.class_futian, sex=codes.Sex.FEMALE)
    late = small.register(small.class_futian_2, start=datetime.date(2026, 10, 8))
    del late
    report = annual_report(small.users["futian_viewer"], FUTIAN, 2026)
    assert report.census == datetime.date(2026, 9, 30)
    assert [t.key for t in report.by_kind] == ["annual-primary"]
    table = cells(report.by_kind[0])
    assert table[("Grade 1", "Total")] == 2  # the child placed on 8 October is after the census
    assert table[("Grade 1/Girls", "Total")] == 1


def test_movements_of_the_year(small, after_the_year):
    stays = small.register(small.class_futian)
    arrives = small.register(small.class_nanshan)
    leaves = small.register(small.class_futian)
    inside = small.register(small.class_futian)
    graduate = small.register(small.class_futian, sex=codes.Sex.FEMALE)
    dropout = small.register(small.class_futian)
    dropout_open = small.register(small.class_futian)
    undated = small.register(small.class_futian)
    del stays
    transfer(arrives, small.class_futian, datetime.date(2026, 11, 2))
    transfer(leaves, small.class_tianhe, datetime.date(2026, 11, 3))
    transfer(inside, small.class_futian_2, datetime.date(2026, 11, 4))
    leave(graduate, RecordState.GRADUATED, datetime.date(2027, 7, 1))
    # The dropout event dates it in the year, although its placement closed after it.
    leave(
        dropout, RecordState.DROPPED_OUT, datetime.date(2027, 9, 5), event=datetime.date(2027, 3, 1)
    )
    leave(
        dropout_open,
        RecordState.DROPPED_OUT,
        datetime.date(2027, 1, 1),
        close=False,
        event=datetime.date(2027, 1, 10),
    )
    leave(undated, RecordState.LEFT_OTHER, datetime.date(2026, 9, 1), close=False)

    report = annual_report(small.users["futian_viewer"], FUTIAN, 2026)
    flows = {row.key: [c.value for c in row.cells] for row in report.flows.rows}
    assert flows["entrants"] == [7, 6, 1]  # registered 1 September in Futian
    assert flows["transfers_in"] == [1, 1, 0]
    assert flows["transfers_out"] == [1, 1, 0]
    assert flows["transfers_within"] == [1, 1, 0]
    assert flows["graduated"] == [1, 0, 1]
    assert flows["dropped_out"] == [2, 2, 0]
    assert flows["other"] == [0, 0, 0]
    assert report.undated_exits.value == 1
    assert all(row.note for row in report.flows.rows)


def test_cohorts_in_school_rate_and_attrition(small, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: datetime.date(2027, 10, 20))
    # Grade 1 on 30 September 2026: five children; a year later three are on roll somewhere
    # (one of them moved to another province), one dropped out, one went abroad.
    children = [small.register(small.class_futian) for _ in range(5)]
    transfer(children[0], small.class_nanning, datetime.date(2027, 3, 1))
    leave(children[3], RecordState.DROPPED_OUT, datetime.date(2027, 4, 1))
    leave(children[4], RecordState.ABROAD, datetime.date(2027, 5, 1))
    report = annual_report(small.users["futian_viewer"], FUTIAN, 2027)
    rows = {row.key["entry_year"]: [c.display for c in row.cells] for row in report.cohorts.rows}
    assert rows[2026] == ["5", "3", "60.0%", "0", "1", "20.0%", "1"]
    assert report.cohorts.columns[0] == "Entered"


def test_a_year_not_begun_is_refused(small):
    current = timezone.localdate()
    year = current.year + 1
    with pytest.raises(ServiceError) as refused:
        annual_report(small.users["futian_viewer"], FUTIAN, year)
    assert refused.value.code == "bad_year"
