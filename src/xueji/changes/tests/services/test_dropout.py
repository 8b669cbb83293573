"""辍学 (dropping out) in compulsory education is no status a school files (issue 20, item 3): a
school's 辍学 for a child of grades 1–9 is refused with the reason, pointing to the county's
dropout control (控辍保学); one already filed is not approved; in senior high (grades 10–12) a
dropout is filed and approved as before."""

import datetime

import pytest

from xueji.access.models import Role
from xueji.changes.models import ChangeRequest, ChangeState, Initiator
from xueji.changes.services import change_decide, change_file
from xueji.changes.tests.world import FUTIAN, Site, build_world, certificate, enrol
from xueji.core.errors import Conflict, FieldErrors
from xueji.geo.models import Division
from xueji.schools.models import SchoolKind
from xueji.students.models import Placement, RecordState
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, academic_year, member

pytestmark = pytest.mark.django_db
OCT = datetime.date(2026, 10, 12)
COMPULSORY_REASON = "dropout_in_compulsory_education"


@pytest.fixture
def world():
    return build_world((FUTIAN,))


def senior_site() -> Site:
    """A senior high school of 福田区 with a class of grade 10."""
    school = SchoolFactory(county=Division.objects.get(code=FUTIAN), kind=SchoolKind.SENIOR)
    site = Site(
        school=school,
        registrar=member(Role.REGISTRAR, school=school),
        principal=member(Role.PRINCIPAL, school=school),
    )
    site.classes[(2026, 10, 1)] = SchoolClassFactory(
        school=school, academic_year=academic_year(2026), grade=10, number=1
    )
    return site


def file_dropout(site: Site, student, **extra):
    return change_file(
        actor=site.registrar,
        student_id=student.pk,
        kind="dropout",
        reason="长期未到校",
        initiator=Initiator.SCHOOL,
        evidence=[certificate()],
        on=OCT,
        **extra,
    )


@pytest.mark.parametrize("grade", [1, 3])
def test_a_school_cannot_file_a_dropout_in_compulsory_education(world, grade):
    site = world.site(FUTIAN)
    student = enrol(site, grade=grade)
    with pytest.raises(FieldErrors) as refused:
        file_dropout(site, student)
    (error,) = refused.value.errors["kind"]
    assert error.code == COMPULSORY_REASON
    # In Chinese (the registry's language): the reason, and where the child is reported.
    message = str(error.message)
    assert "义务教育阶段" in message and "区县教育局" in message and "控辍保学" in message
    assert not ChangeRequest.objects.exists()
    student.refresh_from_db()
    assert student.state == RecordState.ENROLLED


def test_a_dropout_in_senior_high_is_filed_and_approved_as_before(world):
    site = senior_site()
    student = enrol(site, grade=10)
    change = file_dropout(site, student)
    change = change_decide(actor=world.approvers[FUTIAN], change_id=change.pk, approve=True, on=OCT)
    assert change.state == ChangeState.COMPLETED
    student.refresh_from_db()
    assert student.state == RecordState.DROPPED_OUT
    assert Placement.objects.get(student=student).end_date == OCT


def test_a_compulsory_dropout_filed_before_the_rule_is_not_approved_but_may_be_rejected(world):
    """A request filed before schools were refused it (here: made as a senior-high one, then
    given a grade of compulsory education) waits for a county that may only reject it."""
    site = senior_site()
    student = enrol(site, grade=10)
    change = file_dropout(site, student)
    ChangeRequest.objects.filter(pk=change.pk).update(from_grade=8)
    county = world.approvers[FUTIAN]
    with pytest.raises(Conflict) as refused:
        change_decide(actor=county, change_id=change.pk, approve=True, on=OCT)
    assert refused.value.code == COMPULSORY_REASON
    assert ChangeRequest.objects.get(pk=change.pk).state == ChangeState.PENDING
    rejected = change_decide(
        actor=county, change_id=change.pk, approve=False, reason="报告失学，控辍保学跟进", on=OCT
    )
    assert rejected.state == ChangeState.REJECTED
    student.refresh_from_db()
    assert student.state == RecordState.ENROLLED
