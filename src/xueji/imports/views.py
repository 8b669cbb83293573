"""Pages of spreadsheet imports: templates, upload, progress (htmx polling), errors, report."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from xueji.access.decorators import requires
from xueji.access.policy import Action
from xueji.access.scope import may, scope_of
from xueji.core.errors import ServiceError
from xueji.imports import columns as cols
from xueji.imports.models import ImportJob
from xueji.imports.pipeline import CellError
from xueji.imports.reports import error_report_file, template_for
from xueji.imports.selectors import import_job_get, import_jobs_visible, import_purposes
from xueji.imports.services import import_job_create

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERRORS_ON_PAGE = 500


@require_GET
@login_required
@requires(Action.IMPORT_VIEW)
def import_index(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    return render(
        request,
        "imports/index.html",
        {
            "jobs": import_jobs_visible(request.user)[:100],
            "may_import": may(scope, Action.IMPORT_RUN) and scope is not None and scope.is_school,
            "purposes": import_purposes(request.user),
        },
    )


@require_GET
@login_required
@requires(Action.IMPORT_RUN)
def template(request: HttpRequest, purpose: str) -> HttpResponse:
    if purpose not in cols.PURPOSES:
        raise Http404
    try:
        content = template_for(request.user, purpose)
    except ServiceError as error:
        messages.error(request, str(error.message))
        return redirect("imports:index")
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="xueji-{purpose}-template.xlsx"'
    return response


@require_POST
@login_required
@requires(Action.IMPORT_RUN)
def upload(request: HttpRequest) -> HttpResponse:
    file = request.FILES.get("file")
    purpose = request.POST.get("purpose", cols.STUDENTS)
    if file is None:
        messages.error(request, _("Choose a file to import."))
        return redirect("imports:index")
    try:
        job = import_job_create(
            actor=request.user,
            purpose=purpose,
            upload=file,
            filename=file.name or "upload",
            size=file.size or 0,
        )
    except ServiceError as error:
        messages.error(request, str(error.message))
        return redirect("imports:index")
    return redirect("imports:detail", job_id=job.pk)


def _job_or_404(request: HttpRequest, job_id: uuid.UUID) -> ImportJob:
    job = import_job_get(request.user, job_id)
    if job is None:
        raise Http404
    return job


def _context(job: ImportJob) -> dict[str, object]:
    errors = [CellError.of(item) for item in job.errors[:ERRORS_ON_PAGE]]
    header = job.header
    return {
        "job": job,
        "errors": [(e, header[e.column] if 0 <= e.column < len(header) else "") for e in errors],
        "more_errors": max(job.error_count - len(errors), 0),
    }


@require_GET
@login_required
@requires(Action.IMPORT_VIEW)
def detail(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    return render(request, "imports/detail.html", _context(_job_or_404(request, job_id)))


@require_GET
@login_required
@requires(Action.IMPORT_VIEW)
def progress(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    """The progress part of the page; htmx polls it while the job runs."""
    job = _job_or_404(request, job_id)
    response = render(request, "imports/_progress.html", _context(job))
    if job.finished and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@require_GET
@login_required
@requires(Action.IMPORT_VIEW)
def report(request: HttpRequest, job_id: uuid.UUID) -> HttpResponseBase:
    """The uploaded sheet with the bad cells highlighted and commented."""
    job = _job_or_404(request, job_id)
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    try:
        error_report_file(request.user, job, handle)
    except ServiceError as error:
        handle.close()
        messages.error(request, str(error.message))
        return redirect("imports:detail", job_id=job.pk)
    handle.seek(0)
    name = f"{Path(job.filename).stem}-errors.xlsx"
    return FileResponse(handle, as_attachment=True, filename=name, content_type=XLSX)
