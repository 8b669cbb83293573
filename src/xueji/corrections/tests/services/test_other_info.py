"""The registrar edits other (non-basic) information directly; basic information is refused."""

import pytest

from xueji.access.models import Role
from xueji.access.scope import PermissionRefused
from xueji.audit.models import AuditEntry
from xueji.core.errors import FieldErrors, NotFound, ServiceError
from xueji.students.models import EventKind, RecordEvent, Student
from xueji.students.services import student_update_other_info
from xueji.testing.factories import SchoolFactory, member

pytestmark = pytest.mark.django_db


def test_the_registrar_edits_other_information_with_before_and_after(school):
    student = student_update_other_info(
        actor=school["registrar"],
        student_id=school["pupil"].pk,
        changes={"address": "深圳市福田区莲花路1号", "left_behind": "1", "needs_aid": True},
    )
    stored = Student.objects.get(pk=student.pk)
    assert (stored.address, stored.left_behind, stored.needs_aid) == (
        "深圳市福田区莲花路1号",
        "1",
        True,
    )
    entry = AuditEntry.objects.filter(action="student.edit_other_info").get()
    assert entry.before == {"address": "", "left_behind": "0", "needs_aid": False}
    assert entry.after["address"] == "深圳市福田区莲花路1号"
    event = RecordEvent.objects.filter(student=stored, kind=EventKind.INFO_UPDATED).get()
    assert event.detail == {"fields": ["address", "left_behind", "needs_aid"]}


def test_nothing_changed_writes_nothing(school):
    student_update_other_info(
        actor=school["registrar"], student_id=school["pupil"].pk, changes={"address": ""}
    )
    assert not AuditEntry.objects.filter(action="student.edit_other_info").exists()


def test_other_information_is_checked(school):
    with pytest.raises(FieldErrors) as refused:
        student_update_other_info(
            actor=school["registrar"],
            student_id=school["pupil"].pk,
            changes={"phone": "not a phone", "left_behind": "7"},
        )
    assert set(refused.value.errors) == {"phone", "left_behind"}


def test_basic_information_is_refused_here(school):
    with pytest.raises(ServiceError) as refused:
        student_update_other_info(
            actor=school["registrar"], student_id=school["pupil"].pk, changes={"name": "张三"}
        )
    assert refused.value.code == "basic_information"
    assert Student.objects.get(pk=school["pupil"].pk).name == "张春铭"


def test_only_the_school_s_registrar_edits(school):
    with pytest.raises(NotFound):
        student_update_other_info(
            actor=member(Role.REGISTRAR, school=SchoolFactory()),
            student_id=school["pupil"].pk,
            changes={"address": "x"},
        )
    for user in (school["principal"], school["teacher"], school["approver"]):
        with pytest.raises((NotFound, PermissionRefused)):
            student_update_other_info(
                actor=user, student_id=school["pupil"].pk, changes={"address": "x"}
            )
    assert Student.objects.get(pk=school["pupil"].pk).address == ""
