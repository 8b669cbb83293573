"""Writes of academic years and classes (schools themselves: xueji.schools.registry)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from xueji.access.policy import Action
from xueji.access.scope import may_at_school, scope_of
from xueji.audit.services import audit_record
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.schools.models import AcademicYear, School, SchoolClass, Term


def terms_of(year: AcademicYear) -> list[Term]:
    """The year's two terms, unsaved: autumn to January, February to August."""
    start_year = year.start_year
    return [
        Term(
            academic_year=year,
            number=1,
            start_date=datetime.date(start_year, 9, 1),
            end_date=datetime.date(start_year + 1, 1, 31),
        ),
        Term(
            academic_year=year,
            number=2,
            start_date=datetime.date(start_year + 1, 2, 1),
            end_date=datetime.date(start_year + 1, 8, 31),
        ),
    ]


def academic_year_ensure(*, actor: Any, start_year: int) -> AcademicYear:
    """The academic year starting 1 September of `start_year`, with its two terms (also given
    to a year made earlier without them)."""
    with transaction.atomic():
        year, created = AcademicYear.objects.get_or_create(start_year=start_year)
        if created or not year.terms.exists():
            Term.objects.bulk_create(terms_of(year), ignore_conflicts=True)
        if created:
            audit_record(actor=actor, action="academic_year.create", detail={"start": start_year})
    return year


def class_create(
    *,
    actor: Any,
    school_id: int,
    start_year: int,
    grade: int,
    number: int,
    class_teacher_id: int | None = None,
) -> SchoolClass:
    """Open a class of a grade for an academic year; the registrar of the school does it."""
    scope = scope_of(actor)
    school = School.objects.filter(pk=school_id).first()
    if school is None or not may_at_school(scope, Action.CLASS_MANAGE, school.pk):
        raise NotFound("school_not_found", _("No such school."))
    if not school.is_open:
        raise Conflict(
            "school_closed",
            _("%(name)s was closed on %(day)s.") % {"name": school.name, "day": school.closed_on},
        )
    if grade not in school.grades:
        raise FieldErrors(
            {
                "grade": [
                    ValidationError(
                        _("This school does not teach that grade."), code="grade_not_taught"
                    )
                ]
            }
        )
    with transaction.atomic():
        year = academic_year_ensure(actor=actor, start_year=start_year)
        try:
            with transaction.atomic():
                school_class = SchoolClass.objects.create(
                    school=school,
                    academic_year=year,
                    grade=grade,
                    number=number,
                    name=_("Class %(number)d") % {"number": number},
                    class_teacher_id=class_teacher_id,
                )
        except IntegrityError:
            raise Conflict("class_exists", _("That class already exists.")) from None
        audit_record(
            actor=actor,
            action="class.create",
            object_type="class",
            detail={"school": school.code, "year": start_year, "grade": grade, "number": number},
        )
    return school_class
