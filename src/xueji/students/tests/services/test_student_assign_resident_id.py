import datetime

import pytest

from xueji.access.models import Role
from xueji.core import codes
from xueji.core.errors import Conflict, FieldErrors, NotFound, ServiceError
from xueji.core.idnumbers import mask_student_number
from xueji.students.models import NumberKind, Placement, RecordEvent, Student
from xueji.students.selectors import student_by_number
from xueji.students.services import student_assign_resident_id, student_register
from xueji.testing.factories import (
    SchoolClassFactory,
    SchoolFactory,
    member,
    resident_id,
    student_data,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered():
    school_class = SchoolClassFactory(grade=1)
    registrar = member(Role.REGISTRAR, school=school_class.school)
    data = student_data(id_doc_type=codes.IdDocType.PASSPORT, id_number="E12345678")
    student = student_register(actor=registrar, school_class_id=school_class.pk, data=data).student
    return registrar, student


def test_j_to_g_keeps_the_record_its_history_and_the_old_number(registered):
    registrar, student = registered
    old_number = student.reveal_student_number()
    assert student.number_kind == NumberKind.J
    new_id = resident_id(birth_date=student.birth_date)
    student_assign_resident_id(actor=registrar, student_id=student.pk, id_number=new_id)

    student.refresh_from_db()
    assert student.reveal_student_number() == "G" + new_id
    assert student.id_doc_type == codes.IdDocType.RESIDENT_ID
    assert Placement.objects.filter(student=student).count() == 1
    event = RecordEvent.objects.get(student=student, kind="number_changed")
    assert event.detail["from"] == mask_student_number(old_number)
    assert event.detail["to"] == mask_student_number("G" + new_id)
    assert student_by_number(registrar, old_number) == student
    assert student_by_number(registrar, "G" + new_id) == student
    assert student_by_number(registrar, new_id) == student


def test_the_resident_id_must_agree_with_the_record(registered):
    registrar, student = registered
    wrong_date = resident_id(birth_date=student.birth_date + datetime.timedelta(days=1))
    with pytest.raises(FieldErrors) as refused:
        student_assign_resident_id(actor=registrar, student_id=student.pk, id_number=wrong_date)
    assert refused.value.errors["id_number"][0].code == "id_birth_date_mismatch"
    student.refresh_from_db()
    assert student.number_kind == NumberKind.J


def test_a_resident_id_held_by_another_record_is_refused(registered):
    registrar, student = registered
    taken = student_register(
        actor=registrar,
        school_class_id=Placement.objects.get(student=student).school_class_id,
        data=student_data(name="李四"),
    ).student
    with pytest.raises(Conflict):
        student_assign_resident_id(
            actor=registrar, student_id=student.pk, id_number=taken.reveal_id_number()
        )


def test_a_g_numbered_student_is_not_converted_again(registered):
    registrar, student = registered
    student_assign_resident_id(
        actor=registrar, student_id=student.pk, id_number=resident_id(birth_date=student.birth_date)
    )
    with pytest.raises(ServiceError) as refused:
        student_assign_resident_id(
            actor=registrar,
            student_id=student.pk,
            id_number=resident_id(birth_date=student.birth_date),
        )
    assert refused.value.code == "already_formal"


def test_another_schools_registrar_cannot_convert(registered):
    _, student = registered
    outsider = member(Role.REGISTRAR, school=SchoolFactory())
    with pytest.raises(NotFound):
        student_assign_resident_id(
            actor=outsider,
            student_id=student.pk,
            id_number=resident_id(birth_date=student.birth_date),
        )
    assert Student.objects.get(pk=student.pk).number_kind == NumberKind.J
