"""Every write to student records. Each service runs in one transaction with its audit entry."""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.lookups import LookupKind, LookupOutcome, lookup_answer
from xueji.access.policy import Action
from xueji.access.scope import may_at_school, may_register_at, scope_of, students_visible_in_area
from xueji.audit.services import audit_record
from xueji.core import codes
from xueji.core.errors import Conflict, FieldErrors, NotFound, ServiceError
from xueji.core.idnumbers import g_number, j_number, mask_id_number, validate_resident_id
from xueji.geo.selectors import division_exists
from xueji.schools.models import SchoolClass
from xueji.students.identity import (
    FAMILY_ID_NUMBER,
    STUDENT_ID_NUMBER,
    document_fields,
    student_number_fields,
    unseal,
)
from xueji.students.models import (
    UNREGISTERED_STATES,
    EventKind,
    FamilyMember,
    NumberKind,
    NumberSequence,
    Placement,
    PlacementReason,
    RecordEvent,
    RecordState,
    Student,
    StudentNumberAlias,
)
from xueji.students.national import NationalHolder, national_index, national_reserve
from xueji.students.numbering import (
    after_registration,
    review_required,
    student_number_allocate_l,
    temporary_number_required,
)
from xueji.students.pinyin import name_initials, name_pinyin
from xueji.students.record import placement_open, record_event_append
from xueji.students.review import registration_review_open
from xueji.students.selectors import students_in_scope
from xueji.students.validation import (
    FamilyMemberData,
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
    # None while the registration waits for the county's review (县级审核): the placement
    # opens when the county approves it (xueji.students.review).
    placement: Placement | None


def _holder_of(id_doc_type: str, id_number: str, *, exclude: Any = None) -> NationalHolder | None:
    """Who holds the document anywhere in the country: the national interface answers."""
    return national_index().holder_of_document(id_doc_type, id_number, exclude=exclude)


def _holder_conflict(holder: NationalHolder) -> Conflict:
    return Conflict(
        "id_number_registered",
        _("This ID number is already registered at %(school)s (student number %(number)s).")
        % {"school": holder.school_name, "number": holder.number_masked},
        field="id_number",
        school=holder.school_name,
    )


class RegisteredElsewhere(Conflict):
    """The ID number is held outside the registrar's scope by a record of another name: the
    registrar learns only that the child is registered elsewhere, and that a transfer takes a
    registered child in (the pages and the API add the link to file one)."""


class _HeldElsewhere(Exception):
    """Raised inside a registration's transaction so that it rolls back before the answer (an
    audited look-up, in a transaction of its own) is given."""

    def __init__(self, holder: NationalHolder, *, name: str = "", id_number: str = ""):
        super().__init__(holder.student_id)
        self.holder = holder
        self.name = name
        self.id_number = id_number


def _holder_refusal(
    *, actor: Any, holder: NationalHolder, name: str, id_doc_type: str, id_number: str
) -> Conflict:
    """The refusal of a document someone already holds, told as much as the registrar may know.

    A child in the registrar's own scope (a duplicate of their own school's record) is named as
    before. Any other answer is a look-up of a record outside the scope, audited and counted
    against the registrar's hourly limit (xueji.access.lookups, which raises 429 beyond it): the
    school and the masked number are named only when the name typed is the record's (folded:
    traditional characters, the middle dot of minority names), else only "registered elsewhere".
    Call it after the registration's transaction has rolled back."""
    if students_in_scope(actor).filter(pk=holder.student_id).exists():
        return _holder_conflict(holder)
    named = national_index().holder_named(holder, name)
    lookup_answer(
        actor=actor,
        kind=LookupKind.REGISTRATION,
        outcome=LookupOutcome.SCHOOL_NAMED if named else LookupOutcome.REGISTERED_ELSEWHERE,
        object_id=holder.student_id,
        detail={"id_doc_type": id_doc_type, "id_number": mask_id_number(id_number)},
    )
    if named:
        return _holder_conflict(holder)
    return RegisteredElsewhere(
        "registered_elsewhere",
        _(
            "This child is already registered at another school. To take the child in, file a "
            "transfer: the guardian applies at your school."
        ),
        field="id_number",
    )


def number_sequence_take(prefix: str, *, limit: int) -> int | None:
    """The next value (1, 2, ...) of a counter, locked until the caller's transaction ends;
    None once `limit` values are used. The row is created on first use without a race."""
    NumberSequence.objects.bulk_create([NumberSequence(prefix=prefix)], ignore_conflicts=True)
    sequence = NumberSequence.objects.select_for_update().get(prefix=prefix)
    if sequence.last_value >= limit:
        return None
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return sequence.last_value


def student_number_allocate_j(area_code: str, birth_date: datetime.date) -> str:
    """The next J number (a child without a resident ID) of the area and birth date, from the
    area's locked counter (held until the caller's transaction ends)."""
    taken = number_sequence_take(f"{area_code}{birth_date:%Y%m%d}", limit=999)
    if taken is None:
        raise ServiceError(
            "j_numbers_exhausted",
            _("No J number is left for this area and birth date; ask the county bureau."),
        )
    return j_number(area_code, birth_date, taken)


def _registration_class(actor: Any, school_class_id: int | None) -> SchoolClass | None:
    """The class a registrar registers into: one of the registrar's own school, or None."""
    if school_class_id is None:
        return None
    school_class = (
        SchoolClass.objects.select_related("school", "academic_year")
        .filter(pk=school_class_id)
        .first()
    )
    if school_class is None or not may_register_at(scope_of(actor), school_class.school_id):
        return None
    return school_class


def _unusual_age(
    school_class: SchoolClass, birth_date: datetime.date, age_confirmation: str
) -> AgeNeedsConfirmation | None:
    """The question to ask when the child's age is unusual for the grade and no reason is given
    yet; None when the age is usual or the reason is there."""
    lowest, highest = expected_age_range(school_class.grade)
    age = age_on(birth_date, school_class.academic_year.start_date)
    if lowest <= age <= highest or age_confirmation.strip():
        return None
    return AgeNeedsConfirmation(
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


@dataclass(frozen=True)
class RegistrationCheck:
    """What stands in the way of a registration, found all at once: the errors of each field
    (as FieldErrors names them), and the question of an unusual age."""

    errors: dict[str, list[ValidationError]]
    unusual_age: AgeNeedsConfirmation | None = None

    @property
    def passed(self) -> bool:
        return not self.errors and self.unusual_age is None


def student_registration_check(
    *,
    actor: Any,
    school_class_id: int | None,
    data: StudentData,
    age_confirmation: str = "",
) -> RegistrationCheck:
    """Every rule of student_register that reads no other child's record, run whatever fails
    (a form shows every problem after one submit), writing nothing: the data's rules, the class,
    and the age for the grade when the class and the birth date are known. `data` may be
    partial (a form's birth date that could not be read is None). Whether another record holds
    the ID number is left to student_register: that answer is an audited, limited look-up."""
    errors: dict[str, list[ValidationError]] = {}
    try:
        validate_student_data(data, division_exists=division_exists)
    except FieldErrors as refused:
        errors.update(refused.errors)
    school_class = _registration_class(actor, school_class_id)
    if school_class_id is not None and school_class is None:
        errors.setdefault("school_class", []).append(
            ValidationError(_("No such class at your school."), code="class_not_found")
        )
    unusual_age = None
    if school_class is not None and data.birth_date is not None:
        unusual_age = _unusual_age(school_class, data.birth_date, age_confirmation)
    return RegistrationCheck(errors=errors, unusual_age=unusual_age)


def student_register(
    *,
    actor: Any,
    school_class_id: int,
    data: StudentData,
    start_date: datetime.date | None = None,
    age_confirmation: str = "",
) -> Registration:
    """Register a new student (新生注册) into a class of the registrar's school."""
    school_class = _registration_class(actor, school_class_id)
    if school_class is None:
        raise NotFound("class_not_found", _("No such class at your school."))
    school = school_class.school
    data = validate_student_data(data, division_exists=division_exists)
    birth_date = data.birth_date
    assert birth_date is not None  # validation refuses a registration without one

    start_date = start_date or timezone.localdate()
    unusual_age = _unusual_age(school_class, birth_date, age_confirmation)
    if unusual_age is not None:
        raise unusual_age
    age_note = age_confirmation.strip()

    review = review_required(school)  # 县级审核 (identity's province setting)
    try:
        with transaction.atomic():
            if data.id_doc_type == codes.IdDocType.RESIDENT_ID:
                holder = _holder_of(data.id_doc_type, data.id_number)
                if holder is not None:
                    raise _HeldElsewhere(holder)
            if review:
                # No number until the county approves (xueji.students.review).
                number, kind = "", ""
            elif data.id_doc_type == codes.IdDocType.RESIDENT_ID:
                if temporary_number_required(school, data):  # population check (identity)
                    number = student_number_allocate_l(school.county_id, birth_date)
                    kind = NumberKind.L
                else:
                    number, kind = g_number(data.id_number), NumberKind.G
            else:
                number = student_number_allocate_j(school.county_id, birth_date)
                kind = NumberKind.J
            student = Student(
                **(
                    student_number_fields(number)
                    if number
                    else {"number_masked": "", "number_sealed": "", "number_index": ""}
                ),
                **document_fields(data.id_doc_type, data.id_number, context=STUDENT_ID_NUMBER),
                number_kind=kind,
                name=data.name,
                name_pinyin=name_pinyin(data.name),
                name_initials=name_initials(data.name),
                sex=data.sex,
                birth_date=birth_date,
                birthplace_id=data.birthplace_code,
                native_place_id=data.native_place_code or None,
                ethnicity=data.ethnicity,
                nationality=data.nationality,
                id_doc_type=data.id_doc_type,
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
                state=RecordState.PENDING_REVIEW if review else RecordState.ENROLLED,
                school=school,
            )
            try:
                with transaction.atomic():
                    student.save(force_insert=True)
            except IntegrityError:
                # Another registrar got there first: the unique index decided, name who holds it.
                holder = _holder_of(data.id_doc_type, data.id_number)
                if holder is None:
                    raise
                raise _HeldElsewhere(holder) from None
            FamilyMember.objects.bulk_create(
                FamilyMember(
                    student=student,
                    ordinal=index,
                    relation=member.relation,
                    name=member.name,
                    id_doc_type=member.id_doc_type,
                    **document_fields(
                        member.id_doc_type, member.id_number, context=FAMILY_ID_NUMBER
                    ),
                    phone=member.phone,
                    employer=member.employer,
                    is_guardian=member.is_guardian,
                    missing_reason=member.missing_reason,
                )
                for index, member in enumerate(data.family)
            )
            national_reserve(student=student)  # federation: the hub reserves before the commit
            if review:
                registration_review_open(
                    actor=actor,
                    student=student,
                    school_class=school_class,
                    start_date=start_date,
                    age_note=age_note,
                )
                return Registration(student=student, placement=None)
            placement = placement_open(
                student=student,
                school_class=school_class,
                on=start_date,
                reason=PlacementReason.REGISTRATION,
            )
            record_event_append(
                student=student,
                kind=EventKind.REGISTERED,
                on=start_date,
                actor=actor,
                detail={
                    "school": school.code,
                    "class": school_class.pk,
                    "grade": school_class.grade,
                    "age_confirmation": age_note,
                },
            )
            after_registration(student)  # the identity check where a roll covers the area
            audit_record(
                actor=actor,
                action="student.register",
                object_type="student",
                object_id=student.pk,
                detail={"school": school.code, "class": school_class.pk, "age_note": age_note},
            )
    except _HeldElsewhere as held:
        # The registration is rolled back: the answer is a look-up, audited on its own.
        raise _holder_refusal(
            actor=actor,
            holder=held.holder,
            name=data.name,
            id_doc_type=data.id_doc_type,
            id_number=data.id_number,
        ) from None
    return Registration(student=student, placement=placement)


def student_assign_resident_id(*, actor: Any, student_id: Any, id_number: str) -> Student:
    """Give a J- or L-numbered child the formal G number once a resident ID is known."""
    try:
        with transaction.atomic():
            student = students_in_scope(actor).select_for_update().filter(pk=student_id).first()
            scope = scope_of(actor)
            if student is None or not may_at_school(
                scope, Action.STUDENT_ASSIGN_RESIDENT_ID, student.school_id
            ):
                raise NotFound("student_not_found", _("No such student."))
            if student.number_kind == NumberKind.G:
                raise ServiceError(
                    "already_formal", _("This student already has a formal (G) student number.")
                )
            if student.state in UNREGISTERED_STATES:
                # 县级审核: the number is the county's to issue; correct the registration instead.
                raise Conflict(
                    "registration_under_review",
                    _(
                        "This registration waits for the county's review: correct it there; "
                        "the number is issued when the county approves."
                    ),
                )
            try:
                resident = validate_resident_id(
                    id_number, birth_date=student.birth_date, sex=student.sex
                )
            except ValidationError as error:
                raise FieldErrors.from_validation_error(error, "id_number") from None
            holder = _holder_of(codes.IdDocType.RESIDENT_ID, resident.number, exclude=student.pk)
            if holder is not None:
                raise _HeldElsewhere(holder, name=student.name, id_number=resident.number)
            old_masked, old_kind = student.number_masked, student.number_kind
            previous_document_type = student.id_doc_type
            StudentNumberAlias.objects.create(
                number_index=student.number_index,
                number_sealed=student.number_sealed,
                number_masked=old_masked,
                kind=old_kind,
                student=student,
            )
            new_fields = {
                **student_number_fields(g_number(resident.number)),
                **document_fields(
                    codes.IdDocType.RESIDENT_ID, resident.number, context=STUDENT_ID_NUMBER
                ),
                "number_kind": NumberKind.G,
                "id_doc_type": codes.IdDocType.RESIDENT_ID,
            }
            for field, value in new_fields.items():
                setattr(student, field, value)
            try:
                with transaction.atomic():
                    student.save(update_fields=[*new_fields, "updated_at"])
            except IntegrityError:
                holder = _holder_of(codes.IdDocType.RESIDENT_ID, resident.number)
                if holder is None:
                    raise
                raise _HeldElsewhere(holder, name=student.name, id_number=resident.number) from None
            # History and audit name the numbers masked: the plain values live only sealed.
            record_event_append(
                student=student,
                kind=EventKind.NUMBER_CHANGED,
                on=timezone.localdate(),
                actor=actor,
                detail={
                    "from": old_masked,
                    "to": student.number_masked,
                    "previous_document_type": previous_document_type,
                },
            )
            audit_record(
                actor=actor,
                action="student.assign_resident_id",
                object_type="student",
                object_id=student.pk,
                detail={"from": old_masked, "to": student.number_masked},
            )
    except _HeldElsewhere as held:
        raise _holder_refusal(
            actor=actor,
            holder=held.holder,
            name=held.name,
            id_doc_type=codes.IdDocType.RESIDENT_ID,
            id_number=held.id_number,
        ) from None
    return student


# ---- other (non-basic) information: the registrar edits it directly ---------------------------

# Other information (DOMAIN §3, 非基础): the school's registrar edits it without approval.
# Basic information changes only through a key-data correction (xueji.corrections).
OTHER_INFO_FIELDS = (
    "former_name",
    "address",
    "phone",
    "attendance_mode",
    "entry_method",
    "only_child",
    "attended_preschool",
    "left_behind",
    "migrant_child",
    "orphan",
    "martyr_family",
    "inclusive_education",
    "disability_type",
    "needs_aid",
    "needs_school_bus",
)


def student_data_of(student: Student, *, with_identity: bool = True) -> StudentData:
    """The record as StudentData, to check a change with the rules of registration; with its
    ID number and family unless `with_identity` is false (no other-information rule depends on
    them, and a bulk check then decrypts nothing)."""
    values: dict[str, Any] = {
        "name": student.name,
        "sex": student.sex,
        "birth_date": student.birth_date,
        "birthplace_code": student.birthplace_id or "",
        "native_place_code": student.native_place_id or "",
        "ethnicity": student.ethnicity,
        "nationality": student.nationality,
        "id_doc_type": student.id_doc_type,
        "overseas_status": student.overseas_status,
        "health": student.health,
        "hukou_division_code": student.hukou_division_id or "",
        "hukou_nature": student.hukou_nature,
    }
    values.update({name: getattr(student, name) for name in OTHER_INFO_FIELDS})
    if not with_identity:
        return StudentData(**values)
    family = [
        FamilyMemberData(
            relation=member.relation,
            name=member.name,
            id_doc_type=member.id_doc_type,
            id_number=unseal(member.id_number_sealed, context=FAMILY_ID_NUMBER),
            phone=member.phone,
            employer=member.employer,
            is_guardian=member.is_guardian,
            missing_reason=member.missing_reason,
        )
        for member in student.family.order_by("ordinal")
    ]
    return StudentData(**values, id_number=student.reveal_id_number(), family=family)


def validate_changes(student: Student, changes: dict[str, Any]) -> StudentData:
    """Check the record as it would be after `changes` with the rules of registration; only
    problems of the changed fields (and of the ID number, which must agree with the birth date
    and sex) are reported, as FieldErrors."""
    data = dataclasses.replace(student_data_of(student), **changes)
    try:
        return validate_student_data(data, division_exists=division_exists)
    except FieldErrors as errors:
        relevant = set(changes)
        if relevant & {"sex", "birth_date", "id_doc_type", "id_number"}:
            relevant.add("id_number")
        kept = {name: errs for name, errs in errors.errors.items() if name in relevant}
        if kept:
            raise FieldErrors(kept) from None
        return data


def student_update_other_info(*, actor: Any, student_id: Any, changes: dict[str, Any]) -> Student:
    """The registrar edits the other (non-basic) information of a student of the school.

    Basic information is refused here: it changes only through a key-data correction."""
    unknown = sorted(set(changes) - set(OTHER_INFO_FIELDS))
    if unknown:
        raise ServiceError(
            "basic_information",
            _("Basic information changes only through a key-data correction request."),
            fields=unknown,
        )
    scope = scope_of(actor)
    with transaction.atomic():
        student = (
            Student.objects.select_for_update()
            .filter(students_visible_in_area(scope), pk=student_id)
            .first()
        )
        if student is None or not may_at_school(
            scope, Action.STUDENT_EDIT_OTHER_INFO, student.school_id
        ):
            raise NotFound("student_not_found", _("No such student."))
        validated = validate_changes(student, changes)
        before, after = {}, {}
        for name in changes:
            new = getattr(validated, name)
            old = getattr(student, name)
            if new != old:
                before[name], after[name] = old, new
                setattr(student, name, new)
        if not after:
            return student
        student.save(update_fields=[*after, "updated_at"])
        record_event_append(
            student=student,
            kind=EventKind.INFO_UPDATED,
            on=timezone.localdate(),
            actor=actor,
            detail={"fields": sorted(after)},
        )
        audit_record(
            actor=actor,
            action="student.edit_other_info",
            object_type="student",
            object_id=student.pk,
            before=before,
            after=after,
        )
    return student


def students_other_info_save(
    *, actor: Any, changed: list[tuple[Student, list[str]]], on: datetime.date
) -> None:
    """Many students' other information at once (an import of updates): each Student carries
    its new values already, checked by the caller with the rules of registration, and the names
    of the fields it changed. One bulk UPDATE, and an `info_updated` event each, in the caller's
    transaction (the caller checked the permission and writes the audit entry)."""
    now = timezone.now()
    for student, _fields in changed:
        student.updated_at = now
    Student.objects.bulk_update([s for s, _f in changed], [*OTHER_INFO_FIELDS, "updated_at"])
    actor_id = getattr(actor, "pk", None)
    RecordEvent.objects.bulk_create(
        RecordEvent(
            student=student,
            kind=EventKind.INFO_UPDATED,
            occurred_on=on,
            actor_id=actor_id,
            detail={"fields": fields, "import": True},
        )
        for student, fields in changed
    )
