"""留级 and 跳级 wait for the year end, which applies them (and, reversed, reopens them) through
the workflow's own steps, set-based and logged: xueji.changes.services.deferred."""

import datetime

import pytest
from django.db import transaction

from xueji.changes.models import ChangeLog, ChangeRequest, ChangeState
from xueji.changes.services import (
    change_decide,
    change_file,
    deferred_changes_apply,
    deferred_changes_reopen,
)
from xueji.changes.tests.world import FUTIAN, build_world, enrol, guardian_request
from xueji.changes.workflow import Event

pytestmark = pytest.mark.django_db
OCT = datetime.date(2026, 10, 12)
PROMOTION_DAY = datetime.date(2027, 9, 1)
# The year end passes a SELECT over its own rows; here, the students by name.
BY_NAME = "SELECT s.id FROM students_student s WHERE s.name IN (%(first)s, %(second)s)"
NAMES = {"first": "王小明", "second": "李小红"}


@pytest.fixture
def world():
    return build_world((FUTIAN,))


def approved(world, name, kind, grade=2):
    student = enrol(world.site(FUTIAN), name=name, grade=grade)
    change = change_file(
        actor=world.site(FUTIAN).registrar,
        student_id=student.pk,
        kind=kind,
        reason="家长申请",
        guardian_request=guardian_request(),
        on=OCT,
    )
    change_decide(actor=world.approvers[FUTIAN], change_id=change.pk, approve=True, on=OCT)
    change.refresh_from_db()
    assert change.state == ChangeState.APPROVED
    return change


def test_the_promotion_applies_approved_repeats_and_skips_with_a_log_row(world):
    repeat = approved(world, "王小明", "repeat")
    skip = approved(world, "李小红", "skip")
    other = approved(world, "赵小刚", "repeat")  # not among the students the promotion moved
    runner = world.approvers[FUTIAN]
    with transaction.atomic():
        done = deferred_changes_apply(
            students=BY_NAME, params=NAMES, on=PROMOTION_DAY, actor=runner.pk
        )
    assert done == 2
    for change in (repeat, skip):
        change.refresh_from_db()
        assert change.state == ChangeState.COMPLETED
        assert change.effective_date == PROMOTION_DAY and change.completed_at is not None
        last = ChangeLog.objects.filter(request=change).order_by("at", "id").last()
        assert (last.event, last.from_state, last.to_state, last.actor_id) == (
            Event.APPLY,
            ChangeState.APPROVED,
            ChangeState.COMPLETED,
            runner.pk,
        )
    other.refresh_from_db()
    assert other.state == ChangeState.APPROVED
    assert not ChangeLog.objects.filter(request=other, event=Event.APPLY).exists()


def test_applying_twice_moves_nothing_more(world):
    approved(world, "王小明", "repeat")
    with transaction.atomic():
        assert (
            deferred_changes_apply(students=BY_NAME, params=NAMES, on=PROMOTION_DAY, actor=None)
            == 1
        )
        assert (
            deferred_changes_apply(students=BY_NAME, params=NAMES, on=PROMOTION_DAY, actor=None)
            == 0
        )
    assert ChangeLog.objects.filter(event=Event.APPLY).count() == 1


def test_a_reversed_promotion_reopens_them_logged(world):
    repeat = approved(world, "王小明", "repeat")
    skip = approved(world, "李小红", "skip")
    runner = world.approvers[FUTIAN]
    with transaction.atomic():
        deferred_changes_apply(students=BY_NAME, params=NAMES, on=PROMOTION_DAY, actor=runner)
    with transaction.atomic():
        reopened = deferred_changes_reopen(
            students=BY_NAME, params=NAMES, actor=runner, note="撤销升级"
        )
    assert reopened == 2
    for change in (repeat, skip):
        change.refresh_from_db()
        assert change.state == ChangeState.APPROVED
        assert change.effective_date is None and change.completed_at is None
        events = list(
            ChangeLog.objects.filter(request=change)
            .order_by("at", "id")
            .values_list("event", "from_state", "to_state", "note")
        )
        assert events[-2:] == [
            (Event.APPLY, ChangeState.APPROVED, ChangeState.COMPLETED, ""),
            (Event.REOPEN, ChangeState.COMPLETED, ChangeState.APPROVED, "撤销升级"),
        ]
    # Approved again: the next promotion applies them once more.
    with transaction.atomic():
        assert (
            deferred_changes_apply(students=BY_NAME, params=NAMES, on=PROMOTION_DAY, actor=None)
            == 2
        )


def test_other_completed_changes_are_not_reopened(world):
    site = world.site(FUTIAN)
    student = enrol(site, name="王小明", grade=2)
    change = change_file(
        actor=site.registrar,
        student_id=student.pk,
        kind="class_change",
        reason="调班",
        to_class_id=site.klass(2, 2).pk,
        on=OCT,
    )
    assert change.state == ChangeState.COMPLETED
    with transaction.atomic():
        assert deferred_changes_reopen(students=BY_NAME, params=NAMES, actor=None) == 0
    assert ChangeRequest.objects.get(pk=change.pk).state == ChangeState.COMPLETED
