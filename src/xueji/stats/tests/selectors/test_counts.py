"""Counts on a date: who is counted where, the age worked out in SQL, each dimension."""

from __future__ import annotations

import datetime

import pytest

from xueji.core import codes
from xueji.stats.selectors import age_report, breakdown_report, dashboard_report
from xueji.stats.targets import TargetSpec
from xueji.stats.tests.conftest import SEPT_1, cells
from xueji.stats.tests.world import leave, transfer
from xueji.students.models import RecordState

pytestmark = pytest.mark.django_db

FUTIAN = TargetSpec("county", code="440304")


def test_age_is_in_completed_years_on_the_date_and_turns_on_the_birthday(small):
    small.register(small.class_futian, birth_date=datetime.date(2020, 10, 15))
    nation = small.users["nation_approver"]

    before = age_report(nation, FUTIAN, datetime.date(2026, 10, 14))
    on_birthday = age_report(nation, FUTIAN, datetime.date(2026, 10, 15))

    assert cells(before.table)[("Grade 1", "5 yrs")] == 1
    assert ("Grade 1", "6 yrs") not in cells(before.table)
    assert cells(on_birthday.table)[("Grade 1", "6 yrs")] == 1
    assert before.cube.total == on_birthday.cube.total == 1


def test_a_child_born_on_29_february_is_a_year_older_on_1_march(small):
    small.register(small.class_futian, birth_date=datetime.date(2020, 2, 29))
    nation = small.users["nation_approver"]
    assert age_report(nation, FUTIAN, datetime.date(2027, 2, 28)).cube.get(age=6) == 1
    assert age_report(nation, FUTIAN, datetime.date(2027, 3, 1)).cube.get(age=7) == 1


def test_grade_age_sex_table_rows_columns_and_totals(small):
    small.register(small.class_futian, birth_date=datetime.date(2020, 3, 5))
    small.register(small.class_futian, birth_date=datetime.date(2020, 3, 6), sex=codes.Sex.FEMALE)
    small.register(small.class_futian_2, birth_date=datetime.date(2019, 12, 1))
    report = age_report(small.users["futian_viewer"], FUTIAN, datetime.date(2026, 10, 1))
    table = cells(report.table)

    assert report.table.columns == ["Total", "6 yrs"]
    assert table[("Grade 1", "Total")] == 3
    assert table[("Grade 1/Boys", "6 yrs")] == 2
    assert table[("Grade 1/Girls", "6 yrs")] == 1
    assert table[("All grades", "Total")] == 3


def test_a_transfer_on_a_date_moves_the_child_on_that_date_and_not_before(small):
    child = small.register(small.class_futian)
    small.register(small.class_nanshan)
    day = datetime.date(2026, 10, 20)
    transfer(child, small.class_nanshan, day)
    approver = small.users["nation_approver"]

    def counts(on: datetime.date) -> tuple[int, int]:
        futian = age_report(approver, FUTIAN, on).cube.total
        nanshan = age_report(approver, TargetSpec("county", code="440305"), on).cube.total
        return futian, nanshan

    assert counts(day - datetime.timedelta(days=1)) == (1, 1)
    assert counts(day) == (0, 2)
    assert counts(datetime.date(2026, 12, 1)) == (0, 2)
    # The school and the class follow the same rule.
    school = TargetSpec("school", school_id=small.futian.pk)
    assert age_report(approver, school, day - datetime.timedelta(days=1)).cube.total == 1
    assert age_report(approver, school, day).cube.total == 0
    before = TargetSpec("class", class_id=small.class_nanshan.pk)
    assert age_report(approver, before, day - datetime.timedelta(days=1)).cube.total == 1
    assert age_report(approver, before, day).cube.total == 2


def test_nobody_is_counted_before_the_placement_starts(small):
    small.register(small.class_futian, start=datetime.date(2026, 9, 10))
    approver = small.users["nation_approver"]
    assert age_report(approver, FUTIAN, datetime.date(2026, 9, 9)).cube.total == 0
    assert age_report(approver, FUTIAN, datetime.date(2026, 9, 10)).cube.total == 1


def test_who_is_counted_follows_the_record_state(small):
    enrolled = small.register(small.class_futian)
    suspended = small.register(small.class_futian)
    transferring = small.register(small.class_futian)
    dropped = small.register(small.class_futian)
    left_open = small.register(small.class_futian)
    leave(suspended, RecordState.SUSPENDED, SEPT_1, close=False)
    leave(transferring, RecordState.TRANSFERRING, SEPT_1, close=False)
    leave(dropped, RecordState.DROPPED_OUT, datetime.date(2026, 10, 10))
    leave(left_open, RecordState.LEFT_OTHER, SEPT_1, close=False)
    approver = small.users["nation_approver"]
    del enrolled

    # Before the dropout: enrolled, suspended, in transfer and the child who dropped out later.
    assert age_report(approver, FUTIAN, datetime.date(2026, 10, 9)).cube.total == 4
    # After it: the dropout's placement closed on 10 October.
    assert age_report(approver, FUTIAN, datetime.date(2026, 10, 10)).cube.total == 3


def test_each_dimension_counts_the_record_values(small):
    small.register(
        small.class_futian,
        ethnicity="08",
        hukou_nature=codes.HukouNature.RESIDENT,
        left_behind=codes.LeftBehind.BOTH_PARENTS_AWAY,
        migrant_child=True,
        disability_type=codes.DisabilityType.HEARING,
        attendance_mode=codes.AttendanceMode.BOARDING,
    )
    small.register(small.class_futian, sex=codes.Sex.FEMALE)
    report = breakdown_report(small.users["futian_viewer"], FUTIAN, datetime.date(2026, 10, 1))
    tables = {table.key: cells(table) for table in report.tables}

    assert set(tables) == {
        "ethnicity",
        "hukou_nature",
        "left_behind",
        "migrant_child",
        "disability",
        "boarding",
        "school_kind",
    }
    assert tables["ethnicity"][("壮族", "Boys")] == 1
    assert tables["ethnicity"][("汉族", "Girls")] == 1
    assert tables["hukou_nature"][("Unified resident household", "Total")] == 1
    assert tables["left_behind"][("Both parents away", "Total")] == 1
    assert tables["left_behind"][("One parent away", "Total")] == 0
    assert tables["migrant_child"][("Child of a migrant worker", "Boys")] == 1
    assert tables["migrant_child"][("Other children", "Girls")] == 1
    assert tables["disability"][("Hearing", "Total")] == 1
    assert tables["boarding"][("Boarding", "Total")] == 1
    assert tables["school_kind"][("Primary school", "Total")] == 2
    for table in tables.values():
        assert table[("Total", "Total")] == 2


def test_the_dashboard_has_the_morning_numbers(small):
    small.register(small.class_futian, left_behind=codes.LeftBehind.ONE_PARENT_AWAY)
    small.register(small.class_futian_2, sex=codes.Sex.FEMALE, migrant_child=True)
    moved = small.register(small.class_nanshan)
    transfer(moved, small.class_futian_b, datetime.date(2026, 10, 12))
    report = dashboard_report(small.users["futian_viewer"], FUTIAN, datetime.date(2026, 10, 14))
    figures = {f.key: f.cell.value for f in report.figures + report.movement}

    assert figures["on_roll"] == 3 and figures["boys"] == 2 and figures["girls"] == 1
    assert figures["left_behind"] == 1 and figures["migrant_child"] == 1
    assert figures["transfers_in"] == 1 and figures["transfers_out"] == 0
    assert figures["entrants"] == 0  # registered on 1 September, outside the week
    units = cells(report.units)
    assert units[("福田一小", "Total")] == 2 and units[("福田二小", "Total")] == 1
    links = {row.label: row.link for row in report.units.rows}
    assert links["福田一小"] == f"school:{small.futian.pk}"
