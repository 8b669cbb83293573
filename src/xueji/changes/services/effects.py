"""The effect of a completed change on the record: where the child goes (the receiving class,
the class of a class change) and which state and event the record takes, decided here and
written by the students app (xueji.students.record) in the final approval's transaction."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from xueji.changes.kinds import SPECS, Chain, Effect, kinds_where, spec_of
from xueji.changes.models import ChangeRequest
from xueji.core.errors import Conflict
from xueji.schools.models import SchoolClass, academic_start_year
from xueji.students.models import EventKind, Placement, RecordState, Student
from xueji.students.record import (
    open_placement_locked,
    record_leave,
    record_move,
    record_state_restore,
    record_state_set,
)

# Derived from the kinds' specification (xueji.changes.kinds): the state a completed change
# leaves the record in, the record event appended, and the exits (the placement closes).
NEW_STATE: dict[str, RecordState] = {
    kind: spec.result for kind, spec in SPECS.items() if spec.result is not None
}
EVENT_OF: dict[str, EventKind] = {kind: spec.event for kind, spec in SPECS.items()}
CLOSING_KINDS = kinds_where(effect=Effect.CLOSES)


def _target_class(change: ChangeRequest, on: datetime.date) -> SchoolClass:
    """The class the student joins at the receiver: the class chosen on filing, or, if the
    school year has turned since, the class of the same number one grade up per year."""
    assert change.to_class_id is not None and change.to_school_id is not None
    chosen = SchoolClass.objects.select_related("academic_year").get(pk=change.to_class_id)
    year = academic_start_year(on)
    if chosen.academic_year.start_year >= year:
        return chosen
    grade = chosen.grade + (year - chosen.academic_year.start_year)
    candidates = SchoolClass.objects.filter(
        school_id=change.to_school_id, academic_year__start_year=year, grade=grade
    ).order_by("number")
    found = candidates.filter(number=chosen.number).first() or candidates.first()
    if found is None:
        raise Conflict(
            "no_class",
            _("The receiving school has no class of grade %(grade)s this year: open one first.")
            % {"grade": grade},
        )
    return found


def _class_change_target(
    change: ChangeRequest, placement: Placement, on: datetime.date
) -> SchoolClass:
    """The class chosen on filing, or, if the year has turned since, the class of the same
    number in the student's grade this year."""
    assert change.to_class_id is not None
    chosen = SchoolClass.objects.select_related("academic_year").get(pk=change.to_class_id)
    year = academic_start_year(on)
    if chosen.academic_year.start_year != year or chosen.grade != placement.grade:
        found = SchoolClass.objects.filter(
            school_id=placement.school_id,
            academic_year__start_year=year,
            grade=placement.grade,
            number=chosen.number,
        ).first()
        if found is None:
            raise Conflict(
                "no_class", _("The class chosen no longer exists this year; file the change again.")
            )
        chosen = found
    if chosen.pk == placement.school_class_id:
        raise Conflict("same_class", _("The student is already in this class."))
    return chosen


def apply_effect(change: ChangeRequest, *, actor: Any, on: datetime.date) -> None:
    """The effect of a completed change on the record, in the approval's transaction: the
    students app moves it (xueji.students.record), this decides where to."""
    student = Student.objects.select_for_update().get(pk=change.student_id)
    placement = open_placement_locked(student.pk)
    if placement is None or placement.start_date > on:
        raise Conflict(
            "record_moved", _("The record has no current placement to change; reject the request.")
        )
    detail: dict[str, Any] = {"change": str(change.pk)}
    spec = spec_of(change.kind)
    if spec.effect == Effect.MOVES:
        assert spec.placement_reason is not None
        if spec.chain == Chain.TRANSFER:
            if placement.school_id != change.from_school_id:
                raise Conflict(
                    "record_moved",
                    _("The record is no longer at the sending school; reject the request."),
                )
            target = _target_class(change, on)
        else:
            target = _class_change_target(change, placement, on)
        detail.update(
            {"from_school": placement.school_id, "to_school": target.school_id, "class": target.pk}
        )
        record_move(
            actor=actor,
            student=student,
            placement=placement,
            to_class=target,
            on=on,
            reason=spec.placement_reason,
            event=spec.event,
            state=spec.result,
            detail=detail,
        )
    elif spec.effect == Effect.CLOSES:
        assert spec.result is not None
        detail["school"] = placement.school_id
        record_leave(
            actor=actor,
            student=student,
            placement=placement,
            on=on,
            state=spec.result,
            event=spec.event,
            detail=detail,
        )
    else:
        record_state_set(
            actor=actor,
            student=student,
            state=spec.result or RecordState(student.state),
            on=on,
            event=spec.event,
            detail=detail,
        )


def restore_after_stop(change: ChangeRequest) -> None:
    """A change that will not happen gives the record its state back: a transfer's 转学中
    becomes 在籍 at the sender again."""
    spec = spec_of(change.kind)
    if spec.pending_state is not None:
        record_state_restore(
            student_ids=[change.student_id], was=spec.pending_state, to=spec.from_states[0]
        )
