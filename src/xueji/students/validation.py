"""The rules a student's data must satisfy: one set, used by the form, the API and imports."""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from xueji.core import codes
from xueji.core.errors import FieldErrors
from xueji.core.idnumbers import normalize, resident_id_errors, validate_resident_id

_PHONE = re.compile(r"^\+?[0-9][0-9\- ]{4,18}[0-9]$")
_NAME = re.compile(r"^[^\d<>@#$%^&*=+{}\[\]|\\/;:\"]+$")
# The longest name a record keeps (Student.name and FamilyMember.name).
NAME_MAX_LENGTH = 64
# The longest other texts a record keeps (the columns' max_length): a longer one is refused with
# the limit, never cut short or left for the database to refuse.
TEXT_MAX_LENGTHS = {"former_name": 64, "address": 200, "phone": 20}
MEMBER_TEXT_MAX_LENGTHS = {"phone": 20, "employer": 128}
# The family members a record keeps at least, as the national collection form has them: usually
# the father and the mother, each by name or as missing with the reason (DOMAIN §3).
FAMILY_MEMBERS_MIN = 2
# The relations that take the father's place in a family.
FATHER_RELATIONS = frozenset(
    relation.value
    for relation in (
        codes.Relation.FATHER,
        codes.Relation.STEPFATHER,
        codes.Relation.ADOPTIVE_FATHER,
    )
)


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
    # None only while a form's birth date could not be read: its other fields are still checked.
    birth_date: datetime.date | None
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


@dataclass
class FamilyColumns:
    """One family member's block of a batch of students: the values of each row (a row without
    this member has present False; its values are ignored)."""

    present: list[bool]
    relation: list[str]
    name: list[str]
    id_doc_type: list[str]
    id_number: list[str]
    phone: list[str]
    employer: list[str]
    is_guardian: list[bool]
    missing_reason: list[str]


@dataclass
class StudentColumns:
    """The checked fields of a batch of students, column by column (the other fields have no
    rule). A form checks a batch of one; an import a few thousand rows at once."""

    size: int
    name: list[str]
    sex: list[str]
    birth_date: list[datetime.date | None]
    birthplace_code: list[str]
    native_place_code: list[str]
    ethnicity: list[str]
    nationality: list[str]
    id_doc_type: list[str]
    id_number: list[str]
    overseas_status: list[str]
    health: list[str]
    hukou_division_code: list[str]
    hukou_nature: list[str]
    former_name: list[str]
    address: list[str]
    phone: list[str]
    attendance_mode: list[str]
    entry_method: list[str]
    left_behind: list[str]
    disability_type: list[str]
    family: list[FamilyColumns]

    @classmethod
    def of(cls, data: StudentData) -> StudentColumns:
        """A batch of one: each family member a block of its own."""
        values = {
            name: [getattr(data, name)]
            for name in cls.__dataclass_fields__
            if name not in ("size", "family")
        }
        family = [
            FamilyColumns(
                present=[True],
                **{
                    name: [getattr(member, name)]
                    for name in FamilyColumns.__dataclass_fields__
                    if name != "present"
                },
            )
            for member in data.family
        ]
        return cls(size=1, family=family, **values)


RowErrors = dict[str, list[ValidationError]]


def _invalid_choice(value: str) -> ValidationError:
    return ValidationError(
        _("“%(value)s” is not a code of this list."),
        code="invalid_choice",
        params={"value": value},
    )


def _choices(
    add: Callable[[int, str, ValidationError], None],
    key: str,
    values: list[str],
    allowed: Collection[str],
    rows: Iterable[int] | None = None,
) -> None:
    # One set operation for the whole column; the rows are looked at only when a value is off.
    if rows is None:
        if all(value in allowed for value in set(values)):
            return
        rows = range(len(values))
    for row in rows:
        if values[row] not in allowed:
            add(row, key, _invalid_choice(values[row]))


def validate_student_columns(
    columns: StudentColumns, *, division_exists: Callable[[str], bool]
) -> dict[int, RowErrors]:
    """Check a batch of students with the registration rules, normalising names and document
    numbers in place; the errors of each row that has any, by field, all at once."""
    errors: dict[int, RowErrors] = {}

    def add(row: int, key: str, error: ValidationError) -> None:
        errors.setdefault(row, defaultdict(list))[key].append(error)

    names = columns.name = [(name or "").strip() for name in columns.name]
    for row, name in enumerate(names):
        if not name:
            add(row, "name", ValidationError(_("The name is required."), code="required"))
            continue
        for error in name_errors(name):
            add(row, "name", error)
    sexes = _values(codes.Sex)
    _choices(add, "sex", columns.sex, sexes)
    _choices(add, "ethnicity", columns.ethnicity, codes.ETHNICITY_NAMES)
    _choices(add, "id_doc_type", columns.id_doc_type, _values(codes.IdDocType))
    _choices(add, "overseas_status", columns.overseas_status, _values(codes.OverseasStatus))
    _choices(add, "health", columns.health, _values(codes.Health))
    _choices(add, "hukou_nature", columns.hukou_nature, _values(codes.HukouNature))
    _choices(add, "attendance_mode", columns.attendance_mode, _values(codes.AttendanceMode))
    _choices(add, "entry_method", columns.entry_method, _values(codes.EntryMethod))
    _choices(add, "left_behind", columns.left_behind, _values(codes.LeftBehind))
    _choices(add, "disability_type", columns.disability_type, _values(codes.DisabilityType))
    _choices(add, "nationality", columns.nationality, codes.nationality_codes())

    today = datetime.date.today()
    earliest = years_before(today, 30)
    births = columns.birth_date
    # A form whose birth date could not be read still has every other field checked.
    known_births = [born for born in births if born is not None]
    for row, born in enumerate(births):
        if born is None:
            add(
                row,
                "birth_date",
                ValidationError(_("The birth date is required."), code="required"),
            )
    if known_births and (min(known_births) < earliest or max(known_births) > today):
        for row, born in enumerate(births):
            if born is not None and (born > today or born < earliest):
                add(
                    row,
                    "birth_date",
                    ValidationError(
                        _("A birth date must lie within the last 30 years."),
                        code="birth_date_range",
                    ),
                )
    for key in ("birthplace_code", "native_place_code", "hukou_division_code"):
        division_codes: list[str] = getattr(columns, key)
        unknown = {code for code in set(division_codes) if code and not division_exists(code)}
        if key == "birthplace_code" and "" in division_codes:
            unknown.add("")
        if not unknown:
            continue
        for row, code in enumerate(division_codes):
            if code not in unknown:
                continue
            if not code:
                add(row, key, ValidationError(_("The birthplace is required."), code="required"))
            else:
                add(
                    row,
                    key,
                    ValidationError(
                        _("%(code)s is not a current administrative division code."),
                        code="unknown_division",
                        params={"code": code},
                    ),
                )

    numbers = columns.id_number = [normalize(number) for number in columns.id_number]
    resident = codes.IdDocType.RESIDENT_ID.value
    none = codes.IdDocType.NONE.value
    checked: list[int] = []
    for row, (doc_type, number) in enumerate(zip(columns.id_doc_type, numbers, strict=True)):
        if doc_type == resident:
            if not number:
                add(row, "id_number", _resident_id_required())
            else:
                checked.append(row)
        elif doc_type == none:
            if number:
                add(row, "id_number", _unexpected_number())
        elif doc_type and not number:
            add(
                row,
                "id_number",
                ValidationError(_("The document number is required."), code="required"),
            )
    # The number is checked in full whatever else is wrong; against the birth date and the sex
    # where those were given (a missing or unreadable one is reported on its own field).
    failed = resident_id_errors(
        [numbers[row] for row in checked],
        birth_dates=[births[row] for row in checked],
        sexes=[columns.sex[row] if columns.sex[row] in sexes else None for row in checked],
    )
    for position, error in failed.items():
        for each in error.error_list:
            add(checked[position], "id_number", each)
    for key, limit in TEXT_MAX_LENGTHS.items():
        _lengths(add, key, getattr(columns, key), limit)
    for row, phone in enumerate(columns.phone):
        if phone and not _PHONE.match(phone):
            add(
                row,
                "phone",
                ValidationError(_("This is not a phone number."), code="invalid_phone"),
            )

    _validate_family_columns(columns, add, errors)
    return errors


def _validate_family_columns(
    columns: StudentColumns,
    add: Callable[[int, str, ValidationError], None],
    errors: dict[int, RowErrors],
) -> None:
    blocks = columns.family
    size = columns.size
    for row in range(size):
        if not any(block.present[row] for block in blocks):
            add(
                row,
                "family",
                ValidationError(
                    _(
                        "Record at least one family member or guardian; a missing parent is "
                        "recorded as missing, with the reason."
                    ),
                    code="family_required",
                ),
            )
    guardians = [0] * size
    fathers = [False] * size
    relations = _values(codes.Relation)
    reasons = _values(codes.MissingReason)
    doc_types = _values(codes.IdDocType)
    resident = codes.IdDocType.RESIDENT_ID.value
    for index, block in enumerate(blocks):
        prefix = f"family.{index}."
        present = [row for row in range(size) if block.present[row]]
        names = block.name = [(name or "").strip() for name in block.name]
        _choices(add, prefix + "relation", block.relation, relations, present)
        residents: list[int] = []
        for row in present:
            relation = block.relation[row]
            fathers[row] |= relation in FATHER_RELATIONS
            if len(names[row]) > NAME_MAX_LENGTH:
                add(row, prefix + "name", _name_too_long(names[row]))
            for key, limit in MEMBER_TEXT_MAX_LENGTHS.items():
                value = getattr(block, key)[row] or ""
                if len(value) > limit:
                    add(row, prefix + key, _too_long(value, limit))
            missing = block.missing_reason[row]
            if names[row] and missing:
                add(
                    row,
                    prefix + "missing_reason",
                    ValidationError(
                        _("Give either a name or a reason the member is missing, not both."),
                        code="named_and_missing",
                    ),
                )
            elif not names[row] and not missing:
                add(
                    row,
                    prefix + "name",
                    ValidationError(
                        _("Give the member's name, or the reason the member is missing."),
                        code="name_or_missing_reason",
                    ),
                )
            if missing:
                if missing not in reasons:
                    add(row, prefix + "missing_reason", _invalid_choice(missing))
                if block.is_guardian[row]:
                    add(
                        row,
                        prefix + "is_guardian",
                        ValidationError(
                            _("A missing member cannot be the guardian."), code="missing_guardian"
                        ),
                    )
                continue
            if block.is_guardian[row]:
                guardians[row] += 1
            number = block.id_number[row] = normalize(block.id_number[row])
            doc_type = block.id_doc_type[row]
            if doc_type and doc_type not in doc_types:
                add(row, prefix + "id_doc_type", _invalid_choice(doc_type))
            if number and doc_type == resident:
                residents.append(row)
            phone = block.phone[row]
            if phone and not _PHONE.match(phone):
                add(
                    row,
                    prefix + "phone",
                    ValidationError(_("This is not a phone number."), code="invalid_phone"),
                )
        failed = resident_id_errors([block.id_number[row] for row in residents])
        for position, error in failed.items():
            for each in error.error_list:
                add(residents[position], prefix + "id_number", each)
    for row in range(size):
        if not any(block.present[row] for block in blocks):
            continue
        # The national form keeps two family members, and the page always sends two (the
        # father's and the mother's rows, each named or missing with the reason): a family of
        # one, a parent left out without a word, is refused alike from the API and an import,
        # asking for the parent not recorded. A relative may take a row (grandparents who are
        # guardians, with the father), as on the page.
        members = sum(1 for block in blocks if block.present[row])
        if members < FAMILY_MEMBERS_MIN:
            if not fathers[row]:
                add(
                    row,
                    "family",
                    ValidationError(
                        _(
                            "The father is not among the family members: record him by name, "
                            "or as missing with the reason (deceased, no contact, unknown …)."
                        ),
                        code="father_not_recorded",
                    ),
                )
            else:
                add(
                    row,
                    "family",
                    ValidationError(
                        _(
                            "The mother is not among the family members: record her by name, "
                            "or as missing with the reason (deceased, no contact, unknown …)."
                        ),
                        code="mother_not_recorded",
                    ),
                )
        if not guardians[row]:
            add(
                row,
                "family",
                ValidationError(
                    _("Mark at least one present family member as the guardian."),
                    code="guardian_required",
                ),
            )


def name_errors(name: str) -> list[ValidationError]:
    """What is wrong with a (stripped, non-empty) name: too long, or digits or symbols in it."""
    errors = []
    if len(name) > NAME_MAX_LENGTH:
        errors.append(_name_too_long(name))
    if not _NAME.match(name):
        errors.append(
            ValidationError(_("A name cannot contain digits or symbols."), code="invalid_name")
        )
    return errors


def _lengths(
    add: Callable[[int, str, ValidationError], None], key: str, values: list[str], limit: int
) -> None:
    for row, value in enumerate(values):
        if value and len(value) > limit:
            add(row, key, _too_long(value, limit))


def _too_long(value: str, limit: int) -> ValidationError:
    return ValidationError(
        _("At most %(limit)d characters; this one has %(length)d."),
        code="too_long",
        params={"limit": limit, "length": len(value)},
    )


def _name_too_long(name: str) -> ValidationError:
    return ValidationError(
        _("A name has at most %(limit)d characters; this one has %(length)d."),
        code="name_too_long",
        params={"limit": NAME_MAX_LENGTH, "length": len(name)},
    )


def _resident_id_required() -> ValidationError:
    return ValidationError(
        _("A resident ID card was chosen, so its number is required."), code="required"
    )


def _unexpected_number() -> ValidationError:
    return ValidationError(
        _("“No document yet” was chosen, so leave the number empty."), code="unexpected_number"
    )


@dataclass(frozen=True)
class IdNumberCheck:
    """One identity document number checked as registration checks it, on its own (the form
    checks it as soon as the field is left): the number normalised, what is wrong with it, and
    the birth date and sex a resident ID number carries (None when it does not read)."""

    number: str
    errors: list[ValidationError]
    birth_date: datetime.date | None = None
    sex: str | None = None


def id_number_check(
    id_doc_type: str,
    id_number: str,
    *,
    birth_date: datetime.date | None = None,
    sex: str | None = None,
) -> IdNumberCheck:
    """The rules of validate_student_columns for the document number (the same messages),
    against the birth date and sex where they are given."""
    number = normalize(id_number)
    if id_doc_type == codes.IdDocType.NONE.value:
        return IdNumberCheck(number, [_unexpected_number()] if number else [])
    if id_doc_type != codes.IdDocType.RESIDENT_ID.value:
        required = ValidationError(_("The document number is required."), code="required")
        return IdNumberCheck(number, [] if number else [required])
    if not number:
        return IdNumberCheck(number, [_resident_id_required()])
    try:
        resident = validate_resident_id(number)
    except ValidationError as error:
        return IdNumberCheck(number, error.error_list)
    if sex not in _values(codes.Sex):
        sex = None
    failed = resident_id_errors([number], birth_dates=[birth_date], sexes=[sex]).get(0)
    return IdNumberCheck(
        number,
        [] if failed is None else failed.error_list,
        birth_date=resident.birth_date,
        sex=resident.sex,
    )


def validate_student_data(data: StudentData, *, division_exists) -> StudentData:  # type: ignore[no-untyped-def]
    """Check every field, normalise it, and report all problems at once as FieldErrors (the
    batch rules of validate_student_columns on a batch of one)."""
    columns = StudentColumns.of(data)
    errors = validate_student_columns(columns, division_exists=division_exists)
    data.name = columns.name[0]
    data.id_number = columns.id_number[0]
    for member, block in zip(data.family, columns.family, strict=True):
        member.name = block.name[0]
        member.id_number = block.id_number[0]
    if errors:
        raise FieldErrors(errors[0])
    return data


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same day `years` earlier; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


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
