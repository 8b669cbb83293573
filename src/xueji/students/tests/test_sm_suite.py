"""A registry running on the national suite: children registered and looked up under SM4-GCM and
HMAC-SM3, and refused as duplicates of records still under the other suite."""

import pytest

from xueji.access.models import Role
from xueji.core import codes, crypto
from xueji.core.errors import Conflict
from xueji.students.identity import DOCUMENT_INDEX, STUDENT_NUMBER
from xueji.students.models import FamilyMember, Student, StudentNumberAlias
from xueji.students.selectors import student_by_number
from xueji.students.services import student_assign_resident_id, student_register
from xueji.students.validation import FamilyMemberData
from xueji.testing.crypto import Suites
from xueji.testing.factories import SchoolClassFactory, member, resident_id, student_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def suites(monkeypatch):
    yield Suites(monkeypatch)
    crypto.reset_keyring()


@pytest.fixture
def registrar(db):
    school_class = SchoolClassFactory(grade=1)
    return member(Role.REGISTRAR, school=school_class.school), school_class


def _register(registrar, data):
    actor, school_class = registrar
    return student_register(actor=actor, school_class_id=school_class.pk, data=data).student


def test_a_student_registered_under_sm_is_sealed_indexed_and_found_with_it(suites, registrar):
    suites.use("sm", intl=False)
    mother_id = resident_id()
    data = student_data(
        family=[
            FamilyMemberData(
                relation=codes.Relation.MOTHER,
                name="王芳",
                is_guardian=True,
                id_doc_type="1",
                id_number=mother_id,
            ),
            FamilyMemberData(
                relation=codes.Relation.FATHER, missing_reason=codes.MissingReason.UNKNOWN
            ),
        ]
    )
    student = _register(registrar, data)

    stored = Student.objects.get(pk=student.pk)
    assert stored.number_sealed.startswith("sm1.m1.")
    assert stored.id_number_sealed.startswith("sm1.m1.")
    assert FamilyMember.objects.get(student=student, relation="52").id_number_sealed.startswith(
        "sm1.m1."
    )
    # The indexes are HMAC-SM3 digests under the sm index key.
    sm = crypto.keyring().of("sm")
    assert stored.number_index == sm.index("G" + data.id_number, STUDENT_NUMBER)
    assert stored.id_number_index == sm.index(f"1:{data.id_number}", DOCUMENT_INDEX)
    assert stored.reveal_student_number() == "G" + data.id_number
    assert stored.reveal_id_number() == data.id_number

    actor = registrar[0]
    assert student_by_number(actor, data.id_number) == student
    assert student_by_number(actor, "G" + data.id_number) == student
    with pytest.raises(Conflict):
        _register(registrar, student_data(id_number=data.id_number))


def test_a_former_number_keeps_its_sealed_value_and_resolves_under_sm(suites, registrar):
    suites.use("sm", intl=False)
    student = _register(
        registrar, student_data(id_doc_type=codes.IdDocType.PASSPORT, id_number="E12345678")
    )
    j_number = student.reveal_student_number()
    new_id = resident_id(birth_date=student.birth_date)
    student_assign_resident_id(actor=registrar[0], student_id=student.pk, id_number=new_id)

    alias = StudentNumberAlias.objects.get(student=student)
    assert alias.number_sealed.startswith("sm1.m1.")
    assert crypto.decrypt(alias.number_sealed, context=STUDENT_NUMBER) == j_number
    assert student_by_number(registrar[0], j_number) == student
    assert student_by_number(registrar[0], "G" + new_id) == student


def test_a_child_still_indexed_under_the_old_suite_is_refused_as_a_duplicate(suites, registrar):
    """Between the switch and the end of `xueji rotate_keys`, a record keeps its intl index;
    registering the child again under sm is refused (the check asks for both digests)."""
    suites.use("intl")
    data = student_data()
    student = _register(registrar, data)
    assert Student.objects.get(pk=student.pk).number_sealed.startswith("v1.k1.")

    suites.use("sm")
    with pytest.raises(Conflict) as refused:
        _register(registrar, student_data(name="李四", id_number=data.id_number))
    assert refused.value.code == "id_number_registered"
    assert student_by_number(registrar[0], data.id_number) == student
    assert student_by_number(registrar[0], "G" + data.id_number) == student
    assert Student.objects.count() == 1
