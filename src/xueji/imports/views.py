"""Pages of spreadsheet imports: templates, upload, progress (htmx polling), errors, report."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from xueji.access.decorators import requires
from xueji.access.http import form_refused, refusal_as_message
from xueji.access.policy import Action
from xueji.access.scope import may, scope_of
from xueji.core.errors import ServiceError
from xueji.core.exports import content_disposition
from xueji.imports import columns as cols
from xueji.imports.models import ImportJob, JobState
from xueji.imports.pipeline import CellError
from xueji.imports.reports import error_report_file, template_for
from xueji.imports.selectors import (
    import_job_detail,
    import_job_get,
    import_jobs_visible,
    import_purposes,
    import_purposes_listed,
    prefill_classes,
)
from xueji.imports.services import import_job_create, import_template_prefill
from xueji.schools.models import grade_label

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERRORS_ON_PAGE = 500
JOBS_PER_PAGE = 50


class ImportFilterForm(forms.Form):
    """The filters of the list of imports; the school is asked only above the school level."""

    state = forms.ChoiceField(
        label=gettext_lazy("State"),
        required=False,
        choices=[("", gettext_lazy("Any")), *JobState.choices],
    )
    purpose = forms.ChoiceField(label=gettext_lazy("Kind of import"), required=False)
    school = forms.CharField(
        label=gettext_lazy("School name or code"),
        required=False,
        max_length=64,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": gettext_lazy("e.g. 第一小学 or 4403040001")}
        ),
    )

    def __init__(
        self, *args: Any, purposes: list[tuple[str, str]], with_school: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["purpose"].choices = [("", _("Any")), *purposes]  # type: ignore[attr-defined]
        if not with_school:
            del self.fields["school"]

    def clean_school(self) -> str:
        text = str(self.cleaned_data["school"]).strip()
        if text.isdigit() and len(text) > 10:
            raise forms.ValidationError(gettext_lazy("A school code has 10 digits."))
        return text


class PrefillForm(forms.Form):
    """The class whose students pre-fill the updates template; none: the whole school."""

    class_id = forms.IntegerField(label=gettext_lazy("Class"), required=False, min_value=1)


@require_GET
@login_required
@requires(Action.IMPORT_VIEW)
def import_index(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    above_school = scope is not None and not scope.is_school
    form = ImportFilterForm(
        request.GET, purposes=import_purposes_listed(request.user), with_school=above_school
    )
    page = None
    if form.is_valid():
        jobs = import_jobs_visible(
            request.user,
            state=form.cleaned_data["state"],
            purpose=form.cleaned_data["purpose"],
            school=form.cleaned_data.get("school", ""),
        )
        page = Paginator(jobs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    may_import = may(scope, Action.IMPORT_RUN) and scope is not None and scope.is_school
    return render(
        request,
        "imports/index.html",
        {
            "form": form,
            "page": page,
            "filtered": form.is_valid() and any(form.cleaned_data.values()),
            "may_import": may_import,
            "purposes": import_purposes(request.user),
            # None: the role may not see student numbers in full, so no pre-filled template.
            "prefill_classes": prefill_classes(request.user) if may_import else None,
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
    # Named in the registrar's words (导入模板-新生及家庭成员.xlsx), found again in Downloads.
    name = _("Import template - %(kind)s") % {"kind": cols.PURPOSE_LABELS[purpose]}
    response["Content-Disposition"] = content_disposition(
        name, "xlsx", fallback=f"xueji-{purpose}-template"
    )
    return response


@require_GET
@login_required
@requires(Action.IMPORT_RUN)
def template_prefilled(request: HttpRequest) -> HttpResponseBase:
    """The updates template filled in with the students of a class (?class_id=), or of the
    whole school: their student numbers in full and their other information as recorded."""
    form = PrefillForm(request.GET)
    if not form.is_valid():
        return form_refused(form)
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    try:
        written = import_template_prefill(
            actor=request.user, class_id=form.cleaned_data["class_id"], out=handle
        )
    except ServiceError as error:
        handle.close()
        return refusal_as_message(request, error) or redirect("imports:index")
    handle.seek(0)
    school_class = written.school_class
    if school_class is None:
        where, fallback = written.school.name, f"xueji-updates-{written.school.code}"
    else:
        where = f"{grade_label(school_class.grade)}{school_class.name}"
        fallback = f"xueji-updates-{written.school.code}-class-{school_class.pk}"
    response = FileResponse(handle, content_type=XLSX)
    # 非基础信息更新-一年级1班.xlsx: the registrar finds the class's file again in Downloads.
    response["Content-Disposition"] = content_disposition(
        f"{cols.PURPOSE_LABELS[cols.UPDATES]}-{where}", "xlsx", fallback=fallback
    )
    response["Cache-Control"] = "no-store"
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
    found = import_job_detail(request.user, job_id)
    if found is None:
        raise Http404
    return render(
        request,
        "imports/detail.html",
        {**_context(found.job), "classes": found.classes, "earlier": found.earlier},
    )


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
    stem = Path(job.filename).stem
    response = FileResponse(handle, content_type=XLSX)
    # Named in the reader's language (新生-错误标注.xlsx); clients that cannot read a UTF-8 file
    # name get the ASCII one.
    response["Content-Disposition"] = content_disposition(
        _("%(name)s-errors") % {"name": stem},
        "xlsx",
        fallback=f"{stem}-errors" if stem.isascii() else f"import-{job.pk}-errors",
    )
    return response
