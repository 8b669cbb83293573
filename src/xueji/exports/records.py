"""The student records tables that are exported (the records list and a class's roster): which
rows a request chooses, and their columns. The download views and the background export read
them alike, so a file written later holds what the page offered.

Coded columns (sex, ethnicity, identity document type, record state) and the grade are written
as their labels in the interface language, from the same code lists the model's fields use."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from django.db import models
from django.db.models import F, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext, pgettext_lazy

from xueji.access.policy import Action
from xueji.core.errors import translated
from xueji.core.exports import MASK_ID_NUMBER, MASK_STUDENT_NUMBER, Column
from xueji.schools.models import GRADE_LABELS, School, grade_label
from xueji.schools.selectors import class_get
from xueji.students.forms import StudentSearchForm, student_search_form
from xueji.students.identity import STUDENT_ID_NUMBER, STUDENT_NUMBER, unseal
from xueji.students.models import Placement, Student
from xueji.students.selectors import (
    school_in_area_named,
    student_matches,
    students_in_scope,
    with_open_placement,
)

CHUNK = 2_000
# The request parameters a records export is chosen by (the search page's, and the school).
RECORDS_CRITERIA = ("q", "province", "county", "grade", "class", "school")

# Headers in the reader's language, like the labels of the codes below them; a context of their
# own, since these are the registry's official column names (全国学籍号, not 学籍号).
RECORD_COLUMNS = [
    Column("number", pgettext_lazy("export column", "Student number"), MASK_STUDENT_NUMBER),
    Column("name", pgettext_lazy("export column", "Name")),
    Column("sex", pgettext_lazy("export column", "Sex")),
    Column("birth_date", pgettext_lazy("export column", "Birth date")),
    Column("ethnicity", pgettext_lazy("export column", "Ethnicity")),
    Column("id_doc_type", pgettext_lazy("export column", "Identity document type")),
    Column("id_number", pgettext_lazy("export column", "Identity document number"), MASK_ID_NUMBER),
    Column("school__code", pgettext_lazy("export column", "School code")),
    Column("school__name", pgettext_lazy("export column", "School")),
    Column("grade", pgettext_lazy("export column", "Grade")),
    Column("class_name", pgettext_lazy("export column", "Class")),
    Column("state", pgettext_lazy("export column", "Record state")),
]
FIELDS = (
    "number_masked",
    "number_sealed",
    "id_number_masked",
    "id_number_sealed",
    "name",
    "sex",
    "birth_date",
    "ethnicity",
    "id_doc_type",
    "school__code",
    "school__name",
    "state",
    "grade",
    "class_name",
)
# Columns holding a code of a national code list (the Student field's choices).
CODED = ("sex", "ethnicity", "id_doc_type", "state")


class InvalidCriteria(Exception):
    """The search form refused the criteria (its errors say which and why)."""

    def __init__(self, form: StudentSearchForm) -> None:
        super().__init__("invalid export criteria")
        self.form = form


class NoSuchSchool(Exception):
    """`?school=` names no school inside the user's area."""

    def __init__(self, text: str) -> None:
        super().__init__("no such school")
        self.text = text

    @property
    def message(self) -> Any:
        """The reason, in the language active when it is shown (the page, or the job's record
        of it in both languages)."""
        return translated(
            _("There is no school with the code “%(code)s” in your area."), {"code": self.text[:32]}
        )


class NoSuchClass(Exception):
    """The roster's class does not exist or lies outside the user's area."""


@dataclass(frozen=True)
class Selection:
    """The students an export holds, in their order, the file's name, and what they were
    chosen by (for the audit entry; a number masked)."""

    students: QuerySet[Student]
    name: str
    filters: dict[str, Any] = field(default_factory=dict)

    def count(self) -> int:
        return self.students.count()


def school_named(user: Any, text: str) -> School | None:
    """The school `?school=` names, inside the user's area (the search form's own reading of
    it, xueji.students.selectors.school_in_area_named)."""
    return school_in_area_named(user, text)


def records_criteria(data: Mapping[str, Any]) -> dict[str, str]:
    """The request parameters a records export is chosen by, as given."""
    return {key: str(data[key]) for key in RECORDS_CRITERIA if data.get(key) not in (None, "")}


def records_selection(user: Any, data: Mapping[str, Any]) -> Selection:
    """Every record the user may list (a school's, a county's ...), optionally of one school
    (`school`: its 10-digit code, or its internal id), narrowed by the search page's criteria
    (q, grade, class), read by the same form. InvalidCriteria or NoSuchSchool otherwise: never
    an unfiltered selection in place of one the user asked for."""
    # The school first: one outside the area is a 404 with the reason, as it always was, not
    # the search form's refusal of it.
    school = None
    text = str(data.get("school") or "").strip()
    if text:
        school = school_named(user, text)
        if school is None:
            raise NoSuchSchool(text)
    form = student_search_form(user, data)
    if not form.is_valid():
        raise InvalidCriteria(form)
    students = student_matches(
        user,
        query=form.cleaned_data["q"],
        school_id=None if school is None else school.pk,
        grade=form.cleaned_data["grade"],
        class_id=form.cleaned_data.get("class_id"),
        division_code=form.division_code,
    )
    if not form.has_criteria:
        # A whole area can be a million rows: streamed in primary-key order, as it always was.
        students = students.order_by("id")
    name = "-".join([pgettext("export file", "Student records"), *form.described()])
    if school is not None:
        name = f"{school.name}-{name}"
    return Selection(students=students, name=name, filters=form.filters())


def roster_selection(user: Any, class_id: int) -> Selection:
    """The students placed in a class now, by pinyin; NoSuchClass when the class is not one
    the user may see."""
    school_class = class_get(user, class_id)
    if school_class is None:
        raise NoSuchClass(class_id)
    placed = Placement.objects.filter(school_class_id=class_id, end_date__isnull=True)
    students = (
        students_in_scope(user, Action.ROSTER_VIEW)
        .filter(pk__in=placed.values("student_id"))
        .order_by("name_pinyin", "id")
    )
    return Selection(
        students=students,
        name=f"{school_class.school.name}-{school_class}",
        filters={"class_id": class_id},
    )


def code_labels() -> dict[str, dict[Any, str]]:
    """{column: {code: label}} for the coded columns and the grade, in the active language: the
    choices of the Student model's fields, which the registration form and the import templates
    use too, and the grades' everyday names (一年级, 初一 …). Built once per export."""
    labels: dict[str, dict[Any, str]] = {}
    for key in CODED:
        model_field = cast("models.Field[Any, Any]", Student._meta.get_field(key))
        labels[key] = {str(code): str(label) for code, label in model_field.flatchoices}
    labels["grade"] = {grade: grade_label(grade) for grade in GRADE_LABELS}
    return labels


def _labelled(row: dict[str, Any], labels: dict[str, dict[Any, str]]) -> None:
    """The row's codes replaced by their labels (a code not in its list stays as it is)."""
    for key, names in labels.items():
        code = row[key]
        if code is not None:
            row[key] = names.get(code if key == "grade" else str(code), code)


def record_values(students: Any) -> Any:
    """The students' FIELDS, with grade and class of the open placement (None for a student who
    has left) by one join."""
    return (
        with_open_placement(students)
        .annotate(
            grade=F("open_placement__grade"),
            class_name=F("open_placement__school_class__name"),
        )
        .values(*FIELDS)
    )


def record_rows(students: Any, reveal: bool) -> Iterator[dict[str, Any]]:
    """One dict per record, read in chunks (a server-side cursor on PostgreSQL), its codes as
    their labels. Grade and class are those of the open placement (blank for a student who has
    left)."""
    labels = code_labels()
    for row in record_values(students).iterator(chunk_size=CHUNK):
        if reveal:
            row["number"] = unseal(row["number_sealed"], context=STUDENT_NUMBER)
            row["id_number"] = unseal(row["id_number_sealed"], context=STUDENT_ID_NUMBER)
        else:
            row["number"], row["id_number"] = row["number_masked"], row["id_number_masked"]
        _labelled(row, labels)
        yield row
