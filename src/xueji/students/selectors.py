"""Reads of student records, always limited to the caller's scope."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Count, F, FilteredRelation, Prefetch, Q, QuerySet

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import may, school_in_area, scope_of, students_visible
from xueji.audit.services import audit_record
from xueji.core.codes import IdDocType
from xueji.core.idnumbers import normalize
from xueji.geo.models import Division, DivisionLevel
from xueji.geo.selectors import county_level_divisions
from xueji.schools.models import MAX_GRADE, MIN_GRADE, School, SchoolClass
from xueji.schools.selectors import class_get, school_classes, school_get, schools_in_scope
from xueji.students.identity import document_indexes, number_indexes
from xueji.students.models import ON_ROLL_STATES, Placement, Student, StudentNumberAlias

_STUDENT_NUMBER = re.compile(r"^[GJL]\d{17}[\dX]$")
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_LATIN = re.compile(r"^[a-z]+$")


def students_in_scope(user: Any, action: str = Action.STUDENT_VIEW) -> QuerySet[Student]:
    """All student records the user may perform `action` on (the permission matrix decides:
    a class teacher sees the current students of own classes while the window is open)."""
    return Student.objects.filter(students_visible(scope_of(user), action))


def with_open_placement(students: QuerySet[Student, Any]) -> QuerySet[Student, Any]:
    """The students with their open placement joined in as `open_placement` (LEFT JOIN: fields
    through it are None for a student who has left)."""
    # One join, at most one row per student (the partial unique index
    # one_open_placement_per_student): a correlated subquery per field, run per row, made the
    # query of a province's million records three times as slow (bench/exports.py).
    return students.annotate(
        open_placement=FilteredRelation(
            "placements", condition=Q(placements__end_date__isnull=True)
        )
    )


def student_get(user: Any, student_id: Any) -> Student | None:
    """One record by its internal id, or None when it does not exist or lies outside the scope."""
    return (
        students_in_scope(user)
        .select_related("school", "birthplace", "native_place", "hukou_division")
        .filter(pk=student_id)
        .first()
    )


def _one(students: QuerySet[Student]) -> Student | None:
    """The single row of a unique lookup, without the ordering `.first()` would compile in."""
    return next(iter(students.order_by()[:1]), None)


def student_by_number(
    user: Any, number: str, action: str = Action.STUDENT_VIEW_LIST
) -> Student | None:
    """Exact lookup by a current or former student number, or by a resident ID number, among
    the records the user may perform `action` on (auditors look up with audit.view)."""
    number = normalize(number)
    visible = students_in_scope(user, action).select_related("school")
    if _STUDENT_NUMBER.match(number):
        # Every suite's digest: a record not yet re-indexed by a change of suite is found too.
        indexes = number_indexes(number)
        found = _one(visible.filter(number_index__in=indexes))
        if found is not None:
            return found
        alias = (
            StudentNumberAlias.objects.filter(number_index__in=indexes).only("student_id").first()
        )
        return None if alias is None else _one(visible.filter(pk=alias.student_id))
    if _ID_NUMBER.match(number):
        by_document = visible.filter(
            id_doc_type=IdDocType.RESIDENT_ID,
            id_number_index__in=document_indexes(IdDocType.RESIDENT_ID, number),
        )
        return _one(by_document)
    return None


def student_matches(
    user: Any,
    *,
    query: str = "",
    school_id: int | None = None,
    grade: int | None = None,
    class_id: int | None = None,
    division_code: str = "",
) -> QuerySet[Student]:
    """All matches of a search by number, name, pinyin or initials, province or county
    (`division_code`), school, grade or class."""
    students = students_in_scope(user, Action.STUDENT_VIEW_LIST).select_related("school")
    query = query.strip()
    if query:
        exact = student_by_number(user, query)
        if exact is not None:
            # A full number names one record; grade and class do not narrow it further.
            return students.filter(pk=exact.pk)
        lowered = query.lower().replace(" ", "")
        if _LATIN.match(lowered):
            students = students.filter(
                Q(name_pinyin__startswith=lowered) | Q(name_initials__startswith=lowered)
            )
        else:
            students = students.filter(name__startswith=query)
    if division_code:
        # A province's code ends in 0000; anything else here is a county-level division (a
        # city without counties, 东莞 441900, is its schools' county).
        level = "province" if division_code.endswith("0000") else "county"
        students = students.filter(**{f"school__{level}_id": division_code})
    if school_id is not None:
        students = students.filter(school_id=school_id)
    if grade is not None or class_id is not None:
        open_placements = Placement.objects.filter(end_date__isnull=True)
        if grade is not None:
            open_placements = open_placements.filter(grade=grade)
        if class_id is not None:
            open_placements = open_placements.filter(school_class_id=class_id)
        students = students.filter(pk__in=open_placements.values("student_id"))
    return students.order_by("name_pinyin", "id")


def student_search(
    user: Any,
    *,
    query: str = "",
    school_id: int | None = None,
    grade: int | None = None,
    class_id: int | None = None,
    limit: int = 50,
) -> list[Student]:
    """The first `limit` matches of student_matches, in pinyin order."""
    matches = student_matches(
        user, query=query, school_id=school_id, grade=grade, class_id=class_id
    )
    return list(matches[:limit])


@dataclass(frozen=True)
class SearchPage:
    """One page of a search's matches: the students, how many match in all, and the page."""

    students: list[Student]
    total: int
    page: Page[Student]


def student_search_page(
    user: Any,
    *,
    query: str = "",
    grade: int | None = None,
    class_id: int | None = None,
    school_id: int | None = None,
    division_code: str = "",
    page: Any = 1,
    limit: int = 50,
) -> SearchPage:
    """A page (of `limit` students) of the matches of a search, in pinyin order, and how many
    there are in all; each
    student with the grade and class it sits in now (`current_grade`, `current_class`, None
    when it has left), so that two 王浩宇 of one school can be told apart. A page number out of
    range gives the last page."""
    matches = student_matches(
        user,
        query=query,
        grade=grade,
        class_id=class_id,
        school_id=school_id,
        division_code=division_code,
    )
    annotated = with_open_placement(matches).annotate(
        current_grade=F("open_placement__grade"),
        current_class=F("open_placement__school_class__name"),
    )
    found = Paginator(annotated, limit).get_page(page)
    return SearchPage(students=list(found), total=found.paginator.count, page=found)


def search_choices(user: Any) -> tuple[list[int], list[SchoolClass]]:
    """The grades and classes a user's search may be narrowed to."""
    scope = scope_of(user)
    if scope is None or not scope.is_school or scope.school_id is None:
        return list(range(MIN_GRADE, MAX_GRADE + 1)), []
    school = school_get(user, scope.school_id)
    grades = list(school.grades) if school else []
    return grades, school_classes(user, scope.school_id)


@dataclass(frozen=True)
class SearchArea:
    """The places a bureau's search may be narrowed to, inside its area: the provinces (the
    nation's only), the county-level divisions (of the chosen province, for the nation; none
    for a county, whose own is implied) and the schools of the chosen county (a county's own)."""

    provinces: list[Division]
    counties: list[Division]
    schools: list[School]
    own_county: str = ""


def search_area(user: Any, *, province: str = "", county: str = "") -> SearchArea | None:
    """The places a bureau user's search may be narrowed to; None for school staff, whose
    search is their school's (by grade and class)."""
    scope = scope_of(user)
    if scope is None or scope.is_school or not may(scope, Action.STUDENT_VIEW_LIST):
        return None
    provinces: list[Division] = []
    counties: list[Division] = []
    own_county = ""
    if scope.level == ScopeLevel.COUNTY:
        own_county = scope.division_code or ""
        county = own_county
    else:
        divisions = county_level_divisions(user)
        if scope.level == ScopeLevel.NATION:
            provinces = list(Division.objects.filter(level=DivisionLevel.PROVINCE).order_by("code"))
            # 2,850 counties in one list would weigh more than the page: the province first.
            divisions = (
                divisions.filter(code__startswith=province[:2]) if province else divisions.none()
            )
        counties = list(divisions)
    schools = (
        list(schools_in_scope(user).filter(county_id=county).order_by("code")) if county else []
    )
    return SearchArea(provinces, counties, schools, own_county)


def school_in_area_named(user: Any, text: str) -> School | None:
    """The school a search or an export is narrowed to, inside the user's area: by its public
    10-digit school code (学校标识码), or by its internal id (older links); None when there is no
    such school or it lies outside the area (the two are not told apart)."""
    text = text.strip()
    school = School.objects.filter(code=text).first()
    if school is None and text.isdigit() and len(text) < 10:
        school = School.objects.filter(pk=int(text)).first()
    if school is None or not school_in_area(scope_of(user), school):
        return None
    return school


def class_roster(user: Any, class_id: int) -> list[Student]:
    """The students placed in a class now, in pinyin order."""
    return list(
        students_in_scope(user, Action.STUDENT_VIEW_LIST)
        .filter(placements__school_class_id=class_id, placements__end_date__isnull=True)
        .order_by("name_pinyin", "id")
    )


def placement_on(student_id: Any, on: datetime.date) -> Placement | None:
    """Where the record sat on a date: the placement with start ≤ date < end."""
    return (
        Placement.objects.select_related("school", "school_class")
        .filter(student_id=student_id, start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=on))
        .order_by("-start_date")
        .first()
    )


def placement_history(student_id: Any) -> list[Placement]:
    return list(
        Placement.objects.select_related("school", "school_class", "school_class__academic_year")
        .filter(student_id=student_id)
        .order_by("start_date")
    )


def class_counts(school_id: int) -> dict[int, dict[str, int]]:
    """Students on roll per class of a school, by sex: {class_id: {"1": boys, "2": girls}}."""
    rows = (
        Placement.objects.filter(
            school_id=school_id, end_date__isnull=True, student__state__in=ON_ROLL_STATES
        )
        .values("school_class_id", "student__sex")
        .annotate(n=Count("id"))
    )
    counts: dict[int, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["school_class_id"], {})[row["student__sex"]] = row["n"]
    return counts


def student_record(user: Any, student_id: Any) -> Student | None:
    """The full record in scope: basic information, family, placement history, former numbers."""
    return (
        students_in_scope(user)
        .select_related("school", "birthplace", "native_place", "hukou_division")
        .prefetch_related(
            "family",
            "former_numbers",
            Prefetch(
                "placements",
                queryset=Placement.objects.select_related(
                    "school", "school_class", "school_class__academic_year"
                ).order_by("start_date"),
            ),
        )
        .filter(pk=student_id)
        .first()
    )


def class_with_roster(user: Any, class_id: int) -> tuple[Any, list[Student]] | None:
    """A class in scope and the students placed in it now, or None outside the scope."""
    school_class = class_get(user, class_id)
    if school_class is None:
        return None
    return school_class, class_roster(user, class_id)


def student_numbers_revealed(user: Any, student_id: Any) -> dict[str, str] | None:
    """The plain student and ID numbers of a record in scope; every reveal is audited."""
    student = students_in_scope(user, Action.STUDENT_REVEAL_ID).filter(pk=student_id).first()
    if student is None:
        return None
    with transaction.atomic():
        audit_record(
            actor=user,
            action="student.reveal_numbers",
            object_type="student",
            object_id=student.pk,
            detail={"number": student.number_masked},
        )
    return {
        "student_number": student.reveal_student_number(),
        "id_number": student.reveal_id_number(),
    }
