"""The class teacher confirms a record or reports an error, in the window, for own students;
a report becomes a correction request for the registrar and changes nothing in the record."""

import pytest

from xueji.access.scope import PermissionRefused
from xueji.access.tests.fixtures import AFTER, FIRST
from xueji.audit.models import AuditEntry
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.corrections.models import CorrectionRequest
from xueji.corrections.workflow import State
from xueji.students.models import Student
from xueji.verification.models import CheckOutcome
from xueji.verification.services import student_confirm, student_report_error

pytestmark = pytest.mark.django_db


def test_a_confirmation_is_recorded_once_per_window(school, today):
    today(FIRST)
    check = student_confirm(actor=school["teacher"], student_id=school["pupil"].pk)
    assert check.outcome == CheckOutcome.CONFIRMED
    assert check.window == school["window"] and check.school_class == school["mine"]
    assert AuditEntry.objects.filter(action="student.verify", object_id=school["pupil"].pk)
    with pytest.raises(Conflict):
        student_confirm(actor=school["teacher"], student_id=school["pupil"].pk)


def test_a_report_opens_a_correction_request_for_the_registrar(school, today):
    today(FIRST)
    before = Student.objects.values().get(pk=school["pupil"].pk)
    check = student_report_error(
        actor=school["teacher"], student_id=school["pupil"].pk, note="出生日期应为2020-03-06"
    )
    assert check.outcome == CheckOutcome.REPORTED
    correction = check.correction
    assert correction.state == State.REPORTED
    assert correction.report_note == "出生日期应为2020-03-06"
    assert correction.school == school["school"] and correction.changes == {}
    assert [s.to_state for s in correction.steps.all()] == [State.REPORTED]
    after = Student.objects.values().get(pk=school["pupil"].pk)
    assert after == before  # the class teacher changes nothing


def test_a_report_needs_a_note(school, today):
    today(FIRST)
    with pytest.raises(FieldErrors):
        student_report_error(actor=school["teacher"], student_id=school["pupil"].pk, note=" ")
    assert not CorrectionRequest.objects.exists()


def test_outside_the_window_or_the_own_class_there_is_nothing_to_check(school, today):
    today(AFTER)
    with pytest.raises(NotFound):
        student_confirm(actor=school["teacher"], student_id=school["pupil"].pk)
    today(FIRST)
    with pytest.raises(NotFound):
        student_confirm(actor=school["teacher"], student_id=school["other"].pk)
    with pytest.raises(NotFound):
        student_report_error(actor=school["teacher"], student_id=school["other"].pk, note="x")


def test_only_class_teachers_check(school, today):
    today(FIRST)
    for user in (school["registrar"], school["principal"], school["approver"]):
        with pytest.raises(PermissionRefused):
            student_confirm(actor=user, student_id=school["pupil"].pk)


def test_a_second_report_while_a_request_is_under_way_is_refused(school, today):
    today(FIRST)
    student_report_error(actor=school["teacher"], student_id=school["pupil"].pk, note="姓名有误")
    with pytest.raises(Conflict):
        student_report_error(actor=school["teacher"], student_id=school["pupil"].pk, note="又一次")
    assert CorrectionRequest.objects.count() == 1
