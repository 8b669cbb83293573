"""The student record page: basic and other information, family, placements, numbers."""

import datetime

import pytest

from xueji.core import codes
from xueji.core.idnumbers import make_resident_id, mask_student_number
from xueji.students.services import student_assign_resident_id, student_register
from xueji.students.validation import FamilyMemberData
from xueji.testing.factories import student_data

from .conftest import client_as

pytestmark = pytest.mark.django_db


def test_the_record_shows_basic_information_family_and_placement(registry):
    student = registry.student_a
    page = client_as(registry.registrar_a).get(f"/students/{student.pk}/").content.decode()
    assert student.name in page
    assert student.number_masked in page and student.id_number_masked in page
    assert student.reveal_student_number() not in page  # full numbers only on request
    assert student.reveal_id_number() not in page
    assert "zhangchunming" in page
    assert "福田区" in page  # birthplace
    assert "张伟" in page and "李娜" in page  # father and mother
    assert "Enrolled" in page
    assert registry.school_a.name in page
    assert "New registration" in page
    assert "Now" in page  # the placement is open


def test_a_missing_parent_is_shown_as_missing_with_the_reason(registry):
    data = student_data(
        name="孙悟空",
        family=[
            FamilyMemberData(
                relation=codes.Relation.FATHER,
                missing_reason=codes.MissingReason.DIVORCED_NO_CONTACT,
            ),
            FamilyMemberData(relation=codes.Relation.MOTHER, name="孙丽", is_guardian=True),
        ],
    )
    student = student_register(
        actor=registry.registrar_a, school_class_id=registry.class_a.pk, data=data
    ).student
    page = client_as(registry.registrar_a).get(f"/students/{student.pk}/").content.decode()
    assert "Missing" in page
    assert "Reason: Divorced, no contact" in page
    assert "孙丽" in page


def test_a_former_j_number_stays_in_the_number_history(registry):
    birth = datetime.date(2020, 3, 5)
    data = student_data(
        name="周无证", id_doc_type=codes.IdDocType.NONE, id_number="", birth_date=birth
    )
    student = student_register(
        actor=registry.registrar_a, school_class_id=registry.class_a.pk, data=data
    ).student
    j_number = student.reveal_student_number()
    assert j_number.startswith("J")
    student_assign_resident_id(
        actor=registry.registrar_a,
        student_id=student.pk,
        id_number=make_resident_id("440304", birth, 777),
    )
    page = client_as(registry.registrar_a).get(f"/students/{student.pk}/").content.decode()
    assert mask_student_number(j_number) in page
    assert mask_student_number("G" + make_resident_id("440304", birth, 777)) in page
    assert "Replaced on" in page
    assert "Current" in page


def test_the_record_page_is_chinese_by_default(registry):
    client = client_as(registry.registrar_a, language="zh-hans")
    page = client.get(f"/students/{registry.student_a.pk}/").content.decode()
    assert "基本信息" in page
    assert "家庭成员" in page
    assert "Basic information" not in page


def test_full_numbers_are_shown_on_request_and_the_reveal_is_audited(registry):
    from xueji.audit.models import AuditEntry

    student = registry.student_a
    client = client_as(registry.registrar_a)
    page = client.post(f"/students/{student.pk}/reveal/", HTTP_HX_REQUEST="true").content.decode()
    assert student.reveal_student_number() in page and student.reveal_id_number() in page
    entry = AuditEntry.objects.filter(action="student.reveal_numbers").get()
    assert entry.actor == registry.registrar_a and entry.object_id == student.pk


def test_numbers_of_a_student_outside_the_scope_cannot_be_revealed(registry):
    from xueji.audit.models import AuditEntry

    response = client_as(registry.registrar_a).post(f"/students/{registry.student_b.pk}/reveal/")
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="student.reveal_numbers").exists()
