"""The purpose "updates of other information": the school's students found by number, each
change checked with the registration rules, written set-based by the students app in batches."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from xueji.core.errors import FieldErrors
from xueji.core.idnumbers import normalize
from xueji.geo.selectors import division_exists
from xueji.imports import columns as cols
from xueji.imports.pipeline.cells import CellError, Outcome, cell_error
from xueji.imports.pipeline.layout import Layout
from xueji.schools.models import School
from xueji.students.identity import number_indexes
from xueji.students.models import Placement, Student
from xueji.students.services import OTHER_INFO_FIELDS, student_data_of, students_other_info_save
from xueji.students.validation import StudentData, validate_student_data


def _basic_data(student: Student, changes: dict[str, Any]) -> StudentData:
    """The record's fields as StudentData with the changes applied; the family and the ID number
    are left out: no other-information rule depends on them, and their errors are not kept."""
    return dataclasses.replace(student_data_of(student, with_identity=False), **changes)


def import_updates_rows(
    *,
    rows: Iterable[tuple[int, list[Any]]],
    layout: Layout,
    school: School,
    actor: Any,
    progress: Callable[[int], None] | None = None,
    batch_rows: int = 2_000,
) -> Outcome:
    """Other information of the school's students, found by student number and checked by name,
    each change checked with the registration rules (as student_update_other_info checks it);
    written set-based by the students app in batches. Call inside one transaction; roll back on
    errors."""
    outcome = Outcome.of(layout)
    index = layout.index
    readers = {f.key: cols.reader_of(f) for f in layout.fields if f.key in index}
    today = datetime.date.today()
    batch: list[tuple[int, str, str, dict[str, Any]]] = []
    seen: set[str] = set()

    def flush() -> None:
        if not batch:
            return
        # Each number's digest under every suite held: a record not yet re-indexed by a change
        # of suite is found too.
        keys = [number_indexes(number) for _row, number, _name, _changes in batch]
        wanted = [key for indexes in keys for key in indexes]
        found = {s.number_index: s for s in Student.objects.filter(number_index__in=wanted)}
        changed: list[tuple[Student, list[str]]] = []
        for (row, number, name, changes), indexes in zip(batch, keys, strict=True):
            student = next((found[key] for key in indexes if key in found), None)
            column = index["student_number"]
            if student is None or student.school_id != school.pk:
                outcome.add_errors(
                    [
                        cell_error(
                            row,
                            column,
                            number,
                            ValidationError(
                                _("No student of your school has this number."),
                                code="student_not_found",
                            ),
                        )
                    ]
                )
                continue
            if name and name != student.name:
                outcome.add_errors(
                    [
                        cell_error(
                            row,
                            index["name"],
                            name,
                            ValidationError(
                                _("The number belongs to %(name)s."),
                                code="name_mismatch",
                                params={"name": student.name},
                            ),
                        )
                    ]
                )
                continue
            try:
                data = validate_student_data(
                    _basic_data(student, changes), division_exists=division_exists
                )
            except FieldErrors as failed:
                # Only what the row changes is checked: a cell holding the value recorded (as
                # the pre-filled template writes every cell) is not the registrar's to fix,
                # even where that value breaks a rule made since it was recorded.
                kept = {
                    k: v
                    for k, v in failed.errors.items()
                    if k in changes and changes[k] != getattr(student, k)
                }
                for key_name, field_errors in kept.items():
                    position = index[key_name]
                    for error in field_errors:
                        outcome.add_errors([cell_error(row, position, changes[key_name], error)])
                if kept:
                    continue
                data = _basic_data(student, changes)
            updated = sorted(n for n in changes if getattr(student, n) != getattr(data, n))
            for n in updated:
                setattr(student, n, getattr(data, n))
            if updated:
                changed.append((student, updated))
        batch.clear()
        if outcome.error_count or not changed:
            return
        students_other_info_save(actor=actor, changed=changed, on=today)
        outcome.written += len(changed)
        # The batch's updated records by the class they sit in: one GROUP BY per batch.
        by_class = (
            Placement.objects.filter(
                end_date__isnull=True, student_id__in=[s.pk for s, _f in changed]
            )
            .order_by()
            .values_list("school_class_id")
            .annotate(count=Count("pk"))
        )
        for class_id, count in by_class:
            outcome.classes[class_id] += count

    for row, cells in rows:
        outcome.rows += 1
        errors: list[CellError] = []
        values: dict[str, Any] = {}
        for key, read in readers.items():
            position = index[key]
            raw = cells[position] if position < len(cells) else None
            try:
                values[key] = read(raw)
            except cols.Unreadable as unreadable:
                errors.append(cell_error(row, position, raw, unreadable.error))
        number = normalize(str(values.get("student_number") or ""))
        if not number:
            errors.append(
                cell_error(
                    row,
                    index["student_number"],
                    "",
                    ValidationError(_("This cell is required."), code="required"),
                )
            )
        elif number in seen:
            errors.append(
                cell_error(
                    row,
                    index["student_number"],
                    number,
                    ValidationError(
                        _("This student is already in another row of this file."),
                        code="duplicate_in_file",
                    ),
                )
            )
        seen.add(number)
        changes = {
            key: value
            for key, value in values.items()
            if key in OTHER_INFO_FIELDS and value not in (None, "")
        }
        if errors:
            outcome.add_errors(errors)
        else:
            batch.append((row, number, str(values.get("name") or ""), changes))
            if len(batch) >= batch_rows:
                flush()
        if progress is not None and outcome.rows % 1000 == 0:
            progress(outcome.rows)
    flush()
    if progress is not None:
        progress(outcome.rows)
    outcome.sort_errors()
    return outcome
