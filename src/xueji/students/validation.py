"""The rules a student's data must satisfy: one set, used by the form, the API and imports."""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from xueji.core import codes
from xueji.core.errors import FieldErrors
from xueji.core.idnumbers import normalize, validate_resident_id

_PHONE = re.compile(r"^\+?[0-9][0-9\- ]{4,18}[0-9]$")
_NAME = re.compile(r"^[^\d<>@#$%^&*=+{}\[\]|\\/;:\"]{1,64}$")


@dataclass
class FamilyMemberData:
    relation: str
    name: str = ""
    id_doc_type: str = ""
    id_number: str = ""
    phone: str = ""
    employer: str = ""
    is_guardian: bool = False
    missing_reason: str = ""


@dataclass
class StudentData:
    """Basic and other information as entered, before checks."""

    name: str
    sex: str
    birth_date: datetime.date
    birthplace_code: str
    ethnicity: str
    id_doc_type: str
    id_number: str = ""
    nationality: str = "CHN"
    native_place_code: str = ""
    overseas_status: str = codes.OverseasStatus.NO
    health: str = codes.Health.GOOD
    hukou_division_code: str = ""
    hukou_nature: str = codes.HukouNature.AGRICULTURAL
    former_name: str = ""
    address: str = ""
    phone: str = ""
    attendance_mode: str = codes.AttendanceMode.DAY
    entry_method: str = codes.EntryMethod.NEARBY
    only_child: bool = False
    attended_preschool: bool = True
    left_behind: str = codes.LeftBehind.NO
    migrant_child: bool = False
    orphan: bool = False
    martyr_family: bool = False
    inclusive_education: bool = False
    disability_type: str = codes.DisabilityType.NONE
    needs_aid: bool = False
    needs_school_bus: bool = False
    family: list[FamilyMemberData] = field(default_factory=list)


@cache
def _values(choices: type) -> frozenset[str]:
    """A code list's codes, computed once (an enum's .values builds a new list on each call)."""
    return frozenset(str(v) for v in choices.values)  # type: ignore[attr-defined]


def _choice(errors: dict[str, list[ValidationError]], name: str, value: str, allowed) -> None:  # type: ignore[no-untyped-def]
    # Membership first: every list holds str codes, so the conversion is only for a miss (imports
    # call this a dozen times per row).
    if value not in allowed and value not in {str(v) for v in allowed}:
        errors[name].append(
            ValidationError(
                _("“%(value)s” is not a code of this list."),
                code="invalid_choice",
                params={"value": value},
            )
        )


def validate_student_data(data: StudentData, *, division_exists) -> StudentData:  # type: ignore[no-untyped-def]
    """Check every field, normalise it, and report all problems at once as FieldErrors."""
    errors: dict[str, list[ValidationError]] = defaultdict(list)
    data.name = (data.name or "").strip()
    if not data.name:
        errors["name"].append(ValidationError(_("The name is required."), code="required"))
    elif not _NAME.match(data.name):
        errors["name"].append(
            ValidationError(_("A name cannot contain digits or symbols."), code="invalid_name")
        )
    _choice(errors, "sex", data.sex, _values(codes.Sex))
    _choice(errors, "ethnicity", data.ethnicity, codes.ETHNICITY_NAMES)
    _choice(errors, "id_doc_type", data.id_doc_type, _values(codes.IdDocType))
    _choice(errors, "overseas_status", data.overseas_status, _values(codes.OverseasStatus))
    _choice(errors, "health", data.health, _values(codes.Health))
    _choice(errors, "hukou_nature", data.hukou_nature, _values(codes.HukouNature))
    _choice(errors, "attendance_mode", data.attendance_mode, _values(codes.AttendanceMode))
    _choice(errors, "entry_method", data.entry_method, _values(codes.EntryMethod))
    _choice(errors, "left_behind", data.left_behind, _values(codes.LeftBehind))
    _choice(errors, "disability_type", data.disability_type, _values(codes.DisabilityType))
    _choice(errors, "nationality", data.nationality, codes.nationality_codes())

    today = datetime.date.today()
    if data.birth_date > today or data.birth_date < today.replace(year=today.year - 30):
        errors["birth_date"].append(
            ValidationError(
                _("A birth date must lie within the last 30 years."), code="birth_date_range"
            )
        )
    for field_name in ("birthplace_code", "native_place_code", "hukou_division_code"):
        code = getattr(data, field_name)
        if field_name == "birthplace_code" and not code:
            errors[field_name].append(
                ValidationError(_("The birthplace is required."), code="required")
            )
        elif code and not division_exists(code):
            errors[field_name].append(
                ValidationError(
                    _("%(code)s is not a current administrative division code."),
                    code="unknown_division",
                    params={"code": code},
                )
            )

    data.id_number = normalize(data.id_number)
    if data.id_doc_type == codes.IdDocType.RESIDENT_ID:
        if not data.id_number:
            errors["id_number"].append(
                ValidationError(
                    _("A resident ID card was chosen, so its number is required."),
                    code="required",
                )
            )
        elif data.sex in _values(codes.Sex):
            try:
                validate_resident_id(data.id_number, birth_date=data.birth_date, sex=data.sex)
            except ValidationError as error:
                errors["id_number"].extend(error.error_list)
    elif data.id_doc_type == codes.IdDocType.NONE:
        if data.id_number:
            errors["id_number"].append(
                ValidationError(
                    _("“No document yet” was chosen, so leave the number empty."),
                    code="unexpected_number",
                )
            )
    elif data.id_doc_type and not data.id_number:
        errors["id_number"].append(
            ValidationError(_("The document number is required."), code="required")
        )
    if data.phone and not _PHONE.match(data.phone):
        errors["phone"].append(
            ValidationError(_("This is not a phone number."), code="invalid_phone")
        )

    _validate_family(data.family, errors)
    if errors:
        raise FieldErrors(errors)
    return data


def _validate_family(members: list[FamilyMemberData], errors) -> None:  # type: ignore[no-untyped-def]
    if not members:
        errors["family"].append(
            ValidationError(
                _(
                    "Record at least one family member or guardian; a missing parent is recorded "
                    "as missing, with the reason."
                ),
                code="family_required",
            )
        )
        return
    present_guardians = 0
    for index, member in enumerate(members):
        prefix = f"family.{index}."
        member.name = (member.name or "").strip()
        _choice(errors, prefix + "relation", member.relation, _values(codes.Relation))
        if member.name and member.missing_reason:
            errors[prefix + "missing_reason"].append(
                ValidationError(
                    _("Give either a name or a reason the member is missing, not both."),
                    code="named_and_missing",
                )
            )
        elif not member.name and not member.missing_reason:
            errors[prefix + "name"].append(
                ValidationError(
                    _("Give the member's name, or the reason the member is missing."),
                    code="name_or_missing_reason",
                )
            )
        if member.missing_reason:
            reasons = _values(codes.MissingReason)
            _choice(errors, prefix + "missing_reason", member.missing_reason, reasons)
            if member.is_guardian:
                errors[prefix + "is_guardian"].append(
                    ValidationError(
                        _("A missing member cannot be the guardian."), code="missing_guardian"
                    )
                )
            continue
        if member.is_guardian:
            present_guardians += 1
        member.id_number = normalize(member.id_number)
        if member.id_doc_type:
            _choice(errors, prefix + "id_doc_type", member.id_doc_type, _values(codes.IdDocType))
        if member.id_number and member.id_doc_type == codes.IdDocType.RESIDENT_ID:
            try:
                validate_resident_id(member.id_number)
            except ValidationError as error:
                errors[prefix + "id_number"].extend(error.error_list)
        if member.phone and not _PHONE.match(member.phone):
            errors[prefix + "phone"].append(
                ValidationError(_("This is not a phone number."), code="invalid_phone")
            )
    if present_guardians == 0 and not any(
        errors.get(f"family.{i}.name") for i in range(len(members))
    ):
        errors["family"].append(
            ValidationError(
                _("Mark at least one present family member as the guardian."),
                code="guardian_required",
            )
        )


def expected_age_range(grade: int) -> tuple[int, int]:
    """The ages (on 1 September) usual for a grade: grade 1 starts at 6, kindergarten at 3."""
    expected = grade + 5
    return (
        expected - settings.XUEJI_AGE_TOLERANCE_BELOW,
        expected + settings.XUEJI_AGE_TOLERANCE_ABOVE,
    )


def age_on(birth_date: datetime.date, on: datetime.date) -> int:
    """Completed years of age on a date."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
