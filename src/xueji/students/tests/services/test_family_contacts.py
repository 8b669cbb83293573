"""The registrar corrects family members' phone and employer directly (other information):
checked as at registration, recorded as an event and an audit entry; names, documents and
members recorded as missing are not changed here."""

import pytest

from xueji.access.models import Role
from xueji.audit.models import AuditEntry
from xueji.core import codes
from xueji.core.errors import FieldErrors, NotFound
from xueji.students.family import family_contacts_update
from xueji.students.models import FamilyMember
from xueji.students.services import student_register
from xueji.students.validation import FamilyMemberData
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member, student_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def child():
    school_class = SchoolClassFactory()
    registrar = member(Role.REGISTRAR, school=school_class.school)
    data = student_data(
        family=[
            FamilyMemberData(relation=codes.Relation.MOTHER, name="李娜", is_guardian=True),
            FamilyMemberData(
                relation=codes.Relation.FATHER, missing_reason=codes.MissingReason.DECEASED
            ),
        ]
    )
    student = student_register(actor=registrar, school_class_id=school_class.pk, data=data).student
    return registrar, student


def test_a_phone_and_an_employer_are_corrected(child):
    registrar, student = child
    mother = student.family.get(relation=codes.Relation.MOTHER)
    changed = family_contacts_update(
        actor=registrar,
        student_id=student.pk,
        contacts={mother.ordinal: {"phone": "13700137000", "employer": "福田区医院"}},
    )
    assert changed == [f"family-{mother.ordinal}-employer", f"family-{mother.ordinal}-phone"]
    mother.refresh_from_db()
    assert (mother.phone, mother.employer) == ("13700137000", "福田区医院")
    assert AuditEntry.objects.get(action="student.edit_family_contacts").before == {
        f"family-{mother.ordinal}-phone": "",
        f"family-{mother.ordinal}-employer": "",
    }
    # The same again changes nothing and writes nothing.
    assert (
        family_contacts_update(
            actor=registrar,
            student_id=student.pk,
            contacts={mother.ordinal: {"phone": "13700137000", "employer": "福田区医院"}},
        )
        == []
    )
    assert AuditEntry.objects.filter(action="student.edit_family_contacts").count() == 1


def test_wrong_contacts_are_refused_by_field(child):
    registrar, student = child
    mother = student.family.get(relation=codes.Relation.MOTHER)
    missing = student.family.get(relation=codes.Relation.FATHER)
    with pytest.raises(FieldErrors) as refused:
        family_contacts_update(
            actor=registrar, student_id=student.pk, contacts={mother.ordinal: {"phone": "12ab"}}
        )
    assert refused.value.errors[f"family-{mother.ordinal}-phone"][0].code == "invalid_phone"
    with pytest.raises(FieldErrors) as refused:
        family_contacts_update(
            actor=registrar,
            student_id=student.pk,
            contacts={missing.ordinal: {"phone": "13700137000"}},
        )
    assert refused.value.errors[f"family-{missing.ordinal}-phone"][0].code == "no_member"
    with pytest.raises(FieldErrors):
        family_contacts_update(
            actor=registrar, student_id=student.pk, contacts={mother.ordinal: {"name": "王"}}
        )
    assert FamilyMember.objects.get(pk=mother.pk).phone == ""


def test_only_the_school_s_registrar_corrects_them(child):
    _registrar, student = child
    mother = student.family.get(relation=codes.Relation.MOTHER)
    for other in (
        member(Role.PRINCIPAL, school=student.school),
        member(Role.REGISTRAR, school=SchoolFactory()),
    ):
        with pytest.raises(NotFound):
            family_contacts_update(
                actor=other, student_id=student.pk, contacts={mother.ordinal: {"phone": "1"}}
            )
