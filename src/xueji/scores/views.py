"""Pages of scores: subject teachers enter them; the registrar assigns who teaches what."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xueji.access.decorators import requires
from xueji.access.http import form_submitted, refusal_response
from xueji.access.policy import Action
from xueji.core.errors import FieldErrors, ServiceError
from xueji.core.names import person_name
from xueji.schools.models import grade_label
from xueji.scores.forms import AssignmentForm
from xueji.scores.models import ScoreKind
from xueji.scores.selectors import my_assignments, school_assignment, school_teaching, score_sheet
from xueji.scores.services import scores_enter, teaching_assign, teaching_unassign
from xueji.students.views import not_found


@require_GET
@login_required
@requires(Action.SCORE_ENTER)
def home(request: HttpRequest) -> HttpResponse:
    """The classes and subjects the teacher is assigned to."""
    return render(request, "scores/home.html", {"assignments": my_assignments(request.user)})


def _term_id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.SCORE_ENTER)
def enter(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """The names of the class's students, each with a score box for the subject and term."""
    term_id = _term_id(request.POST.get("term") or request.GET.get("term"))
    asked_kind = request.POST.get("kind") or request.GET.get("kind") or ScoreKind.TERM
    kind = asked_kind if asked_kind in ScoreKind.values else ScoreKind.TERM
    sheet = score_sheet(request.user, assignment_id, term_id, kind)
    if sheet is None:
        return not_found(request)
    errors: dict[str, str] = {}
    typed: dict[str, str] = {}
    if request.method == "POST" and sheet.term is not None:
        typed = {str(row.id): request.POST.get(f"score-{row.id}", "").strip() for row in sheet.rows}
        try:
            scores_enter(
                actor=request.user,
                assignment_id=assignment_id,
                term_id=sheet.term.pk,
                scores=typed,
                kind=kind,
            )
        except FieldErrors as found:
            errors = {name: errs[0].messages[0] for name, errs in found.errors.items()}
        except ServiceError as refused:
            response = refusal_response(request, refused)
            if response is not None:
                return response
            errors = {"__all__": str(refused.message)}
        else:
            messages.success(request, _("The scores are saved."))
            return redirect(f"{request.path}?term={sheet.term.pk}&kind={kind}")
    rows = [
        {
            "id": str(row.id),
            "name": row.name,
            "value": typed.get(str(row.id), "" if row.score is None else str(row.score)),
            "error": errors.get(str(row.id), ""),
        }
        for row in sheet.rows
    ]
    return render(
        request,
        "scores/enter.html",
        {
            "sheet": sheet,
            "rows": rows,
            "form_error": errors.get("__all__", ""),
            "kinds": ScoreKind.choices,
        },
        status=400 if errors else 200,
    )


def _year_asked(request: HttpRequest) -> int | None:
    """The school year a page asks for (?year=2027, or the form's), None for the usual one."""
    text = request.POST.get("year") or request.GET.get("year") or ""
    return int(text) if text.isdigit() and len(text) == 4 else None


def _teaching_url(year: int | None) -> str:
    url = reverse("scores:teaching")
    return f"{url}?year={year}" if year else url


def _teaching_page(
    request: HttpRequest, form: AssignmentForm | None, status: int = 200
) -> HttpResponse:
    overview = school_teaching(request.user, _year_asked(request))
    if overview is None:
        return not_found(request)
    if form is None:
        form = AssignmentForm(classes=overview.classes, teachers=overview.teachers)
    return render(
        request, "scores/teaching.html", {"overview": overview, "form": form}, status=status
    )


@require_GET
@login_required
@requires(Action.TEACHING_MANAGE)
def teaching(request: HttpRequest) -> HttpResponse:
    """The registrar's list of who teaches which subject in which class."""
    return _teaching_page(request, None)


@require_POST
@login_required
@requires(Action.TEACHING_MANAGE)
def teaching_add(request: HttpRequest) -> HttpResponse:
    overview = school_teaching(request.user, _year_asked(request))
    if overview is None:
        return not_found(request)
    form = AssignmentForm(request.POST, classes=overview.classes, teachers=overview.teachers)

    def save() -> HttpResponse:
        teaching_assign(
            actor=request.user,
            school_class_id=form.cleaned_data["school_class"],
            subject=form.cleaned_data["subject"],
            teacher_id=form.cleaned_data["teacher"],
        )
        messages.success(request, _("The teaching assignment is saved."))
        return redirect(_teaching_url(overview.year))

    return form_submitted(request, form, save) or _teaching_page(request, form, status=400)


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.TEACHING_MANAGE)
def teaching_remove(request: HttpRequest, assignment_id: int) -> HttpResponse:
    """Ending a teaching assignment asks first: the page names the teacher, the class and the
    subject and says what ending it does; only the POST of that page (confirmed=yes) ends it.
    A POST without the confirmation shows the page and ends nothing."""
    assignment = school_assignment(request.user, assignment_id)
    if assignment is None:
        return not_found(request)
    year = _year_asked(request)
    if request.method == "POST" and request.POST.get("confirmed") == "yes":
        try:
            teaching_unassign(actor=request.user, assignment_id=assignment_id)
        except ServiceError as refused:
            response = refusal_response(request, refused)
            if response is not None:
                return response
            raise
        messages.success(
            request,
            _("%(teacher)s no longer teaches %(subject)s in %(class)s; the scores entered stay.")
            % {
                "teacher": person_name(assignment.teacher),
                "subject": assignment.get_subject_display(),
                "class": f"{grade_label(assignment.school_class.grade)} "
                f"{assignment.school_class.name}",
            },
        )
        return redirect(_teaching_url(year))
    return render(
        request,
        "scores/teaching_remove.html",
        {"assignment": assignment, "year": year, "back": _teaching_url(year)},
    )
