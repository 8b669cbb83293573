"""Pages of the archive: the children reached, one child's growth record with the forms of those
who write its parts, the certificates (issue, print, withdraw), the public verification page and
the published keys."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xueji.access.decorators import requires
from xueji.access.http import refusal_response
from xueji.access.policy import Action
from xueji.access.scope import may, scope_of
from xueji.archive.models import (
    ConductKind,
    Dimension,
    Level,
    RecordSource,
    SanctionLevel,
)
from xueji.archive.pdf.certificate import certificate_lines, certificate_pdf
from xueji.archive.selectors import (
    archive_of,
    certificate_of_school,
    certificates_page,
    students_page,
)
from xueji.archive.services.certificates import (
    certificate_issue,
    certificate_revoke,
    certificate_verify,
    verify_url,
)
from xueji.archive.services.growth import (
    conduct_add,
    conduct_lift,
    counts,
    factual_record_add,
    health_check_add,
    term_report_save,
    vaccination_add,
)
from xueji.archive.signing import published_keys
from xueji.core.errors import FieldErrors, ServiceError
from xueji.schools.models import Term
from xueji.students.views import not_found


def _page_number(request: HttpRequest) -> int:
    text = request.GET.get("page", "1")
    return int(text) if text.isdigit() else 1


@require_GET
@login_required
@requires(Action.ARCHIVE_VIEW)
def home(request: HttpRequest) -> HttpResponse:
    """The children whose growth record the user reads (paged by 50, filtered by name)."""
    from xueji.access.scope import classes_visible
    from xueji.schools.models import SchoolClass

    q = request.GET.get("q", "")[:64]
    scope = scope_of(request.user)
    classes = (
        SchoolClass.objects.filter(classes_visible(scope, Action.ARCHIVE_FILE))
        .select_related("academic_year")
        .order_by("-academic_year__start_year", "grade", "number")[:200]
        if scope is not None and scope.is_school and may(scope, Action.ARCHIVE_FILE)
        else []
    )
    return render(
        request,
        "archive/home.html",
        {
            "page": students_page(request.user, q=q, page=_page_number(request)),
            "q": q,
            "classes": classes,
        },
    )


def _archive_page(
    request: HttpRequest, student_id: Any, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    archive = archive_of(request.user, student_id)
    if archive is None:
        return not_found(request)
    scope = scope_of(request.user)
    today = timezone.localdate()
    return render(
        request,
        "archive/student.html",
        {
            "archive": archive,
            "records": [(record, counts(record, today)) for record in archive.factual_records],
            "may_write": archive.whole and may(scope, Action.GROWTH_WRITE),
            "may_conduct": archive.whole and may(scope, Action.CONDUCT_RECORD),
            "may_health": archive.whole and may(scope, Action.HEALTH_RECORD),
            "may_issue": archive.whole and may(scope, Action.CERTIFICATE_ISSUE),
            "may_file": may(scope, Action.ARCHIVE_FILE),
            "terms": Term.objects.select_related("academic_year").order_by("-start_date")[:6],
            "levels": Level.choices,
            "dimensions": Dimension.choices,
            "sources": RecordSource.choices,
            "conduct_kinds": ConductKind.choices,
            "sanction_levels": SanctionLevel.choices,
            "errors": errors or {},
            "posted": request.POST if errors else {},
        },
        status=status,
    )


@require_GET
@login_required
@requires(Action.ARCHIVE_VIEW)
def student(request: HttpRequest, student_id: Any) -> HttpResponse:
    return _archive_page(request, student_id)


def _posted(request: HttpRequest, student_id: Any, save: Any, done: str) -> HttpResponse:
    try:
        save()
    except FieldErrors as found:
        errors = {name: str(errs[0].messages[0]) for name, errs in found.errors.items()}
        return _archive_page(request, student_id, errors, status=400)
    except ServiceError as refused:
        response = refusal_response(request, refused)
        if response is not None:
            return response
        return _archive_page(request, student_id, {"__all__": str(refused.message)}, 400)
    messages.success(request, done)
    return redirect("archive:student", student_id=student_id)


@require_POST
@login_required
@requires(Action.GROWTH_WRITE)
def term_report(request: HttpRequest, student_id: Any) -> HttpResponse:
    return _posted(
        request,
        student_id,
        lambda: term_report_save(
            actor=request.user, student_id=student_id, data=request.POST.dict()
        ),
        _("The term report is saved."),
    )


@require_POST
@login_required
@requires(Action.GROWTH_WRITE)
def factual_add(request: HttpRequest, student_id: Any) -> HttpResponse:
    return _posted(
        request,
        student_id,
        lambda: factual_record_add(
            actor=request.user, student_id=student_id, data=request.POST.dict()
        ),
        _("The factual record is entered; it counts once its notice period is over."),
    )


@require_POST
@login_required
@requires(Action.CONDUCT_RECORD)
def conduct_new(request: HttpRequest, student_id: Any) -> HttpResponse:
    return _posted(
        request,
        student_id,
        lambda: conduct_add(actor=request.user, student_id=student_id, data=request.POST.dict()),
        _("The award or sanction is entered."),
    )


@require_POST
@login_required
@requires(Action.CONDUCT_RECORD)
def conduct_lift_view(request: HttpRequest, conduct_id: Any) -> HttpResponse:
    try:
        conduct = conduct_lift(
            actor=request.user, conduct_id=conduct_id, reason=request.POST.get("reason", "")
        )
    except ServiceError as refused:
        response = refusal_response(request, refused)
        if response is not None:
            return response
        messages.error(request, str(refused.message))
        return redirect("archive:home")
    except FieldErrors:
        messages.error(request, _("Give the reason."))
        return redirect("archive:home")
    messages.success(request, _("The sanction is lifted."))
    return redirect("archive:student", student_id=conduct.student_id)


@require_POST
@login_required
@requires(Action.HEALTH_RECORD)
def health_new(request: HttpRequest, student_id: Any) -> HttpResponse:
    return _posted(
        request,
        student_id,
        lambda: health_check_add(
            actor=request.user, student_id=student_id, data=request.POST.dict()
        ),
        _("The health check-up is entered."),
    )


@require_POST
@login_required
@requires(Action.HEALTH_RECORD)
def vaccination_new(request: HttpRequest, student_id: Any) -> HttpResponse:
    return _posted(
        request,
        student_id,
        lambda: vaccination_add(
            actor=request.user, student_id=student_id, data=request.POST.dict()
        ),
        _("The vaccination is entered."),
    )


# ---- certificates -------------------------------------------------------------------------------


@require_GET
@login_required
@requires(Action.CERTIFICATE_ISSUE)
def certificates(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "archive/certificates.html",
        {"page": certificates_page(request.user, page=_page_number(request))},
    )


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.CERTIFICATE_ISSUE)
def certificate_new(request: HttpRequest, student_id: Any) -> HttpResponse:
    """The registrar issues a certificate on a guardian's request (asks first, naming what)."""
    archive = archive_of(request.user, student_id)
    if archive is None or not archive.whole:
        return not_found(request)
    error = ""
    if request.method == "POST":
        try:
            certificate = certificate_issue(
                actor=request.user,
                student_id=student_id,
                requested_by=request.POST.get("requested_by", ""),
                with_province_years=request.POST.get("province_years") == "on",
            )
        except FieldErrors as found:
            error = "; ".join(str(e.messages[0]) for errs in found.errors.values() for e in errs)
        except ServiceError as refused:
            response = refusal_response(request, refused)
            if response is not None:
                return response
            error = str(refused.message)
        else:
            messages.success(request, _("The certificate is issued: print it for the guardian."))
            return redirect("archive:certificate", certificate_id=certificate.pk)
    return render(
        request,
        "archive/certificate_new.html",
        {"archive": archive, "error": error},
        status=400 if error else 200,
    )


@require_GET
@login_required
@requires(Action.CERTIFICATE_ISSUE)
def certificate(request: HttpRequest, certificate_id: Any) -> HttpResponse:
    found = certificate_of_school(request.user, certificate_id)
    if found is None:
        return not_found(request)
    return render(
        request,
        "archive/certificate.html",
        {
            "certificate": found,
            "lines": certificate_lines(found.facts),
            "url": verify_url(request.build_absolute_uri("/"), found.token),
        },
    )


@require_GET
@login_required
@requires(Action.CERTIFICATE_ISSUE)
def certificate_download(request: HttpRequest, certificate_id: Any) -> HttpResponse:
    found = certificate_of_school(request.user, certificate_id)
    if found is None:
        return not_found(request)
    pdf = certificate_pdf(
        found.facts, found.signature, verify_url(request.build_absolute_uri("/"), found.token)
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{found.pk}.pdf"'
    return response


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.CERTIFICATE_REVOKE)
def certificate_withdraw(request: HttpRequest, certificate_id: Any) -> HttpResponse:
    """Withdraw a certificate: asks first, naming the child and what follows."""
    found = certificate_of_school(request.user, certificate_id)
    if found is None:
        return not_found(request)
    error = ""
    if request.method == "POST":
        try:
            certificate_revoke(
                actor=request.user,
                certificate_id=certificate_id,
                reason=request.POST.get("reason", ""),
            )
        except FieldErrors:
            error = _("Give the reason.")
        except ServiceError as refused:
            response = refusal_response(request, refused)
            if response is not None:
                return response
            error = str(refused.message)
        else:
            messages.success(request, _("The certificate is withdrawn."))
            return redirect("archive:certificate", certificate_id=certificate_id)
    return render(
        request,
        "archive/certificate_withdraw.html",
        {"certificate": found, "error": error},
        status=400 if error else 200,
    )


# ---- public -------------------------------------------------------------------------------------


@require_GET
def certificate_public(request: HttpRequest, token: str) -> HttpResponse:
    """The page a certificate's QR code opens: no account; the certificate's facts and whether
    it is still valid, nothing more. Rate limited per client address; every visit audited."""
    try:
        outcome = certificate_verify(token=token[:64])
    except ServiceError as refused:
        response = render(
            request, "archive/public.html", {"refused": str(refused.message)}, status=429
        )
        response["Retry-After"] = "3600"
        return response
    if outcome.certificate is None:
        return render(request, "archive/public.html", {"missing": True}, status=404)
    return render(
        request,
        "archive/public.html",
        {
            "certificate": outcome.certificate,
            "lines": certificate_lines(outcome.certificate.facts),
            "valid": outcome.valid,
            "reason": outcome.reason,
        },
    )


@require_GET
def signing_keys(request: HttpRequest) -> HttpResponse:
    """Every public key that signed or signs certificates (JSON), for offline verification."""
    return JsonResponse(published_keys(), json_dumps_params={"ensure_ascii": False})


# ---- the fitness test ------------------------------------------------------------------------


def _school_year(request: HttpRequest) -> int:
    from xueji.schools.models import academic_start_year

    text = request.POST.get("year") or request.GET.get("year") or ""
    if text.isdigit() and len(text) == 4:
        return int(text)
    return int(academic_start_year(timezone.localdate()))


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.FITNESS_IMPORT)
def fitness(request: HttpRequest) -> HttpResponse:
    """The school's fitness results of a school year, and the import of the Excel sheet (all or
    nothing, every error named by row and column)."""
    from xueji.archive.models import FitnessResult
    from xueji.archive.services.fitness import COLUMNS, fitness_import

    scope = scope_of(request.user)
    year = _school_year(request)
    errors: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise FieldErrors({"file": [ValidationError(_("Choose a file."), code="required")]})
            imported = fitness_import(actor=request.user, content=upload.read(), start_year=year)
        except FieldErrors as found:
            errors = [str(e.messages[0]) for errs in found.errors.values() for e in errs]
        else:
            messages.success(
                request,
                _("%(count)d results imported and scored.") % {"count": len(imported)},
            )
            return redirect(f"{request.path}?year={year}")
    results = (
        FitnessResult.objects.filter(
            school_id=(scope.school_id if scope else None) or 0, start_year=year
        )
        .select_related("student")
        .order_by("grade", "student__name_pinyin", "kind")
    )
    return render(
        request,
        "archive/fitness.html",
        {"results": results[:500], "year": year, "errors": errors, "columns": list(COLUMNS)},
        status=400 if errors else 200,
    )


@require_GET
@login_required
@requires(Action.FITNESS_IMPORT)
def fitness_export(request: HttpRequest) -> HttpResponse:
    """The school's results of a school year in the national upload's 21 columns (CSV)."""
    from xueji.archive.services.fitness import as_csv, fitness_export_rows

    year = _school_year(request)
    response = HttpResponse(
        as_csv(fitness_export_rows(actor=request.user, start_year=year)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="fitness-{year}.csv"'
    return response


# ---- electronic files ---------------------------------------------------------------------------


@require_POST
@login_required
@requires(Action.ARCHIVE_FILE)
def file_new(request: HttpRequest, student_id: Any) -> HttpResponse:
    """Make one child's electronic file in the background."""
    from xueji.archive.services.files import file_job_create

    try:
        job = file_job_create(actor=request.user, student_id=student_id)
    except ServiceError as refused:
        return refusal_response(request, refused) or not_found(request)
    return redirect("archive:file_job", file_job_id=job.pk)


@require_POST
@login_required
@requires(Action.ARCHIVE_FILE)
def class_file_new(request: HttpRequest, class_id: int) -> HttpResponse:
    """Make the electronic files of a class's children in the background (one PDF)."""
    from xueji.archive.services.files import file_job_create

    try:
        job = file_job_create(actor=request.user, school_class_id=class_id)
    except ServiceError as refused:
        return refusal_response(request, refused) or not_found(request)
    return redirect("archive:file_job", file_job_id=job.pk)


@require_GET
@login_required
@requires(Action.ARCHIVE_FILE)
def file_job(request: HttpRequest, file_job_id: Any) -> HttpResponse:
    """A file's progress (the page reloads itself until it is done) and its download."""
    from xueji.archive.services.files import file_job_of

    job = file_job_of(request.user, file_job_id)
    if job is None:
        return not_found(request)
    return render(request, "archive/file_job.html", {"job": job})


@require_GET
@login_required
@requires(Action.ARCHIVE_FILE)
def file_download(request: HttpRequest, file_job_id: Any) -> HttpResponse:
    from django.http import FileResponse

    from xueji.archive.services.files import file_job_open

    try:
        stream = file_job_open(actor=request.user, job_id=file_job_id)
    except ServiceError as refused:
        response = refusal_response(request, refused)
        if response is not None:
            return response
        messages.info(request, str(refused.message))
        return redirect("archive:file_job", file_job_id=file_job_id)
    return FileResponse(  # type: ignore[return-value]
        stream,
        as_attachment=True,
        filename=f"electronic-file-{file_job_id}.pdf",
        content_type="application/pdf",
    )
