import datetime

import pytest

from xueji.access.models import Role
from xueji.access.tests.fixtures import today  # noqa: F401
from xueji.access.tests.world import ensure_terms
from xueji.geo.models import Division
from xueji.students.services import student_register
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member, student_data

# Monday 14 September 2026 to Friday 18 September: five school days of the first term.
MON = datetime.date(2026, 9, 14)


def day(n: int) -> datetime.date:
    """The n-th working day from Monday 14 September 2026 (0 is that Monday)."""
    import chinese_calendar

    found = MON
    while n > 0:
        found += datetime.timedelta(days=1)
        if chinese_calendar.is_workday(found):
            n -= 1
    return found


@pytest.fixture
def att(today):  # noqa: F811
    """A primary school of 福田区 with one grade-3 class of four children, its class teacher,
    registrar and principal, another class with its own teacher, and the county's bureau."""
    ensure_terms(2026)
    futian = Division.objects.get(code="440304")
    school = SchoolFactory(county=futian)
    teacher = member(Role.CLASS_TEACHER, school=school)
    colleague = member(Role.CLASS_TEACHER, school=school)
    klass = SchoolClassFactory(school=school, grade=3, number=1, class_teacher=teacher)
    other_class = SchoolClassFactory(school=school, grade=3, number=2, class_teacher=colleague)
    registrar = member(Role.REGISTRAR, school=school)
    pupils = [
        student_register(
            actor=registrar,
            school_class_id=klass.pk,
            data=student_data(name=name, birth_date=datetime.date(2017, 5, 1 + i)),
            start_date=datetime.date(2026, 9, 1),
        ).student
        for i, name in enumerate(["张一", "王二", "李三", "赵四"])
    ]
    other = student_register(
        actor=registrar,
        school_class_id=other_class.pk,
        data=student_data(name="钱五", birth_date=datetime.date(2017, 6, 1)),
        start_date=datetime.date(2026, 9, 1),
    ).student
    today(MON)
    return {
        "school": school,
        "county": futian,
        "teacher": teacher,
        "colleague": colleague,
        "class": klass,
        "other_class": other_class,
        "pupils": pupils,
        "other": other,
        "registrar": registrar,
        "principal": member(Role.PRINCIPAL, school=school),
        "approver": member(Role.BUREAU_APPROVER, division=futian),
        "viewer": member(Role.BUREAU_VIEWER, division=futian),
        "set_today": today,
    }
