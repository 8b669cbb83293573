"""Reads of verification windows and of class teachers' checks, and of the guardians' record
check sheets (核对表) of the registrar's classes, limited to the caller's scope."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import (
    NOTHING,
    PREFIX_DIGITS,
    Scope,
    classes_visible,
    may,
    scope_of,
    students_visible,
    today,
)
from xueji.audit.services import audit_record
from xueji.schools.models import School, SchoolClass, academic_start_year
from xueji.schools.selectors import shown_academic_year
from xueji.students.identity import FAMILY_ID_NUMBER, unseal
from xueji.students.models import ON_ROLL_STATES, FamilyMember, Placement, Student
from xueji.verification.models import (
    GuardianCheck,
    GuardianOutcome,
    StudentCheck,
    VerificationWindow,
)


def _windows_q(scope: Scope | None) -> Q:
    if scope is None or not may(scope, Action.WINDOW_VIEW):
        return NOTHING
    if scope.level == ScopeLevel.NATION:
        return Q()
    if scope.level == ScopeLevel.SCHOOL:
        county = School.objects.filter(pk=scope.school_id or 0).values("county_id")
        return Q(county_id__in=county)
    digits = PREFIX_DIGITS[scope.level]
    return Q(county__code__startswith=(scope.division_code or "")[:digits])


def windows_in_scope(user: Any) -> QuerySet[VerificationWindow]:
    """The verification windows of the counties in the user's area, latest first."""
    return (
        VerificationWindow.objects.filter(_windows_q(scope_of(user)))
        .select_related("county", "term", "term__academic_year", "opened_by", "closed_by")
        .order_by("county_id", "-opens_on")
    )


def window_of_county(
    county_code: str, on: datetime.date | None = None
) -> VerificationWindow | None:
    """The county's window open on a date (today by default)."""
    return VerificationWindow.objects.open_on(on or today()).filter(county_id=county_code).first()


def next_window_of_county(
    county_code: str, on: datetime.date | None = None
) -> VerificationWindow | None:
    """The county's next window that has not opened yet."""
    return (
        VerificationWindow.objects.filter(
            county_id=county_code, opens_on__gt=on or today(), closed_at__isnull=True
        )
        .order_by("opens_on")
        .first()
    )


@dataclass
class WindowClosing:
    """What closing a window does: the window, and how many on-roll students placed in a class
    of the county's schools no class teacher has checked in it yet."""

    window: VerificationWindow
    unchecked: int


def window_closing(user: Any, window_id: int) -> WindowClosing | None:
    """A window the county approver may close now (open or planned, not closed), with the count
    of records still unchecked in it; None otherwise."""
    scope = scope_of(user)
    if scope is None or not may(scope, Action.WINDOW_MANAGE) or scope.level != ScopeLevel.COUNTY:
        return None
    window = (
        VerificationWindow.objects.filter(
            pk=window_id,
            county_id=scope.division_code,
            closed_at__isnull=True,
            closes_on__gte=today(),
        )
        .select_related("county", "term", "term__academic_year")
        .first()
    )
    if window is None:
        return None
    placed = Placement.objects.filter(
        school__county_id=window.county_id,
        school_class__isnull=False,
        end_date__isnull=True,
    ).values("student_id")
    checked = StudentCheck.objects.filter(window=window).values("student_id")
    unchecked = (
        Student.objects.filter(pk__in=placed, state__in=ON_ROLL_STATES)
        .exclude(pk__in=checked)
        .count()
    )
    return WindowClosing(window=window, unchecked=unchecked)


@dataclass
class MyClasses:
    """A class teacher's classes, and whether the county's window lets them look now."""

    school: School | None
    classes: list[SchoolClass]
    window: VerificationWindow | None
    next_window: VerificationWindow | None


def my_classes(user: Any) -> MyClasses:
    """The classes the user is class teacher of at the school (names only; their students are
    seen through the check sheet while the window is open)."""
    scope = scope_of(user)
    if scope is None or not may(scope, Action.CLASS_VERIFY):
        return MyClasses(None, [], None, None)
    school = School.objects.select_related("county").filter(pk=scope.school_id or 0).first()
    if school is None:
        return MyClasses(None, [], None, None)
    classes = list(
        SchoolClass.objects.filter(class_teacher_id=scope.user_id, school=school)
        .select_related("academic_year")
        .order_by("-academic_year__start_year", "grade", "number")
    )
    return MyClasses(
        school=school,
        classes=classes,
        window=window_of_county(school.county_id),
        next_window=next_window_of_county(school.county_id),
    )


@dataclass
class CheckRow:
    student: Student
    check: StudentCheck | None = None


@dataclass
class CheckSheet:
    school_class: SchoolClass
    window: VerificationWindow
    rows: list[CheckRow] = field(default_factory=list)

    @property
    def confirmed(self) -> int:
        return sum(1 for row in self.rows if row.check and row.check.outcome == "confirmed")

    @property
    def reported(self) -> int:
        return sum(1 for row in self.rows if row.check and row.check.outcome == "reported")

    def position_of(self, student_id: Any) -> int | None:
        """The child's place on the sheet (0 for the first), or None when not on it."""
        return next(
            (number for number, row in enumerate(self.rows) if row.student.pk == student_id), None
        )

    def next_unchecked(self, student_id: Any) -> CheckRow | None:
        """The first child after this one on the sheet not yet checked in this window, going
        round to the top; None when every other child is checked (下一位)."""
        start = self.position_of(student_id)
        start = -1 if start is None else start
        count = len(self.rows)
        for step in range(1, count + 1):
            row = self.rows[(start + step) % count]
            if row.check is None and row.student.pk != student_id:
                return row
        return None


def check_sheet(user: Any, class_id: int) -> CheckSheet | None:
    """A class teacher's own class while the window is open: its current students, each with
    what was found in this window. None otherwise (outside the window, another class)."""
    scope = scope_of(user)
    school_class = (
        SchoolClass.objects.filter(classes_visible(scope, Action.CLASS_VERIFY), pk=class_id)
        .select_related("school", "academic_year")
        .first()
    )
    if school_class is None:
        return None
    window = window_of_county(school_class.school.county_id)
    if window is None:
        return None
    students = list(
        Student.objects.filter(
            students_visible(scope, Action.CLASS_VERIFY),
            placements__school_class=school_class,
            placements__end_date__isnull=True,
        ).order_by("name_pinyin", "id")
    )
    checks = {
        check.student_id: check
        for check in StudentCheck.objects.filter(
            window=window, student_id__in=[s.pk for s in students]
        )
    }
    return CheckSheet(
        school_class=school_class,
        window=window,
        rows=[CheckRow(student, checks.get(student.pk)) for student in students],
    )


# ---- the guardians' record check sheets (核对表) ------------------------------------------------


@dataclass
class GuardianClassRow:
    school_class: SchoolClass
    students: int
    confirmed: int
    corrected: int

    @property
    def waiting(self) -> int:
        return max(self.students - self.confirmed - self.corrected, 0)


def _registrar_scope(user: Any) -> Scope | None:
    scope = scope_of(user)
    if scope is None or not may(scope, Action.GUARDIAN_CHECK) or scope.school_id is None:
        return None
    return scope


def _year_start(start_year: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(start_year, 9, 1))


def _latest_checks(student_ids: list[Any], since: datetime.datetime) -> dict[Any, GuardianCheck]:
    """Each student's latest recorded sheet since a day."""
    found: dict[Any, GuardianCheck] = {}
    for check in (
        GuardianCheck.objects.filter(student_id__in=student_ids, recorded_at__gte=since)
        .select_related("recorded_by", "correction")
        .order_by("recorded_at")
    ):
        found[check.student_id] = check
    return found


def guardian_classes(user: Any) -> tuple[School, int, list[GuardianClassRow]] | None:
    """The registrar's classes of the school year shown, each with how many of its children's
    sheets came back confirmed, with corrections, or not yet (this school year)."""
    scope = _registrar_scope(user)
    if scope is None:
        return None
    school = School.objects.get(pk=scope.school_id or 0)
    year = shown_academic_year(school.pk)
    if year is None:
        return school, academic_start_year(today()), []
    classes = list(
        SchoolClass.objects.filter(school=school, academic_year=year).order_by("grade", "number")
    )
    on_roll = Placement.objects.filter(
        school_class__in=classes, end_date__isnull=True, student__state__in=ON_ROLL_STATES
    ).values_list("school_class_id", "student_id")
    by_class: dict[int, list[Any]] = {}
    for class_id, student_id in on_roll:
        by_class.setdefault(class_id, []).append(student_id)
    latest = _latest_checks(
        [s for ids in by_class.values() for s in ids], _year_start(year.start_year)
    )
    rows = []
    for school_class in classes:
        outcomes = [latest[s].outcome for s in by_class.get(school_class.pk, []) if s in latest]
        rows.append(
            GuardianClassRow(
                school_class,
                students=len(by_class.get(school_class.pk, [])),
                confirmed=outcomes.count(GuardianOutcome.CONFIRMED),
                corrected=outcomes.count(GuardianOutcome.CORRECTED),
            )
        )
    return school, year.start_year, rows


@dataclass
class FamilyOnSheet:
    member: FamilyMember
    id_number: str  # masked, or in full when revealed


@dataclass
class ChildSheet:
    student: Student
    student_number: str
    id_number: str
    family: list[FamilyOnSheet]
    latest: GuardianCheck | None
    birthplace: str = ""
    native_place: str = ""
    hukou_place: str = ""


# City-level names that are no place of their own (the districts of a municipality).
_NO_PLACE_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


def division_path(division: Any) -> str:
    """A division as written on a form: 广东省深圳市福田区 (its province and city before it)."""
    names: list[str] = []
    while division is not None:
        if division.name not in _NO_PLACE_NAMES:
            names.insert(0, division.name)
        division = division.parent
    return "".join(names)


@dataclass
class ClassSheets:
    school_class: SchoolClass
    children: list[ChildSheet]
    revealed: bool
    printed_on: datetime.date


def _class_children(scope: Scope, school_class: SchoolClass) -> list[Student]:
    return list(
        Student.objects.filter(
            students_visible(scope, Action.GUARDIAN_CHECK),
            placements__school_class=school_class,
            placements__end_date__isnull=True,
            state__in=ON_ROLL_STATES,
        )
        .select_related(
            "school",
            "birthplace__parent__parent",
            "native_place__parent__parent",
            "hukou_division__parent__parent",
        )
        .prefetch_related("family")
        .order_by("name_pinyin", "id")
    )


def guardian_sheets(user: Any, class_id: int, *, reveal: bool = False) -> ClassSheets | None:
    """One record check sheet per child of a class of the registrar's school: the record as the
    national form lists it and the family; ID and student numbers masked unless `reveal`
    (allowed to a role that may reveal numbers; each child's reveal is an audit entry)."""
    scope = _registrar_scope(user)
    if scope is None:
        return None
    school_class = (
        SchoolClass.objects.select_related("school", "academic_year")
        .filter(pk=class_id, school_id=scope.school_id or 0)
        .first()
    )
    if school_class is None:
        return None
    reveal = reveal and may(scope, Action.STUDENT_REVEAL_ID)
    children = _class_children(scope, school_class)
    latest = _latest_checks(
        [c.pk for c in children], _year_start(school_class.academic_year.start_year)
    )
    sheets = []
    with transaction.atomic():
        for child in children:
            family = list(child.family.all())
            if reveal:
                audit_record(
                    actor=user,
                    action="student.reveal_numbers",
                    object_type="student",
                    object_id=child.pk,
                    detail={"number": child.number_masked, "purpose": "guardian_check_sheet"},
                )
            sheets.append(
                ChildSheet(
                    student=child,
                    student_number=child.reveal_student_number() if reveal else child.number_masked,
                    id_number=(child.reveal_id_number() if reveal else child.id_number_masked),
                    family=[
                        FamilyOnSheet(
                            member,
                            unseal(member.id_number_sealed, context=FAMILY_ID_NUMBER)
                            if reveal and member.id_number_sealed
                            else member.id_number_masked,
                        )
                        for member in family
                    ],
                    latest=latest.get(child.pk),
                    birthplace=division_path(child.birthplace),
                    native_place=division_path(child.native_place),
                    hukou_place=division_path(child.hukou_division),
                )
            )
    return ClassSheets(school_class, sheets, reveal, today())


@dataclass
class GuardianCheckPage:
    student: Student
    school_class: SchoolClass
    history: list[GuardianCheck]


def guardian_check_page(user: Any, student_id: Any) -> GuardianCheckPage | None:
    """A child of the registrar's school in a class, with the sheets recorded before."""
    scope = _registrar_scope(user)
    if scope is None:
        return None
    student = (
        Student.objects.filter(students_visible(scope, Action.GUARDIAN_CHECK), pk=student_id)
        .select_related("school", "birthplace", "native_place", "hukou_division")
        .prefetch_related("family")
        .first()
    )
    placement = (
        None
        if student is None
        else Placement.objects.select_related("school_class", "school_class__academic_year")
        .filter(student=student, end_date__isnull=True, school_id=scope.school_id or 0)
        .first()
    )
    if student is None or placement is None or placement.school_class is None:
        return None
    return GuardianCheckPage(
        student=student,
        school_class=placement.school_class,
        history=list(
            GuardianCheck.objects.filter(student=student)
            .select_related("recorded_by", "correction")
            .order_by("-recorded_at")[:20]
        ),
    )
