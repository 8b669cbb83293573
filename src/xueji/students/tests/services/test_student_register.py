import datetime

import pytest

from xueji.access.models import Role
from xueji.audit.models import AuditEntry
from xueji.core import codes
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.students.models import FamilyMember, NumberKind, Placement, RecordEvent, Student
from xueji.students.services import AgeNeedsConfirmation, student_register
from xueji.students.validation import FamilyMemberData
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member, student_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def school_class():
    return SchoolClassFactory(grade=1)


@pytest.fixture
def registrar(school_class):
    return member(Role.REGISTRAR, school=school_class.school)


def test_registration_gives_the_g_number_an_open_placement_family_history_and_audit(
    school_class, registrar
):
    data = student_data()
    result = student_register(actor=registrar, school_class_id=school_class.pk, data=data)
    student = Student.objects.get(pk=result.student.pk)
    assert student.reveal_student_number() == "G" + data.id_number
    assert student.number_kind == NumberKind.G
    assert (student.name_pinyin, student.name_initials) == ("zhangchunming", "zcm")
    assert student.school == school_class.school
    placement = Placement.objects.get(student=student)
    assert placement.end_date is None and placement.school_class == school_class
    assert FamilyMember.objects.filter(student=student).count() == 2
    assert RecordEvent.objects.filter(student=student, kind="registered").exists()
    entry = AuditEntry.objects.get(action="student.register")
    assert entry.actor == registrar and entry.object_id == student.pk


def test_a_child_without_resident_id_gets_consecutive_j_numbers(school_class, registrar):
    numbers = []
    for _ in range(2):
        data = student_data(id_doc_type=codes.IdDocType.NONE, id_number="")
        numbers.append(
            student_register(
                actor=registrar, school_class_id=school_class.pk, data=data
            ).student.reveal_student_number()
        )
    county = school_class.school.county_id
    assert [n[:18] for n in numbers] == [f"J{county}20200305001", f"J{county}20200305002"]


def test_an_id_number_already_registered_is_refused_naming_the_school(school_class, registrar):
    data = student_data()
    student_register(actor=registrar, school_class_id=school_class.pk, data=data)
    other_class = SchoolClassFactory(grade=1, school=SchoolFactory(name="深圳市福田区第二小学"))
    other_registrar = member(Role.REGISTRAR, school=other_class.school)
    again = student_data(id_number=data.id_number)
    with pytest.raises(Conflict) as refused:
        student_register(actor=other_registrar, school_class_id=other_class.pk, data=again)
    assert refused.value.code == "id_number_registered"
    assert school_class.school.name in str(refused.value.message)
    assert Student.objects.count() == 1


def test_every_bad_field_is_reported_at_once_and_nothing_is_written(school_class, registrar):
    data = student_data(name="", ethnicity="77", birthplace_code="999999", phone="call me")
    data.id_number = data.id_number[:17] + ("1" if data.id_number[17] != "1" else "2")
    with pytest.raises(FieldErrors) as refused:
        student_register(actor=registrar, school_class_id=school_class.pk, data=data)
    errors = refused.value.errors
    assert set(errors) == {"name", "ethnicity", "birthplace_code", "phone", "id_number"}
    assert errors["id_number"][0].code == "id_check_character"
    assert not Student.objects.exists() and not AuditEntry.objects.exists()


def test_a_missing_parent_with_a_reason_passes(school_class, registrar):
    family = [
        FamilyMemberData(relation=codes.Relation.MOTHER, name="王芳", is_guardian=True),
        FamilyMemberData(
            relation=codes.Relation.FATHER, missing_reason=codes.MissingReason.DECEASED
        ),
    ]
    result = student_register(
        actor=registrar, school_class_id=school_class.pk, data=student_data(family=family)
    )
    missing = FamilyMember.objects.get(student=result.student, relation=codes.Relation.FATHER)
    assert missing.name == "" and missing.missing_reason == "1"


def test_a_blank_parent_without_a_reason_is_refused(school_class, registrar):
    family = [
        FamilyMemberData(relation=codes.Relation.MOTHER, name="王芳", is_guardian=True),
        FamilyMemberData(relation=codes.Relation.FATHER),
    ]
    with pytest.raises(FieldErrors) as refused:
        student_register(
            actor=registrar, school_class_id=school_class.pk, data=student_data(family=family)
        )
    assert refused.value.errors["family.1.name"][0].code == "name_or_missing_reason"


def test_grandparents_as_guardians_pass(school_class, registrar):
    family = [
        FamilyMemberData(
            relation=codes.Relation.PATERNAL_GRANDMOTHER, name="赵秀英", is_guardian=True
        ),
        FamilyMemberData(relation=codes.Relation.FATHER, name="张强", employer="广州某厂"),
    ]
    student_register(
        actor=registrar, school_class_id=school_class.pk, data=student_data(family=family)
    )


def test_an_unusual_age_needs_a_confirmed_reason(school_class, registrar):
    older = datetime.date(2017, 3, 5)  # 9 on 1 September 2026, entering grade 1
    data = student_data(birth_date=older)
    with pytest.raises(AgeNeedsConfirmation) as warned:
        student_register(actor=registrar, school_class_id=school_class.pk, data=data)
    assert warned.value.details["age"] == 9
    assert not Student.objects.exists()
    result = student_register(
        actor=registrar,
        school_class_id=school_class.pk,
        data=student_data(birth_date=older, id_number=data.id_number),
        age_confirmation="随父母务工返乡，此前未入学",
    )
    event = RecordEvent.objects.get(student=result.student, kind="registered")
    assert event.detail["age_confirmation"] == "随父母务工返乡，此前未入学"


@pytest.mark.parametrize("role", [Role.CLASS_TEACHER, Role.PRINCIPAL, Role.SUBJECT_TEACHER])
def test_only_the_registrar_of_the_school_registers(school_class, role):
    other_staff = member(role, school=school_class.school)
    with pytest.raises(NotFound):
        student_register(actor=other_staff, school_class_id=school_class.pk, data=student_data())


def test_a_registrar_cannot_register_into_another_schools_class(school_class):
    outsider = member(Role.REGISTRAR, school=SchoolFactory())
    with pytest.raises(NotFound):
        student_register(actor=outsider, school_class_id=school_class.pk, data=student_data())
    assert not Student.objects.exists()


def test_a_bureau_cannot_register(school_class):
    from xueji.geo.models import Division

    county = member(Role.BUREAU_APPROVER, division=Division.objects.get(code="440304"))
    with pytest.raises(NotFound):
        student_register(actor=county, school_class_id=school_class.pk, data=student_data())
