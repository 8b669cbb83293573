"""Two records of one child made one (一人多籍), and undone: the record side of
xueji.identity's merge. Inside the caller's transaction, with the caller's audit entry; no
permission check here (the identity service has done it).

The survivor keeps its number; the other record's placements, events and former numbers move
onto it, its own number becomes one of the survivor's former numbers (so that it resolves to
the survivor for ever), and it stays behind in the state `merged`, pointing at the survivor.
The child's place at the school it really attends stays open: the survivor's own, or the other
record's carried over by a placement opened with the reason `duplicate_merge` (neither a
transfer, an exit, a dropout nor a new entrant). Everything moved is named in the returned
`undo` mapping, which `records_merge_undo` reverses exactly.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.core.crypto import blind_index
from xueji.core.errors import Conflict
from xueji.students.identity import STUDENT_NUMBER
from xueji.students.models import (
    EventKind,
    Placement,
    PlacementReason,
    RecordEvent,
    RecordState,
    Student,
    StudentNumberAlias,
)
from xueji.students.record import _in_transaction, open_placement_locked, record_event_append

KEEP_SURVIVOR = "survivor"
KEEP_ABSORBED = "absorbed"


def _tombstone(student_id: Any) -> str:
    """An index no number has: the merged record's own number now belongs to the survivor."""
    return blind_index(f"merged:{student_id}", context=STUDENT_NUMBER)


def records_merge(
    *,
    actor: Any,
    survivor: Student,
    absorbed: Student,
    keep: str,
    on: datetime.date,
    detail: dict[str, Any],
) -> dict[str, Any]:
    """Merge `absorbed` into `survivor` (both locked by the caller); `keep` says whose open
    placement is the school the child attends. Returns what `records_merge_undo` needs."""
    _in_transaction()
    if absorbed.state == RecordState.MERGED or survivor.state == RecordState.MERGED:
        raise Conflict("already_merged", _("One of the two records is already merged."))
    survivor_open = open_placement_locked(survivor.pk)
    absorbed_open = open_placement_locked(absorbed.pk)
    closed: list[str] = []
    opened: str | None = None
    survivor_school_before = survivor.school_id
    survivor_state_before = survivor.state
    if keep == KEEP_ABSORBED and absorbed_open is not None:
        for placement in (survivor_open, absorbed_open):
            if placement is not None:
                placement.end_date = max(on, placement.start_date)
                placement.save(update_fields=["end_date"])
                closed.append(str(placement.pk))
        carried = Placement.objects.create(
            student=survivor,
            school_id=absorbed_open.school_id,
            school_class_id=absorbed_open.school_class_id,
            grade=absorbed_open.grade,
            start_date=max(on, absorbed_open.start_date),
            reason=PlacementReason.DUPLICATE_MERGE,
        )
        opened = str(carried.pk)
        survivor.school_id = absorbed_open.school_id
        survivor.state = absorbed.state
    elif absorbed_open is not None:
        absorbed_open.end_date = max(on, absorbed_open.start_date)
        absorbed_open.save(update_fields=["end_date"])
        closed.append(str(absorbed_open.pk))
    moved_placements = [
        str(pk) for pk in Placement.objects.filter(student=absorbed).values_list("pk", flat=True)
    ]
    Placement.objects.filter(pk__in=moved_placements).update(student=survivor)
    moved_events = [
        str(pk) for pk in RecordEvent.objects.filter(student=absorbed).values_list("pk", flat=True)
    ]
    RecordEvent.objects.filter(pk__in=moved_events).update(student=survivor)
    moved_aliases = list(
        StudentNumberAlias.objects.filter(student=absorbed).values_list("pk", flat=True)
    )
    StudentNumberAlias.objects.filter(pk__in=moved_aliases).update(student=survivor)
    alias = StudentNumberAlias.objects.create(
        number_index=absorbed.number_index,
        number_sealed=absorbed.number_sealed,
        number_masked=absorbed.number_masked,
        kind=absorbed.number_kind,
        student=survivor,
    )
    undo = {
        "closed": closed,
        "opened": opened,
        "placements": moved_placements,
        "events": moved_events,
        "aliases": moved_aliases,
        "alias": alias.pk,
        "number_index": absorbed.number_index,
        "absorbed_state": absorbed.state,
        "survivor_school": survivor_school_before,
        "survivor_state": survivor_state_before,
    }
    absorbed.number_index = _tombstone(absorbed.pk)
    absorbed.state = RecordState.MERGED
    absorbed.merged_into = survivor
    absorbed.save(update_fields=["number_index", "state", "merged_into", "updated_at"])
    survivor.save(update_fields=["school", "state", "updated_at"])
    record_event_append(
        student=survivor,
        kind=EventKind.DUPLICATE_MERGED,
        on=on,
        actor=actor,
        detail={**detail, "other": absorbed.number_masked},
    )
    record_event_append(
        student=absorbed,
        kind=EventKind.MERGED_AWAY,
        on=on,
        actor=actor,
        detail={**detail, "into": survivor.number_masked},
    )
    undo["survivor_open"] = str(opened or (survivor_open.pk if survivor_open else ""))
    return undo


def records_moved_since_merge(
    *, survivor: Student, absorbed: Student, undo: dict[str, Any], merged_at: datetime.datetime
) -> bool:
    """Has either record moved since the merge: another open placement, or anything written to
    either record's history after the merge's own entries?"""
    current = Placement.objects.filter(student=survivor, end_date__isnull=True).first()
    if (str(current.pk) if current is not None else "") != undo.get("survivor_open", ""):
        return True
    if absorbed.state != RecordState.MERGED or absorbed.merged_into_id != survivor.pk:
        return True
    return (
        RecordEvent.objects.filter(
            student_id__in=[survivor.pk, absorbed.pk], recorded_at__gt=merged_at
        )
        .exclude(kind__in=[EventKind.DUPLICATE_MERGED, EventKind.MERGED_AWAY])
        .exists()
    )


def records_merge_undo(
    *, actor: Any, survivor: Student, absorbed: Student, undo: dict[str, Any], on: datetime.date
) -> None:
    """Reverse `records_merge` exactly (the caller checked that neither record moved since)."""
    _in_transaction()
    if undo["opened"]:
        Placement.objects.filter(pk=undo["opened"]).delete()
    Placement.objects.filter(pk__in=undo["placements"]).update(student=absorbed)
    Placement.objects.filter(pk__in=undo["closed"]).update(end_date=None)
    RecordEvent.objects.filter(pk__in=undo["events"]).update(student=absorbed)
    StudentNumberAlias.objects.filter(pk__in=undo["aliases"]).update(student=absorbed)
    StudentNumberAlias.objects.filter(pk=undo["alias"]).delete()
    Student.objects.filter(pk=absorbed.pk).update(
        number_index=undo["number_index"],
        state=undo["absorbed_state"],
        merged_into=None,
        updated_at=timezone.now(),
    )
    Student.objects.filter(pk=survivor.pk).update(
        school_id=undo["survivor_school"], state=undo["survivor_state"], updated_at=timezone.now()
    )
    for student, other in ((survivor, absorbed), (absorbed, survivor)):
        record_event_append(
            student=student,
            kind=EventKind.MERGE_UNDONE,
            on=on,
            actor=actor,
            detail={"other": other.number_masked},
        )


# ---- one child's two records in two provinces (xueji.federation's merge across nodes) ----------


def record_merge_away(
    *, actor: Any, student: Student, on: datetime.date, detail: dict[str, Any]
) -> dict[str, Any]:
    """This record (locked by the caller) is merged into the child's record in another province:
    the end state of `records_merge`'s absorbed record (state `merged`, its open placement closed
    on `on`, no exit; its number no longer its own), but its history stays here, read-only, as
    a transfer's sending province keeps its placements (the survivor is on another node; the
    caller keeps a tombstone that resolves the number there). `detail` names the survivor.
    Returns what `record_merge_away_undo` needs."""
    _in_transaction()
    if student.state == RecordState.MERGED:
        raise Conflict("already_merged", _("One of the two records is already merged."))
    placement = open_placement_locked(student.pk)
    closed: list[str] = []
    if placement is not None:
        placement.end_date = max(on, placement.start_date)
        placement.save(update_fields=["end_date"])
        closed.append(str(placement.pk))
    undo = {"closed": closed, "number_index": student.number_index, "state": student.state}
    student.number_index = _tombstone(student.pk)
    student.state = RecordState.MERGED
    student.save(update_fields=["number_index", "state", "updated_at"])
    record_event_append(
        student=student, kind=EventKind.MERGED_AWAY, on=on, actor=actor, detail=detail
    )
    return undo


def record_moved_since_merge_away(*, student: Student, merged_at: datetime.datetime) -> bool:
    """Has the record merged away changed since: another state, a placement, an event?"""
    if student.state != RecordState.MERGED:
        return True
    if Placement.objects.filter(student=student, end_date__isnull=True).exists():
        return True
    return (
        RecordEvent.objects.filter(student=student, recorded_at__gt=merged_at)
        .exclude(kind=EventKind.MERGED_AWAY)
        .exists()
    )


def record_merge_away_undo(
    *, actor: Any, student: Student, undo: dict[str, Any], on: datetime.date, detail: dict[str, Any]
) -> None:
    """Reverse `record_merge_away` exactly (the caller checked that the record did not move)."""
    _in_transaction()
    Placement.objects.filter(pk__in=undo["closed"]).update(end_date=None)
    Student.objects.filter(pk=student.pk).update(
        number_index=undo["number_index"], state=undo["state"], updated_at=timezone.now()
    )
    record_event_append(
        student=student, kind=EventKind.MERGE_UNDONE, on=on, actor=actor, detail=detail
    )


def record_merged_from_elsewhere(
    *, actor: Any, student: Student, on: datetime.date, detail: dict[str, Any], undone: bool = False
) -> None:
    """The survivor's side of a merge across provinces: the other province's record of the child
    was merged into this one (or that merge undone); the history says so."""
    _in_transaction()
    record_event_append(
        student=student,
        kind=EventKind.MERGE_UNDONE if undone else EventKind.DUPLICATE_MERGED,
        on=on,
        actor=actor,
        detail=detail,
    )
