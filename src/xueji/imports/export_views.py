"""Downloads of rosters and of the student records list (CSV or XLSX), streamed, masked by
default (?reveal=1 needs the reveal permission and is recorded), every one audited. Coded
columns (sex, ethnicity, identity document type, record state) and the grade are written as
their labels in the interface language, from the same code lists the model's fields use.
Statistics tables are exported by xueji.stats.views.export through the same xueji.core.exports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import F
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotFound,
)
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy
from django.views.decorators.http import require_GET

from xueji.access.decorators import requires
from xueji.access.http import form_refused
from xueji.access.policy import Action
from xueji.access.scope import may, school_in_area, scope_of
from xueji.core.exports import FORMATS, MASK_ID_NUMBER, MASK_STUDENT_NUMBER, Column, export_response
from xueji.schools.models import GRADE_LABELS, School, grade_label
from xueji.schools.selectors import class_get
from xueji.students.forms import student_search_form
from xueji.students.identity import STUDENT_ID_NUMBER, STUDENT_NUMBER, unseal
from xueji.students.models import Placement, Student
from xueji.students.selectors import student_matches, students_in_scope, with_open_placement

CHUNK = 2_000


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


def code_labels() -> dict[str, dict[Any, str]]:
    """{column: {code: label}} for the coded columns and the grade, in the active language: the
    choices of the Student model's fields, which the registration form and the import templates
    use too, and the grades' everyday names (一年级, 初一 …). Built once per export."""
    labels: dict[str, dict[Any, str]] = {}
    for key in CODED:
        field = cast("models.Field[Any, Any]", Student._meta.get_field(key))
        labels[key] = {str(code): str(label) for code, label in field.flatchoices}
    labels["grade"] = {grade: grade_label(grade) for grade in GRADE_LABELS}
    return labels


def _labelled(row: dict[str, Any], labels: dict[str, dict[Any, str]]) -> None:
    """The row's codes replaced by their labels (a code not in its list stays as it is)."""
    for key, names in labels.items():
        code = row[key]
        if code is not None:
            row[key] = names.get(code if key == "grade" else str(code), code)


def _rows(students: Any, reveal: bool) -> Iterator[dict[str, Any]]:
    """One dict per record, read in chunks (a server-side cursor on PostgreSQL), its codes as
    their labels. Grade and class are those of the open placement (blank for a student who has
    left)."""
    labels = code_labels()
    rows = (
        with_open_placement(students)
        .annotate(
            grade=F("open_placement__grade"),
            class_name=F("open_placement__school_class__name"),
        )
        .values(*FIELDS)
    )
    for row in rows.iterator(chunk_size=CHUNK):
        if reveal:
            row["number"] = unseal(row["number_sealed"], context=STUDENT_NUMBER)
            row["id_number"] = unseal(row["id_number_sealed"], context=STUDENT_ID_NUMBER)
        else:
            row["number"], row["id_number"] = row["number_masked"], row["id_number_masked"]
        _labelled(row, labels)
        yield row


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Http404
    return fmt


def _reveal(request: HttpRequest) -> bool:
    """?reveal=1 unmasks the numbers, for a role that may reveal them (403 otherwise)."""
    if request.GET.get("reveal") != "1":
        return False
    if not may(scope_of(request.user), Action.STUDENT_REVEAL_ID):
        raise PermissionDenied
    return True


def school_named(user: Any, text: str) -> School | None:
    """The school `?school=` names, inside the user's area: by its public 10-digit school code
    (学校标识码), or by its internal id (older links); None when there is no such school or it
    lies outside the area (the two are not told apart)."""
    text = text.strip()
    school = School.objects.filter(code=text).first()
    if school is None and text.isdigit() and len(text) < 10:
        school = School.objects.filter(pk=int(text)).first()
    if school is None or not school_in_area(scope_of(user), school):
        return None
    return school


def _no_such_school(text: str) -> HttpResponse:
    message = _("There is no school with the code “%(code)s” in your area.") % {"code": text[:32]}
    return HttpResponseNotFound(message, content_type="text/plain; charset=utf-8")


@require_GET
@login_required
@requires(Action.EXPORT)
def roster(request: HttpRequest, class_id: int, fmt: str) -> HttpResponse:
    """The students placed in a class now."""
    fmt = _format(fmt)
    school_class = class_get(request.user, class_id)
    if school_class is None:
        raise Http404
    placed = Placement.objects.filter(school_class_id=class_id, end_date__isnull=True)
    students = (
        students_in_scope(request.user, Action.ROSTER_VIEW)
        .filter(pk__in=placed.values("student_id"))
        .order_by("name_pinyin", "id")
    )
    reveal = _reveal(request)
    response: HttpResponse = export_response(
        actor=request.user,
        name=f"{school_class.school.name}-{school_class}",
        columns=RECORD_COLUMNS,
        rows=_rows(students, reveal),
        fmt=fmt,
        reveal=reveal,
        count=students.count(),
    )
    return response


@require_GET
@login_required
@requires(Action.EXPORT)
def records(request: HttpRequest, fmt: str) -> HttpResponse:
    """Every record the user may list (a school's, a county's ...), optionally of one school
    (`?school=` its 10-digit school code, or its internal id), narrowed by the search page's
    criteria (?q=&grade=&class=, read by the same form); a school that does not exist or lies
    outside the area answers 404 with the reason, criteria the form refuses 400 with its
    errors, never an empty or unfiltered file."""
    fmt = _format(fmt)
    form = student_search_form(request.user, request.GET)
    if not form.is_valid():
        return form_refused(form)
    school = None
    text = request.GET.get("school", "").strip()
    if text:
        school = school_named(request.user, text)
        if school is None:
            return _no_such_school(text)
    students = student_matches(
        request.user,
        query=form.cleaned_data["q"],
        school_id=None if school is None else school.pk,
        grade=form.cleaned_data["grade"],
        class_id=form.cleaned_data.get("class_id"),
    )
    if not form.has_criteria:
        # A whole area can be a million rows: streamed in primary-key order, as it always was.
        students = students.order_by("id")
    name = "-".join([pgettext("export file", "Student records"), *form.described()])
    if school is not None:
        name = f"{school.name}-{name}"
    reveal = _reveal(request)
    response: HttpResponse = export_response(
        actor=request.user,
        name=name,
        columns=RECORD_COLUMNS,
        rows=_rows(students, reveal),
        fmt=fmt,
        reveal=reveal,
        count=students.count(),
        filters=form.filters(),
    )
    return response
