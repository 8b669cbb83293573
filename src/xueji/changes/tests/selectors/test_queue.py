"""Each party's queue, and what lies outside a scope."""

import datetime

import pytest

from xueji.changes.models import ApprovalStep, ChangeRequest, ChangeState, StepState
from xueji.changes.queues import QueueFilters, box_changes, box_rows
from xueji.changes.selectors import (
    change_detail,
    changes_in_scope,
    inbox_count,
    incoming_transfers,
    mask_name,
    public_notice,
    transfer_candidate,
)
from xueji.changes.tests.views.scenario import (
    approve_all,
    approve_until,
    enrol,
    file_suspension,
    file_transfer,
)
from xueji.core.idnumbers import mask_student_number
from xueji.students.identity import number_index
from xueji.students.models import NumberKind, StudentNumberAlias

pytestmark = pytest.mark.django_db


def ids(rows):
    return {row.change.pk for row in rows}


def queue(user, box):
    """The rows of one box of the user's queue."""
    return list(box_rows(user, box))


def test_names_are_masked_like_the_public_notice():
    assert mask_name("张春铭") == "张*铭"
    assert mask_name("张铭") == "张*"
    assert mask_name("欧阳春铭") == "欧**铭"
    assert mask_name("铭") == "铭"


def test_the_cross_province_chain_reaches_each_party_in_order(scene):
    change = file_transfer(scene, scene.child)
    in_order = [
        scene.approvers["110101"],
        scene.approvers["110000"],
        scene.sender.principal,
        scene.approvers["440304"],
        scene.approvers["440000"],
    ]
    for position, party in enumerate(in_order):
        assert ids(queue(party, "waiting")) == {change.pk}, position
        assert inbox_count(party) == 1
        # Nobody else in the chain has it waiting now.
        for other in in_order[:position] + in_order[position + 1 :]:
            assert change.pk not in ids(queue(other, "waiting"))
        change = approve_until(scene, change, 1)
    assert change.state == ChangeState.COMPLETED
    assert inbox_count(scene.approvers["440000"]) == 0


def test_the_applicant_follows_its_application_and_the_sender_sees_it(scene):
    change = file_transfer(scene, scene.child)
    assert ids(queue(scene.receiver.registrar, "filed")) == {change.pk}
    # Both sides see it, the sender before its own step comes.
    assert change_detail(scene.sender.registrar, change.pk) is not None
    assert change_detail(scene.approvers["440000"], change.pk) is not None
    assert ids(
        incoming_transfers(scene.receiver.registrar, school_id=scene.receiver.school.pk)
    ) == {change.pk}


def test_a_county_approver_sees_nothing_of_another_county(scene):
    nanshan_child = enrol(scene.nanshan, "王大山")
    theirs = file_suspension(scene.nanshan, nanshan_child)
    ours = file_suspension(scene.sender, scene.child)
    futian = scene.approvers["440304"]
    assert ids(queue(futian, "waiting")) == {ours.pk}
    assert set(changes_in_scope(futian).values_list("pk", flat=True)) == {ours.pk}
    assert change_detail(futian, theirs.pk) is None
    assert ids(queue(scene.approvers["440305"], "waiting")) == {theirs.pk}
    # The city sees both, decides neither; another province sees nothing.
    assert set(changes_in_scope(scene.shenzhen_viewer).values_list("pk", flat=True)) == {
        ours.pk,
        theirs.pk,
    }
    assert queue(scene.shenzhen_viewer, "waiting") == []
    assert not changes_in_scope(scene.approvers["110000"]).exists()


def test_a_school_sees_only_its_own_and_a_class_teacher_nothing(scene):
    ours = file_suspension(scene.sender, scene.child)
    assert change_detail(scene.nanshan.registrar, ours.pk) is None
    assert queue(scene.nanshan.principal, "waiting") == []
    assert change_detail(scene.class_teacher, ours.pk) is None
    assert inbox_count(scene.class_teacher) == 0


def test_overdue_steps_are_flagged_and_held_requests_show_their_date(scene):
    change = file_transfer(scene, scene.child)
    ApprovalStep.objects.filter(request=change, state=StepState.PENDING).update(
        due_on=datetime.date(2000, 1, 3)
    )
    (row,) = queue(scene.approvers["110101"], "waiting")
    assert row.overdue
    late = box_changes(scene.approvers["110101"], "waiting", QueueFilters(flag="overdue"))
    assert list(late) == [change]

    other = enrol(scene.nanshan, "王大山")
    held = file_suspension(scene.nanshan, other)
    ApprovalStep.objects.filter(request=held).exclude(ordinal=1).update(
        state=StepState.WAITING, due_on=None
    )
    ChangeRequest.objects.filter(pk=held.pk).update(
        state=ChangeState.HELD, resumes_on=datetime.date(2030, 8, 15)
    )
    (row,) = queue(scene.approvers["440305"], "held")
    assert row.change.resumes_on == datetime.date(2030, 8, 15)
    assert queue(scene.approvers["440305"], "waiting") == []


def test_the_registrar_finds_a_child_only_with_the_number_and_the_exact_name(scene):
    number = scene.child.reveal_student_number()
    found = transfer_candidate(scene.receiver.registrar, number=number, name="张春铭")
    assert found is not None
    assert found.masked_name == "张*铭" and found.school_name == scene.sender.school.name
    assert found.grade == 2 and found.birth_year == scene.child.birth_date.year
    assert not hasattr(found, "student_id")
    assert transfer_candidate(scene.receiver.registrar, number=number, name="张春") is None
    assert transfer_candidate(scene.receiver.registrar, number=number, name="") is None
    # Only a school registrar looks children up.
    assert transfer_candidate(scene.receiver.principal, number=number, name="张春铭") is None
    assert transfer_candidate(scene.approvers["110101"], number=number, name="张春铭") is None


def test_the_public_notice_lists_completed_transfers_both_ways_masked(scene):
    change = approve_all(scene, file_transfer(scene, scene.child))
    on = change.effective_date
    period = {"start": on - datetime.timedelta(days=1), "end": on}
    notice_in = public_notice(
        scene.receiver.registrar, school_id=scene.receiver.school.pk, **period
    )
    assert [r.masked_name for r in notice_in.transfers_in] == ["张*铭"]
    assert notice_in.transfers_in[0].other_school == scene.sender.school.name
    assert notice_in.transfers_out == []
    notice_out = public_notice(scene.sender.principal, school_id=scene.sender.school.pk, **period)
    assert [r.masked_name for r in notice_out.transfers_out] == ["张*铭"]
    # Another school's notice is not this school's business; an earlier period is empty.
    assert (
        public_notice(scene.nanshan.registrar, school_id=scene.sender.school.pk, **period) is None
    )
    earlier = {"start": on - datetime.timedelta(days=60), "end": on - datetime.timedelta(days=31)}
    assert (
        public_notice(
            scene.sender.principal, school_id=scene.sender.school.pk, **earlier
        ).transfers_out
        == []
    )


def test_the_registrar_finds_a_child_by_a_former_number_too(scene):
    """A number the child held before (kept as an alias when it changed, J to G) still finds the
    child, like the current one (终身不变: the old number resolves to the same record)."""
    child = scene.child
    old_number = child.reveal_student_number()
    StudentNumberAlias.objects.create(
        number_index=number_index("J440304202003050019"),
        number_masked=mask_student_number("J440304202003050019"),
        kind=NumberKind.J,
        student=child,
    )
    found = transfer_candidate(
        scene.receiver.registrar, number="J440304202003050019", name="张春铭"
    )
    assert found is not None and found.school_name == scene.sender.school.name
    assert (
        transfer_candidate(scene.receiver.registrar, number=old_number, name="张春铭") is not None
    )
