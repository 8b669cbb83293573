"""Two registrars registering the same ID number at the same moment: exactly one succeeds."""

import threading

import pytest
from django.db import connection

from xueji.access.models import Role
from xueji.core.errors import Conflict
from xueji.students.identity import document_index
from xueji.students.models import Placement, Student
from xueji.students.services import student_register
from xueji.testing.factories import SchoolClassFactory, member, student_data

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 5


def test_two_registrars_with_one_id_number_at_once_cannot_both_succeed():
    classes = [SchoolClassFactory(grade=1), SchoolClassFactory(grade=1)]
    registrars = [member(Role.REGISTRAR, school=c.school) for c in classes]

    for _ in range(ROUNDS):
        id_number = student_data().id_number
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def register(index: int, id_number: str = id_number, barrier=barrier, outcomes=outcomes):
            try:
                barrier.wait()
                student_register(
                    actor=registrars[index],
                    school_class_id=classes[index].pk,
                    data=student_data(id_number=id_number),
                )
                outcomes.append("registered")
            except Conflict as refused:
                outcomes.append(refused.code)
            finally:
                connection.close()

        threads = [threading.Thread(target=register, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["id_number_registered", "registered"]
        held = Student.objects.filter(id_number_index=document_index("1", id_number))
        assert held.count() == 1

    assert Placement.objects.filter(end_date__isnull=True).count() == ROUNDS
