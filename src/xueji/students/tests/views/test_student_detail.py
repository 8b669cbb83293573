"""The student record page: basic and other information, family, placements, numbers."""

import datetime

import pytest

from xueji.core import codes
from xueji.core.idnumbers import make_resident_id
from xueji.students.services import student_assign_resident_id, student_register
from xueji.students.validation import FamilyMemberData
from xueji.testing.factories import student_data

from .conftest import client_as

pytestmark = pytest.mark.django_db


def test_the_record_shows_basic_information_family_and_placement(registry):
    student = registry.student_a
    page = client_as(registry.registrar_a).get(f"/students/{student.pk}/").content.decode()
    assert student.name in page
    assert student.student_number in page
    assert student.id_number in page  # the full record shows the number in full
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
    j_number = student.student_number
    assert j_number.startswith("J")
    student_assign_resident_id(
        actor=registry.registrar_a,
        student_id=student.pk,
        id_number=make_resident_id("440304", birth, 777),
    )
    page = client_as(registry.registrar_a).get(f"/students/{student.pk}/").content.decode()
    assert j_number in page
    assert "G440304202003057" in page
    assert "Replaced on" in page
    assert "Current" in page


def test_the_record_page_is_chinese_by_default(registry):
    client = client_as(registry.registrar_a, language="zh-hans")
    page = client.get(f"/students/{registry.student_a.pk}/").content.decode()
    assert "基本信息" in page
    assert "家庭成员" in page
    assert "Basic information" not in page
