"""Registrars of one county registering children of one birth date at the same moment, where
the province checks identities: every child gets its own L number, numbered in turn."""

from __future__ import annotations

import datetime

import pytest

from xueji.access.models import Role
from xueji.identity.services import identity_rule_set
from xueji.students.models import NumberKind, Student
from xueji.students.services import student_register
from xueji.testing.concurrency import race
from xueji.testing.factories import SchoolClassFactory, member, resident_id, student_data

from .helpers import province_approver

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BORN = datetime.date(2020, 3, 5)
REGISTRARS = 6


def test_concurrent_registrars_get_distinct_l_numbers_in_turn():
    identity_rule_set(actor=province_approver(), population_check=True)
    classes = [SchoolClassFactory(grade=1) for _ in range(REGISTRARS)]
    registrars = [member(Role.REGISTRAR, school=c.school) for c in classes]
    numbers = [resident_id(birth_date=BORN) for _ in range(REGISTRARS)]
    names = ["张一", "张二", "张三", "张四", "张五", "张六"]

    def registration(index: int):
        return lambda: student_register(
            actor=registrars[index],
            school_class_id=classes[index].pk,
            data=student_data(name=names[index], id_number=numbers[index], birth_date=BORN),
        )

    outcomes = race(*(registration(i) for i in range(REGISTRARS)))
    assert outcomes == ["done"] * REGISTRARS
    held = sorted(
        student.reveal_student_number()
        for student in Student.objects.filter(number_kind=NumberKind.L)
    )
    assert [number[-4:] for number in held] == [f"{i:04d}" for i in range(1, REGISTRARS + 1)]
    assert len({number for number in held}) == REGISTRARS


def test_two_reviewers_approving_one_registration_at_once_issue_one_number():
    """县级审核: two approvers of the county approve the same registration at the same moment:
    the review row is locked, one issues the number and opens the placement, the other is told
    the registration is no longer waiting."""
    from xueji.identity.services import identity_rule_set as rule_set
    from xueji.students.models import Placement, RecordState, RegistrationReview, ReviewState
    from xueji.students.review import registration_approve

    from .helpers import county_approver

    rule_set(actor=province_approver(), population_check=False, county_review=True)
    school_class = SchoolClassFactory(grade=1)
    registrar = member(Role.REGISTRAR, school=school_class.school)
    student = student_register(
        actor=registrar,
        school_class_id=school_class.pk,
        data=student_data(name="张审核", id_number=resident_id(birth_date=BORN), birth_date=BORN),
    ).student
    reviewers = [county_approver(), county_approver()]
    outcomes = race(
        *(
            (lambda reviewer=reviewer: registration_approve(actor=reviewer, student_id=student.pk))
            for reviewer in reviewers
        )
    )
    assert outcomes == ["done", "registration_not_waiting"]
    student.refresh_from_db()
    assert student.state == RecordState.ENROLLED and student.number_kind == NumberKind.G
    assert Placement.objects.filter(student=student).count() == 1
    assert RegistrationReview.objects.get(student=student).state == ReviewState.APPROVED
    assert student.events.filter(kind="registered").count() == 1
