"""A record that moved to another node (a transfer between provinces, xueji.federation): once the
other node holds the whole record, this node keeps only what its past statistics and census need
— the student's row, its placements up to the transfer date, its history (record events) and
former numbers — and removes the child's personal rows that travelled: the family here, and
whatever the apps above register (the archive's growth record). The audit trail is never
touched.

Each app that holds personal rows of a child registers a `Release` at start-up
(`register_release`); `record_release` runs them all in the caller's transaction with one audit
entry counting what each removed and what it had to keep (a row another table still needs, such
as a guardian named as the payee of an aid application: PROTECT keeps it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models, transaction
from django.db.models.deletion import ProtectedError, RestrictedError
from django.utils.translation import gettext_lazy as _

from xueji.audit.services import audit_record
from xueji.core.errors import Conflict
from xueji.students.models import FamilyMember, Placement, RecordState, Student

# `release(student) -> {model label: (removed, kept)}`, inside the caller's transaction.
Release = Callable[[Student], dict[str, tuple[int, int]]]
_RELEASES: dict[str, Release] = {}

# The states of a record that has left this node's roll for another province.
MOVED_AWAY = (RecordState.LEFT_OTHER,)


def register_release(name: str, release: Release) -> None:
    """`release` removes its app's personal rows of a child whose record moved away."""
    _RELEASES[name] = release


def rows_remove(queryset: models.QuerySet[Any]) -> tuple[int, int]:
    """Remove the rows of `queryset` (one statement when nothing protects them); a row that
    another table still needs (PROTECT, RESTRICT) is kept. Returns (removed, kept)."""
    model = queryset.model
    total = queryset.count()
    if not total:
        return 0, 0
    try:
        with transaction.atomic():
            queryset.delete()
        return total, 0
    except (ProtectedError, RestrictedError):
        pass
    removed = 0
    for row in queryset.order_by("pk"):
        try:
            with transaction.atomic():
                model._default_manager.filter(pk=row.pk).delete()
            removed += 1
        except (ProtectedError, RestrictedError):
            continue
    return removed, total - removed


def _family(student: Student) -> dict[str, tuple[int, int]]:
    return {FamilyMember._meta.label: rows_remove(FamilyMember.objects.filter(student=student))}


register_release("students.family", _family)


def record_release(*, actor: Any, student: Student, detail: dict[str, Any]) -> dict[str, Any]:
    """Remove the personal rows of a record that has moved to another node (its state says so,
    it has no open placement here): the family and every registered app's rows. One audit entry
    (`student.record_released`) names what was removed and kept; returns the same counts."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_release runs inside the caller's transaction")
    locked = Student.objects.select_for_update().get(pk=student.pk)
    if (
        locked.state not in MOVED_AWAY
        or Placement.objects.filter(student=locked, end_date__isnull=True).exists()
    ):
        raise Conflict(
            "record_not_moved",
            _("The record is still on a roll here: its personal rows stay."),
        )
    counts: dict[str, Any] = {}
    for release in _RELEASES.values():
        for label, (removed, kept) in release(locked).items():
            counts[label] = {"removed": removed, "kept": kept}
    audit_record(
        actor=actor,
        action="student.record_released",
        object_type="student",
        object_id=locked.pk,
        detail={**detail, "rows": counts},
    )
    return counts
