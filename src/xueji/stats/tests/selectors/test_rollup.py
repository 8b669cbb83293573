"""The head-count rollup (PostgreSQL): the province and nation tables read from it give exactly
the figures counted from the rows, after every kind of write, on every date, as soon as the
write commits."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.db import DatabaseError, connection
from django.db.models import F

from xueji.access.models import Role, ScopeLevel
from xueji.access.scope import Scope
from xueji.demo.services import students_synthesize
from xueji.schools.models import School
from xueji.stats import rollup, sql
from xueji.stats.selectors import age_report
from xueji.stats.targets import TargetSpec
from xueji.stats.tests.conftest import SEPT_1
from xueji.stats.tests.world import GUANGDONG_PLAN, START, leave, synthesize, transfer
from xueji.students.models import ON_ROLL_STATES, Placement, RecordState, Student
from xueji.testing.factories import member

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

NATION = Scope(role="bureau_approver", level=ScopeLevel.NATION)
KEY_SETS = (["grade", "age", "sex"], [], ["sex"], ["grade"], ["province", "sex"])
GUANGDONG = TargetSpec("province", code="440000")


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the rollup is kept on PostgreSQL")


def same_as_counted(days: list[datetime.date]) -> int:
    """Asserts the rollup's answers equal the rows' for the nation and both provinces; the
    number of figures compared."""
    assert rollup.drift() == []
    compared = 0
    areas = [sql.Area("nation"), sql.Area("province", "440000"), sql.Area("province", "450000")]
    for on in days:
        for area in areas:
            for keys in KEY_SETS:
                kept = sorted(sql.on_roll(on, area, NATION, keys))
                counted = sorted(sql.on_roll(on, area, NATION, keys, rollup=False))
                assert kept == counted, (on, area, keys)
                compared += len(kept)
    return compared


def test_the_frozen_states_are_the_on_roll_states():
    assert set(rollup.COUNTED_STATES) == {str(state) for state in ON_ROLL_STATES}


def test_the_province_table_comes_from_the_rollup():
    """Proof that the fast path is taken: a key corrupted by hand shows in the province table,
    not in the county's nor in the rows' count."""
    world = synthesize(students=60, seed=11)
    on = START + datetime.timedelta(days=10)
    area = sql.Area("province", "440000")
    before = sql.on_roll(on, area, NATION, [])
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {rollup.ROLLUP} SET delta = delta + 1000 WHERE id = "
            f"(SELECT MIN(id) FROM {rollup.ROLLUP} WHERE province = '440000' AND day <= %s)",
            [on],
        )
    assert sql.on_roll(on, area, NATION, []) == [(before[0][0] + 1000,)]
    assert sql.on_roll(on, area, NATION, [], rollup=False) == before
    assert rollup.drift() != []
    rollup.rebuild()
    assert rollup.drift() == []
    assert sql.on_roll(on, area, NATION, []) == before
    assert world.students


def test_equal_to_the_rows_over_a_registry_with_transfers_and_departures():
    synthesize(students=240, seed=2026)
    days = [START - datetime.timedelta(days=1), START, datetime.date(2026, 10, 1)]
    days += [START + datetime.timedelta(days=n) for n in (3, 17, 45, 80, 120)]
    assert same_as_counted(days) > 0


def test_every_kind_of_write_keeps_it_exact():
    world = synthesize(students=120, seed=5)
    days = [START, START + datetime.timedelta(days=30), datetime.date(2026, 12, 31)]
    children = [s for s in world.students if s.state == RecordState.ENROLLED]
    # Corrections of the basic data: sex and birth date.
    Student.objects.filter(pk=children[0].pk).update(
        sex="2" if children[0].sex == "1" else "1", birth_date=datetime.date(2016, 2, 29)
    )
    same_as_counted(days)
    # A record leaving the roll with its placement open, then coming back.
    leave(children[1], RecordState.LEFT_OTHER, START, close=False)
    same_as_counted(days)
    Student.objects.filter(pk=children[1].pk).update(state=RecordState.ENROLLED)
    # A placement's dates and grade corrected, one deleted, one closed the day it opened.
    placement = Placement.objects.filter(student=children[2]).first()
    Placement.objects.filter(pk=placement.pk).update(
        start_date=START + datetime.timedelta(days=7), grade=placement.grade
    )
    Placement.objects.filter(student=children[3]).delete()
    Placement.objects.filter(student=children[4], end_date__isnull=True).update(
        end_date=F("start_date")
    )
    same_as_counted(days)
    # A school whose county moved to the other province (a boundary change), and back.
    school = School.objects.get(pk=children[5].school_id)
    province = school.province_id
    School.objects.filter(pk=school.pk).update(province_id="450000")
    same_as_counted(days)
    School.objects.filter(pk=school.pk).update(province_id=province)
    # A record deleted with its history; many rows in one statement.
    Placement.objects.filter(student=children[6]).delete()
    Student.objects.filter(pk=children[6].pk).delete()
    Student.objects.filter(pk__in=[c.pk for c in children[7:40]]).update(
        state=RecordState.GRADUATED
    )
    Placement.objects.filter(student__in=children[40:60], end_date__isnull=True).update(
        end_date=datetime.date(2026, 11, 11)
    )
    same_as_counted(days)


def test_a_transfer_across_provinces_moves_the_child_on_that_date_and_not_before(small):
    """The as-of-date rule on the province and nation tables (both read from the rollup)."""
    child = small.register(small.class_futian)
    small.register(small.class_nanning)
    day = datetime.date(2026, 10, 20)
    approver = member(Role.BUREAU_APPROVER)

    def counts(on: datetime.date) -> tuple[int, int, int]:
        return (
            age_report(approver, GUANGDONG, on).cube.total,
            age_report(approver, TargetSpec("province", code="450000"), on).cube.total,
            age_report(approver, TargetSpec("nation"), on).cube.total,
        )

    assert counts(day) == (1, 1, 2)
    transfer(child, small.class_nanning, day)
    assert counts(day - datetime.timedelta(days=1)) == (1, 1, 2)
    assert counts(day) == (0, 2, 2)
    assert counts(SEPT_1 - datetime.timedelta(days=1)) == (0, 0, 0)
    assert rollup.drift() == []


def test_a_provincial_viewer_gets_the_same_table_as_the_rows_give():
    synthesize(students=80, seed=3)
    viewer_scope = Scope(role="bureau_viewer", level=ScopeLevel.PROVINCE, division_code="440000")
    area = sql.Area("province", "440000")
    on = START + datetime.timedelta(days=40)
    kept = sorted(sql.on_roll(on, area, viewer_scope, ["grade", "age", "sex"]))
    counted = sorted(sql.on_roll(on, area, viewer_scope, ["grade", "age", "sex"], rollup=False))
    assert kept == counted and kept
    # A scope narrower than the area is answered from the rows, fenced.
    county_scope = Scope(role="bureau_viewer", level=ScopeLevel.COUNTY, division_code="440304")
    fenced = sql.on_roll(on, area, county_scope, [])
    assert fenced == sql.on_roll(on, area, county_scope, [], rollup=False)
    assert fenced[0][0] < sum(n for *_k, n in kept)


def _planned_rows(cursor: Any, statement: str) -> list[list[int]]:
    """For each rollup statement `statement` runs in a trigger, the numbers of rows its plan was
    made for (what the planner expected of each transition table it reads, per auto_explain)."""
    plans: list[str] = []

    def keep(diagnostic: Any) -> None:
        text = diagnostic.message_primary or ""
        if re.search(rf"Query Text:\s*INSERT INTO {rollup.ROLLUP}", text):
            plans.append(text)

    connection.connection.add_notice_handler(keep)
    try:
        cursor.execute(statement)
    finally:
        connection.connection.remove_notice_handler(keep)
    return [
        [int(rows) for rows in re.findall(r"Named Tuplestore Scan .*?rows=(\d+)", plan)]
        for plan in plans
    ]


def test_a_large_statement_does_not_leave_its_plan_to_the_next_small_one():
    """A connection that first wrote thousands of placements in one statement (an import, a
    promotion) runs the trigger's statement for a later one-row write with a plan made for one
    row (an index lookup of the student, not a scan of every student), and the next large
    statement with a plan made for its size."""
    table = rollup.PLACEMENT
    students_synthesize(
        actor=None, province_code="440000", students=3000, seed=5, plan=GUANGDONG_PLAN
    )
    placements = Placement.objects.count()
    with connection.cursor() as cursor:
        try:
            cursor.execute("SAVEPOINT auto_explain")
            cursor.execute("LOAD 'auto_explain'")
            cursor.execute("RELEASE SAVEPOINT auto_explain")
        except DatabaseError:
            cursor.execute("ROLLBACK TO SAVEPOINT auto_explain")
            pytest.skip("auto_explain cannot be loaded by this role")
        # Plans kept from earlier tests on this connection would hide what this one shows.
        cursor.execute("DISCARD PLANS")
        for setting in (
            "auto_explain.log_min_duration = 0",
            "auto_explain.log_nested_statements = on",
            "client_min_messages = log",
        ):
            cursor.execute(f"SET LOCAL {setting}")
        every = f"UPDATE {table} SET id = id"
        one = f"UPDATE {table} SET id = id WHERE id = (SELECT id FROM {table} LIMIT 1)"
        large = _planned_rows(cursor, every)
        single = _planned_rows(cursor, one)
        large_again = _planned_rows(cursor, every)
    # The update's statement reads both transition tables: old and new rows.
    assert large == [[placements, placements]]
    assert single == [[1, 1]]
    assert large_again == [[placements, placements]]
