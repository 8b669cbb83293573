"""The invariants the database itself holds, whatever code writes to it."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from xueji.access.models import Role
from xueji.core import codes
from xueji.students.models import FamilyMember, Placement
from xueji.students.services import student_register
from xueji.testing.factories import SchoolClassFactory, member, student_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def registration():
    school_class = SchoolClassFactory(grade=1)
    registrar = member(Role.REGISTRAR, school=school_class.school)
    return student_register(actor=registrar, school_class_id=school_class.pk, data=student_data())


def test_a_second_open_placement_is_refused_by_the_database(registration):
    with pytest.raises(IntegrityError), transaction.atomic():
        Placement.objects.create(
            student=registration.student,
            school=registration.placement.school,
            school_class=registration.placement.school_class,
            grade=1,
            start_date=datetime.date(2026, 10, 1),
            reason="registration",
        )


def test_a_closed_placement_may_sit_beside_the_open_one(registration):
    Placement.objects.create(
        student=registration.student,
        school=registration.placement.school,
        school_class=registration.placement.school_class,
        grade=1,
        start_date=datetime.date(2025, 9, 1),
        end_date=datetime.date(2026, 9, 1),
        reason="registration",
    )


def test_a_placement_cannot_end_before_it_starts(registration):
    placement = registration.placement
    placement.end_date = placement.start_date - datetime.timedelta(days=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        placement.save()


def test_a_family_member_is_named_or_missing_with_a_reason(registration):
    with pytest.raises(IntegrityError), transaction.atomic():
        FamilyMember.objects.create(
            student=registration.student, ordinal=9, relation=codes.Relation.FATHER
        )


def test_a_student_number_must_have_the_national_form(registration):
    student = registration.student
    student.number_masked = "G123"
    with pytest.raises(IntegrityError), transaction.atomic():
        student.save()
