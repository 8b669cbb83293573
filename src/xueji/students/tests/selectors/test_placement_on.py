import datetime

import pytest

from xueji.access.models import Role
from xueji.students.models import Placement
from xueji.students.selectors import placement_history, placement_on
from xueji.students.services import student_register
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member, student_data

pytestmark = pytest.mark.django_db


def test_where_was_the_student_on_a_date_has_one_answer():
    first = SchoolClassFactory(grade=1)
    registrar = member(Role.REGISTRAR, school=first.school)
    student = student_register(
        actor=registrar,
        school_class_id=first.pk,
        data=student_data(),
        start_date=datetime.date(2026, 9, 1),
    ).student
    second = SchoolClassFactory(grade=1, school=SchoolFactory())
    moved_on = datetime.date(2027, 3, 1)
    Placement.objects.filter(student=student).update(end_date=moved_on)
    Placement.objects.create(
        student=student,
        school=second.school,
        school_class=second,
        grade=1,
        start_date=moved_on,
        reason="transfer",
    )

    assert placement_on(student.pk, datetime.date(2026, 8, 31)) is None
    assert placement_on(student.pk, datetime.date(2026, 9, 1)).school == first.school
    assert placement_on(student.pk, moved_on - datetime.timedelta(days=1)).school == first.school
    assert placement_on(student.pk, moved_on).school == second.school
    assert placement_on(student.pk, datetime.date(2030, 1, 1)).school == second.school
    assert [p.school for p in placement_history(student.pk)] == [first.school, second.school]
