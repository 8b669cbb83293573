"""The one place that moves a child's record: opens and closes placements, changes the record's
state and appends to its history (籍随人走: the record follows the child, and only this module
writes where it is).

Workflows decide *whether* a record moves (a transfer approved, a suspension granted, a year-end
run started); these functions do *how*, inside the caller's transaction, which also holds the
caller's audit entry. They never check permissions: the caller's service has done so.
For many children at once (year end, imports, the demo) see `xueji.students.bulk`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.core.errors import Conflict
from xueji.schools.models import School, SchoolClass
from xueji.students.models import (
    EventKind,
    Placement,
    PlacementReason,
    RecordEvent,
    RecordState,
    Student,
)


class OutsideTransaction(RuntimeError):
    """A record was moved outside a transaction: its placement, state and event could part."""


def _in_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise OutsideTransaction("the record is moved inside the caller's transaction")


class SchoolClosed(Conflict):
    """A placement would open at a school that has closed (or merged into another)."""


def _refuse_closed_school(school_id: int) -> None:
    """A closed school keeps its history and takes no one new, whichever workflow asks."""
    school = School.objects.filter(pk=school_id, closed_on__isnull=False).first()
    if school is not None:
        raise SchoolClosed(
            "school_closed",
            _("%(name)s was closed on %(day)s.") % {"name": school.name, "day": school.closed_on},
        )


def open_placement_locked(student_id: Any) -> Placement | None:
    """The student's open placement, locked until the caller's transaction ends."""
    _in_transaction()
    return (
        # of=self: the school joined for its name is read, not locked (transfers at one school
        # would otherwise queue behind each other).
        Placement.objects.select_for_update(of=("self",))
        .select_related("school")
        .filter(student_id=student_id, end_date__isnull=True)
        .first()
    )


def placement_open(
    *, student: Student, school_class: SchoolClass, on: datetime.date, reason: PlacementReason
) -> Placement:
    """A new open placement of a student who has none (a registration)."""
    _in_transaction()
    _refuse_closed_school(school_class.school_id)
    return Placement.objects.create(
        student=student,
        school_id=school_class.school_id,
        school_class=school_class,
        grade=school_class.grade,
        start_date=on,
        reason=PlacementReason(reason),
    )


def record_event_append(
    *,
    student: Student | Any,
    kind: EventKind,
    on: datetime.date,
    actor: Any,
    detail: dict[str, Any] | None = None,
) -> RecordEvent:
    """One entry of the record's own history (appended, never rewritten)."""
    _in_transaction()
    return RecordEvent.objects.create(
        student_id=getattr(student, "pk", student),
        kind=EventKind(kind),
        occurred_on=on,
        actor=actor if getattr(actor, "pk", None) else None,
        detail=detail or {},
    )


def record_move(
    *,
    actor: Any,
    student: Student,
    placement: Placement,
    to_class: SchoolClass,
    on: datetime.date,
    reason: PlacementReason,
    event: EventKind,
    state: RecordState | None = None,
    detail: dict[str, Any] | None = None,
) -> Placement:
    """Close the open `placement` on `on` and open one in `to_class` from `on` (the same record,
    the same number, its history kept); the student's school follows; `state` when given."""
    _in_transaction()
    _refuse_closed_school(to_class.school_id)
    placement.end_date = on
    placement.save(update_fields=["end_date"])
    opened = Placement.objects.create(
        student=student,
        school_id=to_class.school_id,
        school_class=to_class,
        grade=to_class.grade,
        start_date=on,
        reason=PlacementReason(reason),
    )
    updated = ["updated_at"]
    if student.school_id != to_class.school_id:
        student.school_id = to_class.school_id
        updated.append("school")
    if state is not None and student.state != state:
        student.state = state
        updated.append("state")
    student.save(update_fields=updated)
    record_event_append(student=student, kind=event, on=on, actor=actor, detail=detail)
    return opened


# What a higher layer must do, in the same transaction, when a record leaves a school's roll: it
# registers at start-up (xueji.attendance opens a dropout-control case for a compulsory-age child
# left with nowhere to go). `hook(actor, student, placement, on, state, detail)`; the placement
# is the one just closed.
AfterLeave = Callable[[Any, Student, Placement, datetime.date, RecordState, dict[str, Any]], None]
_AFTER_LEAVE: list[AfterLeave] = []


def register_after_leave(hook: AfterLeave) -> None:
    """`hook` runs inside record_leave's transaction once the record has left."""
    if hook not in _AFTER_LEAVE:
        _AFTER_LEAVE.append(hook)


def record_leave(
    *,
    actor: Any,
    student: Student,
    placement: Placement,
    on: datetime.date,
    state: RecordState,
    event: EventKind,
    detail: dict[str, Any] | None = None,
) -> None:
    """The child leaves the school's roll (退学, 辍学, 出国, 死亡 …): the placement closes on `on`
    and the record takes the leaving state."""
    _in_transaction()
    placement.end_date = on
    placement.save(update_fields=["end_date"])
    student.state = RecordState(state)
    student.save(update_fields=["state", "updated_at"])
    record_event_append(student=student, kind=event, on=on, actor=actor, detail=detail)
    for hook in _AFTER_LEAVE:
        hook(actor, student, placement, on, RecordState(state), detail or {})


def record_state_set(
    *,
    actor: Any,
    student: Student,
    state: RecordState,
    on: datetime.date | None = None,
    event: EventKind | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """The record's state changes where it is (休学, 复学, 转学中): the placement stays; an event
    when the change is part of the record's history."""
    _in_transaction()
    student.state = RecordState(state)
    student.save(update_fields=["state", "updated_at"])
    if event is not None:
        record_event_append(
            student=student,
            kind=event,
            on=on or timezone.localdate(),
            actor=actor,
            detail=detail,
        )


def record_state_restore(*, student_ids: Iterable[Any], was: RecordState, to: RecordState) -> int:
    """Records still in state `was` go back to `to` (a transfer that will not happen: 转学中 →
    在籍); no event, the record never left. Returns how many moved."""
    _in_transaction()
    return Student.objects.filter(pk__in=list(student_ids), state=was).update(
        state=to, updated_at=timezone.now()
    )


@dataclass(frozen=True)
class Admission:
    """One child admitted into a class (the year-end intake): from `on`, with its event."""

    student_id: Any
    on: datetime.date
    detail: dict[str, Any]


def records_admit(
    *,
    actor: Any,
    school_class: SchoolClass,
    admissions: Iterable[Admission],
    occurred_on: datetime.date,
) -> int:
    """Children whose records have no open placement (graduated from the stage before) are
    admitted into `school_class`: placements opened (an intake: new entrants of the stage),
    records enrolled at the school, an `admitted` event each; three statements in all."""
    _in_transaction()
    _refuse_closed_school(school_class.school_id)
    admitted = list(admissions)
    Placement.objects.bulk_create(
        Placement(
            student_id=item.student_id,
            school_id=school_class.school_id,
            school_class=school_class,
            grade=school_class.grade,
            start_date=item.on,
            reason=PlacementReason.INTAKE,
        )
        for item in admitted
    )
    Student.objects.filter(pk__in=[item.student_id for item in admitted]).update(
        state=RecordState.ENROLLED, school_id=school_class.school_id, updated_at=timezone.now()
    )
    RecordEvent.objects.bulk_create(
        RecordEvent(
            student_id=item.student_id,
            kind=EventKind.ADMITTED,
            occurred_on=occurred_on,
            actor=actor if getattr(actor, "pk", None) else None,
            detail=item.detail,
        )
        for item in admitted
    )
    return len(admitted)


def record_receive(
    *,
    student_fields: dict[str, Any],
    rows: dict[str, list[dict[str, Any]]],
    to_class: SchoolClass,
    on: datetime.date,
    detail: dict[str, Any],
) -> Student:
    """A record that moved here from another node (a transfer between provinces: the
    federation's nodes each hold one province): the student with its own id and numbers
    (`student_fields`, as the sending node exported them), the rows of its family, history and
    former numbers (`rows`, by model label: "students.FamilyMember", "students.RecordEvent",
    "students.StudentNumberAlias"; the other node's users dropped), and its placement in
    `to_class` from `on` with the transfer's event. A record that had left this node before
    (its row kept read-only) takes it again."""
    from xueji.students.models import FamilyMember, StudentNumberAlias

    _in_transaction()
    _refuse_closed_school(to_class.school_id)
    kept = {"school_id", "merged_into_id", "state", "created_at", "updated_at"}
    fields = {key: value for key, value in student_fields.items() if key not in kept}
    student = Student(**fields, school_id=to_class.school_id, state=RecordState.ENROLLED)
    if Student.objects.filter(pk=student.pk).exists():
        student.save(force_update=True)
        FamilyMember.objects.filter(student=student).delete()
    else:
        student.save(force_insert=True)
    models: dict[str, type[Any]] = {
        "students.FamilyMember": FamilyMember,
        "students.RecordEvent": RecordEvent,
        "students.StudentNumberAlias": StudentNumberAlias,
    }
    for label, model in models.items():
        objects = []
        for row in rows.get(label, []):
            values = {**row, "student_id": student.pk}
            if "actor_id" in values:
                values["actor_id"] = None  # a user of the other node
            objects.append(model(**values))
        model._default_manager.bulk_create(objects, ignore_conflicts=True)
    Placement.objects.create(
        student=student,
        school_id=to_class.school_id,
        school_class=to_class,
        grade=to_class.grade,
        start_date=on,
        reason=PlacementReason.TRANSFER,
    )
    record_event_append(
        student=student, kind=EventKind.TRANSFERRED, on=on, actor=None, detail=detail
    )
    return student
