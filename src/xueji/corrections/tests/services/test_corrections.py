"""Key-data corrections: the registrar asks with evidence, the principal then the county
approve, and only then the record changes, in the same transaction, with before and after kept."""

import datetime

import pytest

from xueji.access.models import Role
from xueji.access.scope import PermissionRefused
from xueji.access.tests.fixtures import FIRST
from xueji.audit.models import AuditEntry
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.corrections.evidence import Upload
from xueji.corrections.models import CorrectionRequest, CorrectionStep, Evidence
from xueji.corrections.services import (
    correction_county_decision,
    correction_dismiss,
    correction_school_decision,
    correction_submit,
    correction_withdraw,
    evidence_open,
)
from xueji.corrections.workflow import InvalidTransition, State
from xueji.geo.models import Division
from xueji.students.identity import STUDENT_NUMBER, number_index, unseal
from xueji.students.models import RecordEvent, Student, StudentNumberAlias
from xueji.students.selectors import student_by_number
from xueji.testing.factories import SchoolFactory, member, resident_id
from xueji.verification.services import student_report_error

from ..files import PDF, png

pytestmark = pytest.mark.django_db


def submit(school, **changes):
    return correction_submit(
        actor=school["registrar"],
        student_id=school["pupil"].pk,
        changes=changes or {"name": "张春明"},
        reason="户口簿上的姓名是张春明",
        evidence=[Upload("hukou.pdf", PDF), Upload("photo.png", png())],
    )


def approve(school, correction):
    correction_school_decision(actor=school["principal"], correction_id=correction.pk, approve=True)
    return correction_county_decision(
        actor=school["approver"], correction_id=correction.pk, approve=True
    )


def test_the_record_changes_only_on_the_county_s_approval(school):
    correction = submit(school)
    assert correction.state == State.PENDING_SCHOOL
    assert correction.changes == {"name": {"before": "张春铭", "after": "张春明"}}
    assert Evidence.objects.filter(correction=correction).count() == 2
    correction_school_decision(actor=school["principal"], correction_id=correction.pk, approve=True)
    assert Student.objects.get(pk=school["pupil"].pk).name == "张春铭"
    done = correction_county_decision(
        actor=school["approver"], correction_id=correction.pk, approve=True, note="核实无误"
    )
    assert done.state == State.APPROVED
    student = Student.objects.get(pk=school["pupil"].pk)
    assert (student.name, student.name_pinyin, student.name_initials) == (
        "张春明",
        "zhangchunming",
        "zcm",
    )
    event = RecordEvent.objects.filter(student=student).latest("recorded_at")
    assert event.detail["key_data_corrected"] is True
    assert event.detail["correction"] == str(correction.pk) and event.detail["fields"] == ["name"]
    entry = AuditEntry.objects.filter(action="student.key_data_correct").get()
    assert (entry.before, entry.after) == ({"name": "张春铭"}, {"name": "张春明"})
    assert entry.actor == school["approver"]
    steps = list(CorrectionStep.objects.filter(correction=correction))
    assert [(s.from_state, s.to_state, s.actor_role) for s in steps] == [
        ("", State.PENDING_SCHOOL, Role.REGISTRAR),
        (State.PENDING_SCHOOL, State.PENDING_COUNTY, Role.PRINCIPAL),
        (State.PENDING_COUNTY, State.APPROVED, Role.BUREAU_APPROVER),
    ]


def test_a_corrected_id_number_gives_a_new_g_number_and_the_old_one_keeps_resolving(school):
    pupil = school["pupil"]
    old_number = pupil.reveal_student_number()
    new_id = resident_id(birth_date=pupil.birth_date)
    correction = submit(school, id_number=new_id)
    kept = correction.changes["id_number"]
    assert new_id not in str(kept) and pupil.reveal_id_number() not in str(kept)  # encrypted
    approve(school, correction)
    student = Student.objects.get(pk=pupil.pk)
    assert student.reveal_id_number() == new_id and student.reveal_student_number() == "G" + new_id
    alias = StudentNumberAlias.objects.get(number_index=number_index(old_number), student=student)
    # Kept sealed too, so that a change of suite can recompute its index (students.sealing).
    assert unseal(alias.number_sealed, context=STUDENT_NUMBER) == old_number
    assert student_by_number(school["registrar"], old_number) == student
    entry = AuditEntry.objects.filter(action="student.key_data_correct").get()
    assert new_id not in str(entry.after)


def test_basic_information_is_checked_like_at_registration(school):
    with pytest.raises(FieldErrors) as refused:
        submit(school, birth_date=datetime.date(2019, 1, 1))  # disagrees with the ID number
    assert "id_number" in refused.value.errors
    with pytest.raises(FieldErrors) as refused:
        submit(school, ethnicity="99")
    assert "ethnicity" in refused.value.errors
    with pytest.raises(FieldErrors) as refused:
        submit(school, name="张春铭")
    assert refused.value.errors["__all__"][0].code == "no_change"
    with pytest.raises(FieldErrors):
        submit(school, address="深圳市福田区")  # not basic information
    assert not CorrectionRequest.objects.exists()


def test_evidence_and_a_reason_are_required(school):
    with pytest.raises(FieldErrors) as refused:
        correction_submit(
            actor=school["registrar"],
            student_id=school["pupil"].pk,
            changes={"name": "张春明"},
            reason="",
            evidence=[Upload("note.txt", b"just text")],
        )
    assert set(refused.value.errors) == {"reason", "evidence"}
    assert refused.value.errors["evidence"][0].code == "file_type"
    with pytest.raises(FieldErrors) as refused:
        correction_submit(
            actor=school["registrar"],
            student_id=school["pupil"].pk,
            changes={"name": "张春明"},
            reason="户口簿",
            evidence=[],
        )
    assert refused.value.errors["evidence"][0].code == "required"


def test_only_the_school_s_registrar_asks(school):
    elsewhere = member(Role.REGISTRAR, school=SchoolFactory())
    with pytest.raises(NotFound):
        correction_submit(
            actor=elsewhere,
            student_id=school["pupil"].pk,
            changes={"name": "张春明"},
            reason="x",
            evidence=[Upload("a.pdf", PDF)],
        )
    for user in (school["principal"], school["teacher"], school["approver"]):
        with pytest.raises(PermissionRefused):
            correction_submit(
                actor=user,
                student_id=school["pupil"].pk,
                changes={"name": "张春明"},
                reason="x",
                evidence=[Upload("a.pdf", PDF)],
            )


def test_each_step_belongs_to_its_approver(school):
    correction = submit(school)
    # The county cannot approve before the school; the principal cannot take the county's step.
    with pytest.raises(InvalidTransition):
        correction_county_decision(
            actor=school["approver"], correction_id=correction.pk, approve=True
        )
    other_principal = member(Role.PRINCIPAL, school=SchoolFactory())
    with pytest.raises(NotFound):
        correction_school_decision(actor=other_principal, correction_id=correction.pk, approve=True)
    correction_school_decision(actor=school["principal"], correction_id=correction.pk, approve=True)
    with pytest.raises(InvalidTransition):
        correction_school_decision(
            actor=school["principal"], correction_id=correction.pk, approve=True
        )
    with pytest.raises(PermissionRefused):
        correction_county_decision(
            actor=school["principal"], correction_id=correction.pk, approve=True
        )
    nanshan = member(Role.BUREAU_APPROVER, division=Division.objects.get(code="440305"))
    with pytest.raises(NotFound):
        correction_county_decision(actor=nanshan, correction_id=correction.pk, approve=True)
    shenzhen = member(Role.BUREAU_APPROVER, division=Division.objects.get(code="440300"))
    with pytest.raises(PermissionRefused):
        correction_county_decision(actor=shenzhen, correction_id=correction.pk, approve=True)
    viewer = member(Role.BUREAU_VIEWER, division=Division.objects.get(code="440304"))
    with pytest.raises(PermissionRefused):
        correction_county_decision(actor=viewer, correction_id=correction.pk, approve=True)
    assert CorrectionRequest.objects.get(pk=correction.pk).state == State.PENDING_COUNTY


def test_a_rejection_needs_a_reason_and_leaves_the_record(school):
    correction = submit(school)
    with pytest.raises(FieldErrors):
        correction_school_decision(
            actor=school["principal"], correction_id=correction.pk, approve=False
        )
    rejected = correction_school_decision(
        actor=school["principal"], correction_id=correction.pk, approve=False, note="证据不清"
    )
    assert rejected.state == State.REJECTED
    assert Student.objects.get(pk=school["pupil"].pk).name == "张春铭"
    # A new request can be made once the old one is closed.
    assert submit(school).state == State.PENDING_SCHOOL


def test_one_request_under_way_per_student(school):
    submit(school)
    with pytest.raises(Conflict):
        submit(school, ethnicity="03")


def test_the_registrar_withdraws_before_the_school_decides(school):
    correction = submit(school)
    assert (
        correction_withdraw(actor=school["registrar"], correction_id=correction.pk).state
        == State.WITHDRAWN
    )
    with pytest.raises(InvalidTransition):
        correction_withdraw(actor=school["registrar"], correction_id=correction.pk)


def test_a_record_changed_since_the_request_is_not_overwritten(school):
    correction = submit(school)
    correction_school_decision(actor=school["principal"], correction_id=correction.pk, approve=True)
    Student.objects.filter(pk=school["pupil"].pk).update(name="张春鸣")
    with pytest.raises(Conflict) as refused:
        correction_county_decision(
            actor=school["approver"], correction_id=correction.pk, approve=True
        )
    assert refused.value.code == "record_changed"
    assert CorrectionRequest.objects.get(pk=correction.pk).state == State.PENDING_COUNTY
    assert Student.objects.get(pk=school["pupil"].pk).name == "张春鸣"


def test_a_class_teacher_s_report_is_completed_or_dismissed_by_the_registrar(school, today):
    today(FIRST)
    check = student_report_error(
        actor=school["teacher"], student_id=school["pupil"].pk, note="名字写错了"
    )
    completed = correction_submit(
        actor=school["registrar"],
        correction_id=check.correction.pk,
        changes={"name": "张春明"},
        reason="核对户口簿",
        evidence=[Upload("hukou.pdf", PDF)],
    )
    assert completed.pk == check.correction.pk and completed.state == State.PENDING_SCHOOL
    assert completed.report_note == "名字写错了"

    other = student_report_error(
        actor=school["colleague"], student_id=school["other"].pk, note="性别错了"
    )
    with pytest.raises(FieldErrors):
        correction_dismiss(actor=school["registrar"], correction_id=other.correction.pk, note="")
    dismissed = correction_dismiss(
        actor=school["registrar"], correction_id=other.correction.pk, note="核对无误"
    )
    assert dismissed.state == State.DISMISSED


def test_opening_evidence_is_audited_and_limited_to_the_area(school):
    correction = submit(school)
    evidence = Evidence.objects.filter(correction=correction, content_type="application/pdf").get()
    found, content = evidence_open(
        actor=school["approver"], correction_id=correction.pk, evidence_id=evidence.pk
    )
    assert content == PDF and found.file_name == "hukou.pdf"
    assert AuditEntry.objects.filter(action="correction.evidence_open", actor=school["approver"])
    for user in (
        member(Role.BUREAU_VIEWER, division=Division.objects.get(code="440305")),
        school["teacher"],
        member(Role.AUDITOR),
    ):
        with pytest.raises(NotFound):
            evidence_open(actor=user, correction_id=correction.pk, evidence_id=evidence.pk)
