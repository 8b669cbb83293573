"""Writes of schools, academic years and classes."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from xueji.access.policy import Action
from xueji.access.scope import division_in_area, may, may_at_school, scope_of
from xueji.audit.services import audit_record
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.geo.models import Division, DivisionLevel
from xueji.schools.models import DEFAULT_GRADES, AcademicYear, School, SchoolClass, Term


def _may_manage_schools_in(actor: Any, county: Division) -> bool:
    """County, city, province or national approvers and administrators register schools."""
    scope = scope_of(actor)
    return may(scope, Action.SCHOOL_MANAGE) and division_in_area(scope, county.code)


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


def school_create(
    *,
    actor: Any,
    code: str,
    name: str,
    kind: str,
    county_code: str,
    first_grade: int | None = None,
    last_grade: int | None = None,
) -> School:
    """Register a school under its 10-digit code in a county."""
    county = (
        Division.objects.select_related("parent")
        .filter(code=county_code, level=DivisionLevel.COUNTY)
        .first()
    )
    if county is None or county.parent is None or not _may_manage_schools_in(actor, county):
        raise NotFound("county_not_found", _("No such county in your area."))
    province_code = county.parent.parent_id
    if province_code is None:
        raise NotFound("county_not_found", _("No such county in your area."))
    if not (len(code) == 10 and code.isdigit()):
        raise FieldErrors(
            {
                "code": [
                    ValidationError(
                        _("A school code (学校标识码) has exactly 10 digits."),
                        code="school_code_format",
                    )
                ]
            }
        )
    default_first, default_last = DEFAULT_GRADES.get(kind, (1, 6))
    school = School(
        code=code,
        name=name.strip(),
        kind=kind,
        county=county,
        city=county.parent,
        province_id=province_code,
        first_grade=default_first if first_grade is None else first_grade,
        last_grade=default_last if last_grade is None else last_grade,
    )
    try:
        school.full_clean(validate_unique=False, validate_constraints=True)
    except ValidationError as error:
        raise FieldErrors.from_validation_error(error) from None
    with transaction.atomic():
        try:
            with transaction.atomic():
                school.save(force_insert=True)
        except IntegrityError:
            raise Conflict(
                "school_code_taken", _("School code %(code)s is already in use.") % {"code": code}
            ) from None
        audit_record(
            actor=actor, action="school.create", object_type="school", detail={"code": code}
        )
    return school


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
