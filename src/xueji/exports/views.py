"""Downloads of rosters and of the student records list (CSV or XLSX), masked by default
(reveal=1 needs the reveal permission and is recorded), every one audited. The parameters are
a GET's query or a POST's body: the search page posts them, so that a number searched for stays
out of URLs and access logs. CSV streams from the first rows; an Excel file of more than
XUEJI_EXPORT_BACKGROUND_ROWS rows is written in the background instead (its page shows the
progress, then the download), since it cannot send a byte before it is finished. Which rows and
columns: xueji.exports.records. Statistics tables are exported by xueji.stats.views.export
through the same xueji.exports.files."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotFound,
    QueryDict,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from xueji.access.decorators import requires
from xueji.access.http import form_refused
from xueji.access.policy import Action
from xueji.access.scope import may, scope_of
from xueji.core.errors import ServiceError
from xueji.core.exports import FORMATS, content_disposition
from xueji.exports.files import export_response
from xueji.exports.records import (
    RECORD_COLUMNS,
    RECORDS_CRITERIA,
    InvalidCriteria,
    NoSuchClass,
    NoSuchSchool,
    Selection,
    record_rows,
    records_criteria,
    records_selection,
    roster_selection,
)
from xueji.exports.selectors import export_job_get, export_jobs_recent
from xueji.exports.services import background_rows, export_job_create, export_job_download


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Http404
    return fmt


def _data(request: HttpRequest) -> QueryDict:
    """The parameters of an export: a POST's body (the search page's buttons, the offer's
    button: a number searched for stays out of the URL and the access logs), a GET's query.
    A POST's address may carry some too (an offer page rendered before its form carried
    them): they count where the body does not say otherwise, never dropped for a wider file."""
    if request.method != "POST":
        return request.GET
    data = request.GET.copy()
    for key in request.POST:
        data.setlist(key, request.POST.getlist(key))
    return data


def _reveal(request: HttpRequest) -> bool:
    """reveal=1 unmasks the numbers, for a role that may reveal them (403 otherwise)."""
    if _data(request).get("reveal") != "1":
        return False
    if not may(scope_of(request.user), Action.STUDENT_REVEAL_ID):
        raise PermissionDenied
    return True


def _as_csv(request: HttpRequest) -> str:
    """The same export's URL as CSV."""
    query = request.GET.urlencode()
    return request.path.removesuffix(".xlsx") + ".csv" + (f"?{query}" if query else "")


def _answer(
    request: HttpRequest, selection: Selection, *, fmt: str, table: str, criteria: dict[str, Any]
) -> HttpResponse:
    """The file at once, or (a large Excel file) a page offering to write it in the background,
    whose button posts the same criteria to queue it and leads to its progress; a POST (that
    button, or the search page's) queues it at once."""
    reveal = _reveal(request)
    rows = selection.count()
    if fmt == "xlsx" and rows > background_rows():
        if request.method != "POST":
            # The criteria go in the button's form, not in its address.
            hidden = [(key, str(criteria[key])) for key in RECORDS_CRITERIA if key in criteria]
            return render(
                request,
                "exports/offer.html",
                {"selection": selection, "rows": rows, "reveal": reveal, "criteria": hidden,
                 "limit": background_rows(), "csv_url": _as_csv(request),
                 "recent": export_jobs_recent(request.user)},
            )  # fmt: skip
        job = export_job_create(
            actor=request.user,
            table=table,
            criteria=criteria,
            selection=selection,
            fmt=fmt,
            reveal=reveal,
            rows=rows,
        )
        return redirect("exports:job", job.pk)
    response: HttpResponse = export_response(
        actor=request.user,
        name=selection.name,
        columns=RECORD_COLUMNS,
        rows=record_rows(selection.students, reveal),
        fmt=fmt,
        reveal=reveal,
        count=rows,
        filters=selection.filters if table == "records" else None,
    )
    return response


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.EXPORT)
def roster(request: HttpRequest, class_id: int, fmt: str) -> HttpResponse:
    """The students placed in a class now."""
    fmt = _format(fmt)
    try:
        selection = roster_selection(request.user, class_id)
    except NoSuchClass:
        raise Http404 from None
    return _answer(request, selection, fmt=fmt, table="roster", criteria={"class_id": class_id})


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.EXPORT)
def records(request: HttpRequest, fmt: str) -> HttpResponse:
    """Every record the user may list (a school's, a county's ...), optionally of one school
    (`school=` its 10-digit school code, or its internal id), narrowed by the search page's
    criteria (q, grade, class, read by the same form; the search page posts them); a school
    that does not exist or lies outside the area answers 404 with the reason, criteria the form
    refuses 400 with its errors, never an empty or unfiltered file."""
    fmt = _format(fmt)
    data = _data(request)
    try:
        selection = records_selection(request.user, data)
    except InvalidCriteria as refused:
        return form_refused(refused.form)
    except NoSuchSchool as missing:
        return HttpResponseNotFound(str(missing.message), content_type="text/plain; charset=utf-8")
    criteria = records_criteria(data)
    return _answer(request, selection, fmt=fmt, table="records", criteria=criteria)


def _own_job(request: HttpRequest, export_id: Any) -> Any:
    job = export_job_get(request.user, export_id)
    if job is None:
        raise Http404
    return job


@require_GET
@login_required
@requires(Action.EXPORT)
def jobs(request: HttpRequest) -> HttpResponse:
    """The user's background exports still kept, newest first: where a file written while
    they were away is found again."""
    return render(request, "exports/jobs.html", {"recent": export_jobs_recent(request.user)})


@require_GET
@login_required
@requires(Action.EXPORT)
def job(request: HttpRequest, export_id: Any) -> HttpResponse:
    """A background export's page: its progress, then its download, and the user's others."""
    return render(
        request,
        "exports/job.html",
        {"job": _own_job(request, export_id), "recent": export_jobs_recent(request.user)},
    )


@require_GET
@login_required
@requires(Action.EXPORT)
def job_progress(request: HttpRequest, export_id: Any) -> HttpResponse:
    """The progress card alone, polled by htmx until the file is ready."""
    return render(request, "exports/_progress.html", {"job": _own_job(request, export_id)})


@require_GET
@login_required
@requires(Action.EXPORT)
def job_file(request: HttpRequest, export_id: Any) -> HttpResponseBase:
    """The written file of the user's own export, while it is kept (recorded each time)."""
    try:
        download = export_job_download(actor=request.user, job_id=export_id)
    except ServiceError as refused:
        if refused.status == 404:
            raise Http404 from None
        # Not ready, or expired: its page says which.
        messages.warning(request, str(refused.message))
        return redirect("exports:job", export_id)
    response = FileResponse(download.open(), content_type=download.content_type)
    response["Content-Disposition"] = content_disposition(download.filename, download.fmt)
    response["Cache-Control"] = "no-store"
    return response
