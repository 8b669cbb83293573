"""Changes other than transfers: their chains, evidence, the compulsory-education rule and the
effect on the record state and placement."""

import datetime

import pytest

from xueji.access.policy import Action
from xueji.access.scope import PermissionRefused
from xueji.audit.models import AuditEntry
from xueji.changes.models import ChangeEvidence, ChangeState, Initiator, StepState
from xueji.changes.services import (
    change_decide,
    change_evidence_open,
    change_file,
    changes_flag_overdue,
    transfer_file,
)
from xueji.changes.tests.world import (
    FUTIAN,
    ZHUHAI,
    build_world,
    certificate,
    enrol,
    guardian_request,
)
from xueji.core.errors import Conflict, FieldErrors
from xueji.corrections.evidence import Upload
from xueji.corrections.tests.files import PDF
from xueji.students.models import EventKind, Placement, RecordState

pytestmark = pytest.mark.django_db
OCT = datetime.date(2026, 10, 12)


@pytest.fixture
def world():
    return build_world((FUTIAN, ZHUHAI))


def file(world, student, kind, **extra):
    extra.setdefault("guardian_request", guardian_request())
    extra.setdefault("on", OCT)
    return change_file(
        actor=world.site(FUTIAN).registrar,
        student_id=student.pk,
        kind=kind,
        reason="家长申请",
        **extra,
    )


def county_approves(world, change, on=OCT):
    return change_decide(actor=world.approvers[FUTIAN], change_id=change.pk, approve=True, on=on)


@pytest.mark.parametrize(
    ("kind", "state", "closes"),
    [
        ("suspend", RecordState.SUSPENDED, False),
        ("withdraw", RecordState.WITHDRAWN, True),
        ("abroad", RecordState.ABROAD, True),
    ],
)
def test_guardian_changes_go_through_the_county(world, kind, state, closes):
    student = enrol(world.site(FUTIAN))
    change = file(world, student, kind)
    assert [(s.level, s.state) for s in change.steps.all()] == [
        ("school", StepState.APPROVED),
        ("county", StepState.PENDING),
    ]
    change = county_approves(world, change)
    assert change.state == ChangeState.COMPLETED and change.effective_date == OCT
    student.refresh_from_db()
    assert student.state == state
    placement = Placement.objects.get(student=student)
    assert (placement.end_date == OCT) is closes
    event = student.events.get(kind=state if kind != "suspend" else EventKind.SUSPENDED)
    assert event.occurred_on == OCT


def test_dropout_and_death_are_recorded_by_the_school_with_a_document(world):
    student = enrol(world.site(FUTIAN))
    with pytest.raises(FieldErrors) as refused:
        file(world, student, "dropout", initiator=Initiator.SCHOOL, guardian_request=None)
    assert "evidence" in refused.value.errors
    change = file(
        world,
        student,
        "death",
        initiator=Initiator.SCHOOL,
        guardian_request=None,
        evidence=[certificate()],
    )
    change = county_approves(world, change)
    student.refresh_from_db()
    assert student.state == RecordState.DECEASED
    assert Placement.objects.get(student=student).end_date == OCT


def test_suspended_then_resumed_and_no_transfer_while_suspended(world):
    student = enrol(world.site(FUTIAN))
    county_approves(world, file(world, student, "suspend"))
    zhuhai = world.site(ZHUHAI)
    with pytest.raises(Conflict) as refused:
        transfer_file(
            actor=zhuhai.registrar,
            student_number=student.reveal_student_number(),
            name=student.name,
            to_class_id=zhuhai.klass(1).pk,
            reason="x",
            guardian_request=guardian_request(),
            on=OCT,
        )
    assert refused.value.code == "student_suspended"
    with pytest.raises(Conflict):
        file(world, student, "suspend")  # already suspended
    county_approves(world, file(world, student, "resume"))
    student.refresh_from_db()
    assert student.state == RecordState.ENROLLED
    assert Placement.objects.get(student=student).end_date is None
    assert list(student.events.values_list("kind", flat=True).order_by("recorded_at")) == [
        "registered",
        "suspended",
        "resumed",
    ]


@pytest.mark.parametrize("kind", ["withdraw", "repeat"])
def test_compulsory_education_school_cannot_start_withdrawal_or_repeat(world, kind):
    student = enrol(world.site(FUTIAN), grade=2)
    with pytest.raises(FieldErrors) as refused:
        file(world, student, kind, initiator=Initiator.SCHOOL)
    assert refused.value.errors["initiator"][0].code == "compulsory_education"
    # The guardian's request without its document is refused too.
    with pytest.raises(FieldErrors) as refused:
        file(world, student, kind, guardian_request=None)
    assert refused.value.errors["guardian_request"][0].code == "required"
    assert file(world, student, kind).state == ChangeState.PENDING


def test_senior_high_school_may_start_a_withdrawal(world):
    from xueji.changes.policy import initiator_allowed

    assert initiator_allowed("withdraw", 10, Initiator.SCHOOL)
    assert not initiator_allowed("withdraw", 9, Initiator.SCHOOL)


def test_repeat_is_approved_and_left_to_the_promotion(world):
    student = enrol(world.site(FUTIAN))
    change = county_approves(world, file(world, student, "repeat"))
    assert change.state == ChangeState.APPROVED and change.effective_date is None
    student.refresh_from_db()
    assert student.state == RecordState.ENROLLED
    assert Placement.objects.get(student=student).end_date is None
    with pytest.raises(Conflict):
        file(world, student, "suspend")  # approved is still unfinished business


def test_class_change_needs_only_the_school(world):
    site = world.site(FUTIAN)
    student = enrol(site)
    with pytest.raises(FieldErrors):
        file(world, student, "class_change", to_class_id=site.klass(2).pk)  # another grade
    change = file(
        world, student, "class_change", to_class_id=site.klass(1, 2).pk, guardian_request=None
    )
    assert change.state == ChangeState.COMPLETED
    assert [s.level for s in change.steps.all()] == ["school"]
    old, new = Placement.objects.filter(student=student).order_by("start_date")
    assert new.school_class_id == site.klass(1, 2).pk and new.start_date == OCT
    assert old.end_date == OCT
    assert student.events.filter(kind=EventKind.CLASS_CHANGED).count() == 1


def test_evidence_type_comes_from_the_content(world):
    student = enrol(world.site(FUTIAN))
    with pytest.raises(FieldErrors) as refused:
        file(world, student, "suspend", guardian_request=Upload("申请.pdf", b"MZ not a pdf"))
    assert refused.value.errors["guardian_request"][0].code == "file_type"
    with pytest.raises(FieldErrors) as refused:
        file(world, student, "suspend", evidence=[Upload("big.pdf", PDF + b"0" * 2 * 1024 * 1024)])
    assert refused.value.errors["evidence"][0].code == "too_large"
    change = file(world, student, "suspend", evidence=[Upload("photo.pdf", certificate().content)])
    kinds = dict(
        ChangeEvidence.objects.filter(request=change).values_list("purpose", "content_type")
    )
    assert kinds == {"guardian_request": "application/pdf", "supporting": "image/png"}
    item = change.evidence.get(purpose="guardian_request")
    _opened, content = change_evidence_open(
        actor=world.approvers[FUTIAN], change_id=change.pk, evidence_id=item.pk
    )
    assert content == PDF
    assert AuditEntry.objects.filter(action="change.evidence_open").count() == 1


def test_only_the_registrar_files_and_only_the_party_decides(world):
    site = world.site(FUTIAN)
    student = enrol(site)
    with pytest.raises(PermissionRefused):
        change_file(actor=site.principal, student_id=student.pk, kind="suspend", reason="x", on=OCT)
    change = file(world, student, "suspend")
    with pytest.raises(Conflict) as refused:
        change_decide(actor=site.principal, change_id=change.pk, approve=True, on=OCT)
    assert refused.value.code == "not_your_step"
    assert Action.CHANGE_APPROVE_BUREAU


def test_overdue_steps_are_flagged_once_to_the_level_above(world):
    site = world.site(FUTIAN)
    change = file(world, enrol(site), "suspend")
    step = change.steps.get(state=StepState.PENDING)
    assert changes_flag_overdue(on=step.due_on) == 0  # due today: not late yet
    assert changes_flag_overdue(on=step.due_on + datetime.timedelta(days=1)) == 1
    assert changes_flag_overdue(on=step.due_on + datetime.timedelta(days=2)) == 0
    step.refresh_from_db()
    assert step.escalated_to_level == "city" and step.escalated_to_division_id == "440300"
    assert step.overdue_flagged_at is not None
    assert AuditEntry.objects.filter(action="change.overdue").count() == 1
