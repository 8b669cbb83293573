"""The reads other capabilities build on (interfaces.md)."""

import datetime

import pytest

from xueji.access.scope import PermissionRefused
from xueji.attendance import selectors
from xueji.attendance.models import ClosureDay, HollowPeriod, Portion, Reason, Symptom
from xueji.attendance.services import AbsenceIn, case_open_for_unrecorded_child, roll_take
from xueji.attendance.tests.conftest import MON, day
from xueji.core.errors import FieldErrors

pytestmark = pytest.mark.django_db


def test_school_days_follow_terms_holidays_make_up_days_and_closures(att):
    sid = att["school"].pk
    assert selectors.is_school_day(school_id=sid, day=MON)
    assert not selectors.is_school_day(school_id=sid, day=datetime.date(2026, 9, 13))  # Sunday
    assert not selectors.is_school_day(school_id=sid, day=datetime.date(2026, 10, 1))  # 国庆
    # 2026's make-up Saturday for the National Day holiday is a school day.
    assert selectors.is_school_day(school_id=sid, day=datetime.date(2026, 10, 10))
    ClosureDay.objects.create(county=att["county"], day=MON, reason="台风")
    assert not selectors.is_school_day(school_id=sid, day=MON)
    ClosureDay.objects.create(school=att["school"], day=day(1), reason="停电")
    assert not selectors.is_school_day(school_id=sid, day=day(1))
    assert not selectors.is_school_day(school_id=999999, day=day(2))


def test_roll_taken_and_the_whole_day_absent(att):
    klass = att["class"]
    a, b, c, _ = att["pupils"]
    assert not selectors.roll_taken(school_class_id=klass.pk, day=MON)
    assert selectors.absent_student_ids(school_class_id=klass.pk, day=MON) == set()
    roll_take(
        actor=att["teacher"],
        school_class_id=klass.pk,
        day=MON,
        absences=[
            AbsenceIn(a.pk, Reason.SICK, symptom=Symptom.FEVER),
            AbsenceIn(b.pk, Reason.PERSONAL, portion=Portion.MORNING),
            AbsenceIn(c.pk, Reason.UNEXCUSED, portion=Portion.LATE),
        ],
    )
    assert selectors.roll_taken(school_class_id=klass.pk, day=MON)
    assert selectors.absent_student_ids(school_class_id=klass.pk, day=MON) == {a.pk}
    assert not selectors.roll_taken(school_class_id=att["other_class"].pk, day=MON)


def test_hollow_records_by_date(att):
    a = att["pupils"][0]
    HollowPeriod.objects.create(
        student=a, school=att["school"], start_date=MON, end_date=MON + datetime.timedelta(days=7)
    )
    HollowPeriod.objects.create(student=a, school=att["school"], start_date=day(10))
    assert selectors.hollow_student_ids(on=MON - datetime.timedelta(days=1)) == set()
    assert selectors.hollow_student_ids(on=MON) == {a.pk}
    assert selectors.hollow_student_ids(on=MON + datetime.timedelta(days=7)) == set()
    assert selectors.hollow_student_ids(on=day(11)) == {a.pk}
    assert selectors.hollow_periods(student_id=a.pk) == [
        (MON, MON + datetime.timedelta(days=7)),
        (day(10), None),
    ]
    assert selectors.hollow_periods(student_id=att["other"].pk) == []


def test_case_for_an_unrecorded_child_once_per_roll_entry(att):
    case = case_open_for_unrecorded_child(
        actor=att["approver"],
        county_code="440304",
        name="孙六",
        sex="1",
        birth_date=datetime.date(2016, 3, 1),
        reference="42",
        note="人口库有人无籍",
    )
    assert case.student_id is None and case.county_id == "440304"
    assert case.trigger == "unrecorded" and case.state == "open"
    again = case_open_for_unrecorded_child(
        actor=att["approver"],
        county_code="440304",
        name="孙六",
        sex="1",
        birth_date=datetime.date(2016, 3, 1),
        reference="42",
    )
    assert again.pk == case.pk
    with pytest.raises(FieldErrors):
        case_open_for_unrecorded_child(
            actor=att["approver"],
            county_code="999999",
            name="x",
            sex="1",
            birth_date=datetime.date(2016, 3, 1),
            reference="43",
        )
    with pytest.raises(PermissionRefused):
        case_open_for_unrecorded_child(
            actor=att["registrar"],
            county_code="440304",
            name="x",
            sex="1",
            birth_date=datetime.date(2016, 3, 1),
            reference="44",
        )
