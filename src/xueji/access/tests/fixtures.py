"""Fixtures shared by the permission tests of access, verification, corrections and scores
(imported by their conftest.py files)."""

import datetime

import pytest
from django.utils import timezone

from xueji.access.models import Role
from xueji.access.tests.world import ensure_terms
from xueji.geo.models import Division
from xueji.students.services import student_register
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member, student_data
from xueji.verification.services import window_open

# A verification window of 福田区 in the first term of 2026-2027.
BEFORE = datetime.date(2026, 9, 6)
FIRST = datetime.date(2026, 9, 7)
LAST = datetime.date(2026, 9, 11)
AFTER = datetime.date(2026, 9, 12)


@pytest.fixture
def today(monkeypatch):
    """Set the registry's date (Asia/Shanghai) for the code under test; 2026-09-01 at first."""

    def set_day(day):
        monkeypatch.setattr(timezone, "localdate", lambda value=None, timezone=None: day)

    set_day(datetime.date(2026, 9, 1))
    return set_day


@pytest.fixture
def school(today):
    """A school of 福田区 with two classes (each with its class teacher and one student), its
    registrar and principal, a county approver, and a window from FIRST to LAST."""
    ensure_terms(2026)
    futian = Division.objects.get(code="440304")
    school = SchoolFactory(county=futian)
    teacher = member(Role.CLASS_TEACHER, school=school)
    colleague = member(Role.CLASS_TEACHER, school=school)
    mine = SchoolClassFactory(school=school, grade=1, number=1, class_teacher=teacher)
    theirs = SchoolClassFactory(school=school, grade=1, number=2, class_teacher=colleague)
    registrar = member(Role.REGISTRAR, school=school)
    pupil = student_register(
        actor=registrar,
        school_class_id=mine.pk,
        data=student_data(name="张春铭"),
        start_date=datetime.date(2026, 9, 1),
    ).student
    other = student_register(
        actor=registrar,
        school_class_id=theirs.pk,
        data=student_data(name="李小红"),
        start_date=datetime.date(2026, 9, 1),
    ).student
    approver = member(Role.BUREAU_APPROVER, division=futian)
    window = window_open(actor=approver, opens_on=FIRST, closes_on=LAST)
    return {
        "school": school,
        "teacher": teacher,
        "colleague": colleague,
        "mine": mine,
        "theirs": theirs,
        "pupil": pupil,
        "other": other,
        "registrar": registrar,
        "principal": member(Role.PRINCIPAL, school=school),
        "approver": approver,
        "window": window,
    }
