"""Transfers through the services: chains by distance, 转入在先, the effect on the placement."""

import datetime

import pytest

from xueji.access.scope import PermissionRefused
from xueji.changes.models import ChangeState, StepState
from xueji.changes.services import change_decide, change_withdraw, transfer_file
from xueji.changes.tests.world import (
    DONGCHENG,
    FUTIAN,
    NANSHAN,
    ZHUHAI,
    build_world,
    enrol,
    guardian_request,
)
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.schools.models import School
from xueji.students.models import EventKind, Placement, RecordState

pytestmark = pytest.mark.django_db
OCT = datetime.date(2026, 10, 12)


@pytest.fixture
def world():
    return build_world()


def file(world, student, to_county, on=OCT, grade=1, **extra):
    receiver = world.site(to_county)
    return transfer_file(
        actor=receiver.registrar,
        student_number=student.reveal_student_number(),
        name=student.name,
        to_class_id=receiver.klass(grade).pk,
        reason="随父母工作调动",
        guardian_request=guardian_request(),
        on=on,
        **extra,
    )


def parties(change):
    return [(s.level, s.side, s.school_id or s.division_id) for s in change.steps.all()]


def actor_of(world, step):
    if step.level == "school":
        site = next(s for s in world.sites.values() if s.school.pk == step.school_id)
        return site.registrar
    return world.approvers[step.division_id]


def approve_all(world, change, on=OCT):
    while change.state == ChangeState.PENDING:
        step = change.steps.get(state=StepState.PENDING)
        change = change_decide(
            actor=actor_of(world, step), change_id=change.pk, approve=True, on=on
        )
    return change


def test_same_county_chain_and_completion(world):
    world.sites[NANSHAN + "b"] = world.site(NANSHAN)
    sender = world.site(FUTIAN)
    student = enrol(sender)
    from xueji.changes.tests.world import build_site

    other = build_site(FUTIAN)
    world.sites["futian2"] = other
    change = transfer_file(
        actor=other.registrar,
        student_number=student.reveal_student_number(),
        name="张春铭",
        to_class_id=other.klass(1).pk,
        reason="就近入学",
        guardian_request=guardian_request(),
        on=OCT,
    )
    assert parties(change) == [
        ("school", "receiver", other.school.pk),
        ("school", "sender", sender.school.pk),
        ("county", "sender", FUTIAN),
    ]
    student.refresh_from_db()
    assert student.state == RecordState.TRANSFERRING
    assert student.school_id == sender.school.pk
    pending = change.steps.get(state=StepState.PENDING)
    assert pending.ordinal == 2 and pending.due_on == datetime.date(2026, 10, 26)
    done = approve_all(world, change)
    assert done.state == ChangeState.COMPLETED
    student.refresh_from_db()
    assert student.state == RecordState.ENROLLED and student.school_id == other.school.pk
    old, new = Placement.objects.filter(student=student).order_by("start_date", "end_date")
    assert old.end_date == OCT and old.school_id == sender.school.pk
    assert new.start_date == OCT and new.end_date is None and new.reason == "transfer"
    assert student.events.filter(kind=EventKind.TRANSFERRED, occurred_on=OCT).count() == 1


def test_other_county_and_other_province_chains(world):
    a = enrol(world.site(ZHUHAI))
    change = file(world, a, FUTIAN)
    assert [p[:2] for p in parties(change)] == [
        ("school", "receiver"),
        ("county", "receiver"),
        ("school", "sender"),
        ("county", "sender"),
    ]
    assert parties(change)[1][2] == FUTIAN and parties(change)[3][2] == ZHUHAI
    b = enrol(world.site(DONGCHENG), name="王小明")
    change = file(world, b, FUTIAN)
    assert parties(change)[1:] == [
        ("county", "receiver", FUTIAN),
        ("province", "receiver", "440000"),
        ("school", "sender", world.site(DONGCHENG).school.pk),
        ("county", "sender", DONGCHENG),
        ("province", "sender", "110000"),
    ]
    assert approve_all(world, change).state == ChangeState.COMPLETED


def test_sender_cannot_act_before_receiver(world):
    student = enrol(world.site(ZHUHAI))
    change = file(world, student, FUTIAN)
    with pytest.raises(Conflict) as refused:
        change_decide(actor=world.site(ZHUHAI).registrar, change_id=change.pk, approve=True, on=OCT)
    assert refused.value.code == "not_your_step"
    assert change.steps.get(state=StepState.PENDING).ordinal == 2


def test_reject_restores_and_withdraw(world):
    student = enrol(world.site(ZHUHAI))
    change = file(world, student, FUTIAN)
    with pytest.raises(FieldErrors):
        change_decide(actor=world.approvers[FUTIAN], change_id=change.pk, approve=False, on=OCT)
    change = change_decide(
        actor=world.approvers[FUTIAN], change_id=change.pk, approve=False, reason="学位已满"
    )
    assert change.state == ChangeState.REJECTED
    student.refresh_from_db()
    assert student.state == RecordState.ENROLLED
    again = file(world, student, FUTIAN)
    with pytest.raises(PermissionRefused):  # the sender sees it but did not file it
        change_withdraw(actor=world.site(ZHUHAI).registrar, change_id=again.pk)
    with pytest.raises(PermissionRefused):  # the receiving principal sees it, did not file it
        change_withdraw(actor=world.site(FUTIAN).principal, change_id=again.pk)
    again = change_withdraw(actor=world.site(FUTIAN).registrar, change_id=again.pk)
    assert again.state == ChangeState.WITHDRAWN
    assert set(again.steps.values_list("state", flat=True)) == {"approved", "cancelled"}


def test_one_active_change_and_wrong_name(world):
    student = enrol(world.site(ZHUHAI))
    file(world, student, FUTIAN)
    with pytest.raises(Conflict) as refused:
        file(world, student, NANSHAN)
    assert refused.value.code == "change_active"
    with pytest.raises(NotFound):
        transfer_file(
            actor=world.site(NANSHAN).registrar,
            student_number=student.reveal_student_number(),
            name="张三",
            to_class_id=world.site(NANSHAN).klass(1).pk,
            reason="x",
            guardian_request=guardian_request(),
            on=OCT,
        )


def test_province_rules_are_settings(world, settings):
    settings.XUEJI_PROVINCE_RULES = {
        "44": {"no_transfer_in_graduating_grade": True, "same_grade_only": True}
    }
    zhuhai = world.site(ZHUHAI)
    # Schools of three grades: grade 3 is their graduating grade.
    School.objects.update(last_grade=3)
    senior = enrol(zhuhai, name="李小红", grade=3)
    with pytest.raises(Conflict) as refused:
        file(world, senior, FUTIAN, grade=3)
    assert refused.value.code == "graduating_grade"
    child = enrol(zhuhai, grade=1)
    with pytest.raises(FieldErrors) as refused:
        file(world, child, FUTIAN, grade=2)
    assert refused.value.errors["to_class"][0].code == "same_grade_only"
    assert file(world, child, FUTIAN, grade=1).state == ChangeState.PENDING
    # Beijing has no such rules, but a transfer obeys both provinces'.
    other = enrol(world.site(DONGCHENG), name="王小明", grade=3)
    with pytest.raises(Conflict):
        file(world, other, FUTIAN, grade=3)
    settings.XUEJI_PROVINCE_RULES = {}
    assert file(world, other, FUTIAN, grade=3).state == ChangeState.PENDING


def test_a_transfer_files_into_an_academic_year_with_its_terms(world):
    """The year of the filing date is made (or completed) the one way years are made."""
    from xueji.schools.models import AcademicYear

    student = enrol(world.site(FUTIAN))
    september = datetime.date(OCT.year + 1, 9, 14)
    assert not AcademicYear.objects.get(start_year=september.year).terms.exists()
    receiver = world.site(NANSHAN)
    change = transfer_file(
        actor=receiver.registrar,
        student_number=student.reveal_student_number(),
        name=student.name,
        to_class_id=receiver.klass(1, 1, september.year).pk,
        reason="随父母工作调动",
        guardian_request=guardian_request(),
        on=september,
    )
    assert change.academic_year.start_year == september.year
    assert change.academic_year.terms.count() == 2
