"""The purpose "intake lists": the listed graduates admitted class by class through the year
end's intake_admit (its rules, its all-or-nothing per class)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from xueji.core.errors import FieldErrors
from xueji.imports import columns as cols
from xueji.imports.pipeline.cells import CellError, Outcome, cell_error
from xueji.imports.pipeline.layout import Layout
from xueji.schools.models import School, SchoolClass
from xueji.yearend.services import intake_admit


def latest_classes(school: School) -> dict[tuple[int, int], SchoolClass]:
    """The school's classes of the latest year it has classes in (intake fills the year being
    entered, which may not have begun)."""
    latest = (
        SchoolClass.objects.filter(school=school)
        .order_by("-academic_year__start_year")
        .values_list("academic_year_id", flat=True)
        .first()
    )
    return {
        (c.grade, c.number): c
        for c in SchoolClass.objects.filter(school=school, academic_year_id=latest)
    }


def import_intake_rows(
    *,
    rows: Iterable[tuple[int, list[Any]]],
    layout: Layout,
    school: School,
    actor: Any,
    progress: Callable[[int], None] | None = None,
) -> Outcome:
    """Admit the listed graduates class by class with xueji.yearend's intake_admit (its rules,
    its all-or-nothing per class); call inside one transaction and roll it back when the outcome
    has errors, so that the file as a whole is all or nothing."""
    outcome = Outcome.of(layout)
    index = layout.index
    classes = latest_classes(school)
    readers = {key: cols.reader_of(field) for field in layout.fields if (key := field.key) in index}
    by_class: dict[int, list[tuple[int, str]]] = {}
    for row, cells in rows:
        outcome.rows += 1
        values: dict[str, Any] = {}
        errors: list[CellError] = []
        for key, read in readers.items():
            position = index[key]
            raw = cells[position] if position < len(cells) else None
            try:
                values[key] = read(raw)
            except cols.Unreadable as unreadable:
                errors.append(cell_error(row, position, raw, unreadable.error))
                values[key] = None
        grade, number = values.get("grade"), values.get("class_number")
        school_class = None
        if isinstance(grade, int) and isinstance(number, int):
            school_class = classes.get((grade, number))
            if school_class is None:
                errors.append(
                    cell_error(
                        row,
                        index["class_number"],
                        number,
                        ValidationError(
                            _("The school has no class %(number)d in grade %(grade)d this year."),
                            code="class_not_found",
                            params={"grade": grade, "number": number},
                        ),
                    )
                )
        elif not errors:
            key = "grade" if grade is None else "class_number"
            errors.append(
                cell_error(
                    row,
                    index[key],
                    "",
                    ValidationError(_("This cell is required."), code="required"),
                )
            )
        student_number = str(values.get("student_number") or "")
        if not student_number:
            errors.append(
                cell_error(
                    row,
                    index["student_number"],
                    "",
                    ValidationError(_("This cell is required."), code="required"),
                )
            )
        if errors:
            outcome.add_errors(errors)
        elif school_class is not None:
            by_class.setdefault(school_class.pk, []).append((row, student_number))
        if progress is not None and outcome.rows % 1000 == 0:
            progress(outcome.rows)
    number_column = index["student_number"]
    for class_id, listed in by_class.items():
        try:
            with transaction.atomic():
                result = intake_admit(
                    actor=actor,
                    school_class_id=class_id,
                    student_numbers=[number for _row, number in listed],
                )
            outcome.written += result.admitted
            if result.admitted:
                outcome.classes[class_id] += result.admitted
        except FieldErrors as refused:
            for key, field_errors in refused.errors.items():
                for error in field_errors:
                    params = error.params or {}
                    line = params.get("line")
                    if "reason" in params:
                        # The service numbers its own lines; the sheet's row says where.
                        error = ValidationError(params["reason"], code=error.code)
                    if isinstance(line, int) and 0 < line <= len(listed):
                        row, value = listed[line - 1][0], listed[line - 1][1]
                        outcome.add_errors([cell_error(row, number_column, value, error)])
                    else:
                        for row, value in listed:
                            column = index["class_number"] if key == "school_class_id" else -1
                            outcome.add_errors([cell_error(row, column, value, error)])
    if progress is not None:
        progress(outcome.rows)
    outcome.sort_errors()
    return outcome
