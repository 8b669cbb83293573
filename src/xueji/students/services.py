"""Every write to student records. Each service runs in one transaction with its audit entry."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.scope import may_register_at, scope_of
from xueji.audit.services import audit_record
from xueji.core import codes
from xueji.core.errors import Conflict, FieldErrors, NotFound, ServiceError
from xueji.core.idnumbers import g_number, j_number, validate_resident_id
from xueji.geo.selectors import division_exists
from xueji.schools.models import SchoolClass
from xueji.students.models import (
    EventKind,
    FamilyMember,
    NumberKind,
    NumberSequence,
    Placement,
    RecordEvent,
    RecordState,
    Student,
    StudentNumberAlias,
)
from xueji.students.pinyin import name_initials, name_pinyin
from xueji.students.validation import (
    StudentData,
    age_on,
    expected_age_range,
    validate_student_data,
)


class AgeNeedsConfirmation(ServiceError):
    """The child's age is unusual for the grade: the registrar must confirm with a reason."""

    status = 422


@dataclass(frozen=True)
class Registration:
    student: Student
    placement: Placement


def _holder_conflict(student: Student) -> Conflict:
    return Conflict(
        "id_number_registered",
        _("This ID number is already registered at %(school)s (student number %(number)s).")
        % {"school": student.school.name, "number": student.student_number[:7] + "…"},
        field="id_number",
        school=student.school.name,
    )


def _allocate_j_number(area_code: str, birth_date: datetime.date) -> str:
    prefix = f"{area_code}{birth_date:%Y%m%d}"
    NumberSequence.objects.bulk_create([NumberSequence(prefix=prefix)], ignore_conflicts=True)
    sequence = NumberSequence.objects.select_for_update().get(prefix=prefix)
    if sequence.last_value >= 999:
        raise ServiceError(
            "j_numbers_exhausted",
            _("No J number is left for this area and birth date; ask the county bureau."),
        )
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return j_number(area_code, birth_date, sequence.last_value)


def student_register(
    *,
    actor: Any,
    school_class_id: int,
    data: StudentData,
    start_date: datetime.date | None = None,
    age_confirmation: str = "",
) -> Registration:
    """Register a new student (新生注册) into a class of the registrar's school."""
    scope = scope_of(actor)
    school_class = (
        SchoolClass.objects.select_related("school", "academic_year")
        .filter(pk=school_class_id)
        .first()
    )
    if school_class is None or not may_register_at(scope, school_class.school_id):
        raise NotFound("class_not_found", _("No such class at your school."))
    school = school_class.school
    data = validate_student_data(data, division_exists=division_exists)

    start_date = start_date or timezone.localdate()
    lowest, highest = expected_age_range(school_class.grade)
    age = age_on(data.birth_date, school_class.academic_year.start_date)
    age_note = ""
    if not lowest <= age <= highest:
        if not age_confirmation.strip():
            raise AgeNeedsConfirmation(
                "age_unusual_for_grade",
                _(
                    "The child is %(age)d on 1 September; %(low)d to %(high)d is usual for this "
                    "grade. Confirm with a reason to register anyway."
                )
                % {"age": age, "low": lowest, "high": highest},
                field="age_confirmation",
                age=age,
                usual=[lowest, highest],
            )
        age_note = age_confirmation.strip()

    with transaction.atomic():
        if data.id_doc_type == codes.IdDocType.RESIDENT_ID:
            holder = (
                Student.objects.select_related("school")
                .filter(id_doc_type=data.id_doc_type, id_number=data.id_number)
                .first()
            )
            if holder is not None:
                raise _holder_conflict(holder)
            number, kind = g_number(data.id_number), NumberKind.G
        else:
            number = _allocate_j_number(school.county_id, data.birth_date)
            kind = NumberKind.J
        student = Student(
            student_number=number,
            number_kind=kind,
            name=data.name,
            name_pinyin=name_pinyin(data.name),
            name_initials=name_initials(data.name),
            sex=data.sex,
            birth_date=data.birth_date,
            birthplace_id=data.birthplace_code,
            native_place_id=data.native_place_code or None,
            ethnicity=data.ethnicity,
            nationality=data.nationality,
            id_doc_type=data.id_doc_type,
            id_number=data.id_number,
            overseas_status=data.overseas_status,
            health=data.health,
            hukou_division_id=data.hukou_division_code or None,
            hukou_nature=data.hukou_nature,
            former_name=data.former_name,
            address=data.address,
            phone=data.phone,
            attendance_mode=data.attendance_mode,
            entry_method=data.entry_method,
            only_child=data.only_child,
            attended_preschool=data.attended_preschool,
            left_behind=data.left_behind,
            migrant_child=data.migrant_child,
            orphan=data.orphan,
            martyr_family=data.martyr_family,
            inclusive_education=data.inclusive_education,
            disability_type=data.disability_type,
            needs_aid=data.needs_aid,
            needs_school_bus=data.needs_school_bus,
            state=RecordState.ENROLLED,
            school=school,
        )
        try:
            with transaction.atomic():
                student.save(force_insert=True)
        except IntegrityError:
            # Another registrar got there first: the unique index decided, name who holds it.
            holder = (
                Student.objects.select_related("school")
                .filter(id_doc_type=data.id_doc_type, id_number=data.id_number)
                .first()
            )
            if holder is None:
                raise
            raise _holder_conflict(holder) from None
        FamilyMember.objects.bulk_create(
            FamilyMember(
                student=student,
                ordinal=index,
                relation=member.relation,
                name=member.name,
                id_doc_type=member.id_doc_type,
                id_number=member.id_number,
                phone=member.phone,
                employer=member.employer,
                is_guardian=member.is_guardian,
                missing_reason=member.missing_reason,
            )
            for index, member in enumerate(data.family)
        )
        placement = Placement.objects.create(
            student=student,
            school=school,
            school_class=school_class,
            grade=school_class.grade,
            start_date=start_date,
            reason="registration",
        )
        RecordEvent.objects.create(
            student=student,
            kind=EventKind.REGISTERED,
            occurred_on=start_date,
            actor=actor,
            detail={
                "school": school.code,
                "class": school_class.pk,
                "grade": school_class.grade,
                "age_confirmation": age_note,
            },
        )
        audit_record(
            actor=actor,
            action="student.register",
            object_type="student",
            object_id=student.pk,
            detail={"school": school.code, "class": school_class.pk, "age_note": age_note},
        )
    return Registration(student=student, placement=placement)


def student_assign_resident_id(*, actor: Any, student_id: Any, id_number: str) -> Student:
    """Give a J- or L-numbered child the formal G number once a resident ID is known."""
    from xueji.students.selectors import students_in_scope

    with transaction.atomic():
        student = students_in_scope(actor).select_for_update().filter(pk=student_id).first()
        scope = scope_of(actor)
        if student is None or not may_register_at(scope, student.school_id):
            raise NotFound("student_not_found", _("No such student."))
        if student.number_kind == NumberKind.G:
            raise ServiceError(
                "already_formal", _("This student already has a formal (G) student number.")
            )
        try:
            resident = validate_resident_id(
                id_number, birth_date=student.birth_date, sex=student.sex
            )
        except Exception as error:
            from django.core.exceptions import ValidationError

            if isinstance(error, ValidationError):
                raise FieldErrors.from_validation_error(error, "id_number") from None
            raise
        holder = (
            Student.objects.select_related("school")
            .filter(id_doc_type=codes.IdDocType.RESIDENT_ID, id_number=resident.number)
            .exclude(pk=student.pk)
            .first()
        )
        if holder is not None:
            raise _holder_conflict(holder)
        old_number, old_kind = student.student_number, student.number_kind
        old_document = (student.id_doc_type, student.id_number)
        StudentNumberAlias.objects.create(number=old_number, kind=old_kind, student=student)
        student.student_number = g_number(resident.number)
        student.number_kind = NumberKind.G
        student.id_doc_type = codes.IdDocType.RESIDENT_ID
        student.id_number = resident.number
        try:
            with transaction.atomic():
                student.save(
                    update_fields=[
                        "student_number",
                        "number_kind",
                        "id_doc_type",
                        "id_number",
                        "updated_at",
                    ]
                )
        except IntegrityError:
            holder = Student.objects.select_related("school").get(
                id_doc_type=codes.IdDocType.RESIDENT_ID, id_number=resident.number
            )
            raise _holder_conflict(holder) from None
        RecordEvent.objects.create(
            student=student,
            kind=EventKind.NUMBER_CHANGED,
            occurred_on=timezone.localdate(),
            actor=actor,
            detail={
                "from": old_number,
                "to": student.student_number,
                "previous_document_type": old_document[0],
            },
        )
        audit_record(
            actor=actor,
            action="student.assign_resident_id",
            object_type="student",
            object_id=student.pk,
            detail={"from": old_number[:7] + "…", "to_kind": "G"},
        )
    return student
