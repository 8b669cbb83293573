"""Pages of changes of status (学籍异动): the receiving registrar's transfer application, the
other changes filed from a record, each party's queue with its decisions (htmx), a request's
approval chain, the evidence, and a school's public notice (公示)."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xueji.access.decorators import requires
from xueji.access.http import (
    evidence_download,
    first_reason,
    refusal_on_form,
    refusal_response,
)
from xueji.access.lookups import LookupLimitReached
from xueji.access.policy import Action
from xueji.access.scope import scope_of, today
from xueji.changes.forms import (
    ChangeForm,
    DecisionForm,
    FindChildForm,
    NoticeForm,
    QueueFilterForm,
    TransferForm,
)
from xueji.changes.models import ChangeState
from xueji.changes.policy import in_compulsory_education, kinds_offered
from xueji.changes.queues import queue_page
from xueji.changes.selectors import (
    ChangeDetail,
    active_change_of,
    change_detail,
    public_notice,
    transfer_candidate,
)
from xueji.changes.services import (
    change_decide,
    change_evidence_open,
    change_file,
    change_withdraw,
    transfer_file,
)
from xueji.changes.services.lookup import transfer_lookup
from xueji.core.errors import ServiceError
from xueji.corrections.evidence import EVIDENCE_MAX_BYTES, Upload
from xueji.schools.selectors import school_classes
from xueji.students.selectors import placement_on, student_get
from xueji.students.views import not_found


def _upload(file: Any) -> Upload:
    # At most one byte past the limit is read: enough for the service to refuse the file.
    return Upload(name=file.name or "", content=file.read(EVIDENCE_MAX_BYTES + 1))


def _uploads(request: HttpRequest, name: str) -> list[Upload]:
    return [_upload(f) for f in request.FILES.getlist(name)]


def _one_upload(request: HttpRequest, name: str) -> Upload | None:
    file = request.FILES.get(name)
    return None if file is None else _upload(file)


@require_GET
@login_required
@requires(Action.CHANGE_VIEW)
def queue(request: HttpRequest) -> HttpResponse:
    """The user's queues, a box (tab) at a time: what waits for the user's decision, overdue
    steps reported to the user's bureau, the school's own applications, held requests, finished
    ones, everything; filtered (查询 / 重置), 50 a page, exported to Excel as filtered."""
    form = QueueFilterForm(request.GET or None, user=request.user)
    valid = not form.is_bound or form.is_valid()
    found = queue_page(
        request.user, box=form.chosen_box, filters=form.filters(), page=request.GET.get("page")
    )
    return render(
        request,
        "changes/queue.html",
        {
            "form": form,
            "queue": found,
            "filtered": bool(request.GET.keys() - {"box", "page"}),
            "export_query": _export_query(request, found.box),
            "today": today(),
        },
        status=200 if valid else 400,
    )


def _export_query(request: HttpRequest, box: str) -> str:
    """The page's box and filters, for its export (every page of it)."""
    query = request.GET.copy()
    query["box"] = box
    query.pop("page", None)
    return query.urlencode()


@require_GET
@login_required
@requires(Action.CHANGE_VIEW)
def detail(request: HttpRequest, change_id: uuid.UUID) -> HttpResponse:
    """A request with its approval chain: each step, its party, state, who, when, deadline."""
    found = change_detail(request.user, change_id)
    if found is None:
        return not_found(request)
    return render(request, "changes/detail.html", {"found": found, "decision_form": DecisionForm()})


def _own_classes(request: HttpRequest) -> list[Any]:
    scope = scope_of(request.user)
    if scope is None or scope.school_id is None:
        return []
    return school_classes(request.user, scope.school_id)


# The child found by the registrar, kept in the session between the look-up and the filing:
# the number typed is never echoed back into a page.
FOUND_CHILD = "changes.transfer.child"


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.CHANGE_FILE)
def transfer(request: HttpRequest) -> HttpResponse:
    """The receiving school's registrar finds the child (student number and name, both exact;
    only a masked minimum is shown) and files the transfer application."""
    classes = _own_classes(request)
    context: dict[str, Any] = {"classes": classes}
    if request.method == "GET":
        request.session.pop(FOUND_CHILD, None)
        context["find_form"] = FindChildForm()
        return render(request, "changes/transfer.html", context)

    if request.POST.get("step") != "file":
        request.session.pop(FOUND_CHILD, None)
        find_form = FindChildForm(request.POST)
        if not find_form.is_valid():
            context["find_form"] = find_form
            return render(request, "changes/transfer.html", context, status=400)
        number, name = find_form.cleaned_data["number"], find_form.cleaned_data["name"]
        try:
            candidate = transfer_lookup(actor=request.user, number=number, name=name)
        except LookupLimitReached as refused:
            find_form = FindChildForm(initial={"name": name})
            context.update(find_form=find_form, lookup_limit=refused.message)
            return render(request, "changes/transfer.html", context, status=429)
        if candidate is None:
            find_form = FindChildForm(initial={"name": name})
            find_form.is_bound = False
            context["find_form"] = find_form
            context["not_found"] = True
            return render(request, "changes/transfer.html", context, status=404)
        request.session[FOUND_CHILD] = {"number": number, "name": name}
        context["candidate"] = candidate
        context["form"] = TransferForm(classes=classes)
        return render(request, "changes/transfer.html", context)

    child = request.session.get(FOUND_CHILD) or {}
    number, name = child.get("number", ""), child.get("name", "")
    candidate = transfer_candidate(request.user, number=number, name=name)
    if candidate is None:
        context["find_form"] = FindChildForm()
        return render(request, "changes/transfer.html", context, status=400)
    form = TransferForm(request.POST, request.FILES, classes=classes)
    context.update(form=form, candidate=candidate)
    if form.is_valid():
        try:
            change = transfer_file(
                actor=request.user,
                student_number=number,
                name=name,
                to_class_id=form.cleaned_data["to_class"],
                reason=form.cleaned_data["reason"],
                guardian_request=_one_upload(request, "guardian_request"),
                evidence=_uploads(request, "evidence"),
            )
        except ServiceError as refused:
            response = refusal_on_form(request, form, refused)
            if response is not None:
                return response
            if isinstance(refused, LookupLimitReached):
                return render(request, "changes/transfer.html", context, status=429)
        else:
            request.session.pop(FOUND_CHILD, None)
            if change.state == ChangeState.HELD:
                messages.info(
                    request,
                    _(
                        "The application is filed. Transfers are closed now: it waits in the "
                        "queue and proceeds by itself on %(date)s."
                    )
                    % {"date": change.resumes_on},
                )
            else:
                messages.success(request, _("The application is filed and sent to the next party."))
            return redirect("changes:detail", change_id=change.pk)
    return render(request, "changes/transfer.html", context, status=400)


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.CHANGE_FILE)
def new(request: HttpRequest, student_id: uuid.UUID) -> HttpResponse:
    """The registrar of the student's school files a change other than a transfer."""
    student = student_get(request.user, student_id)
    if student is None:
        return not_found(request)
    under_way = active_change_of(request.user, student.pk)
    if under_way is not None:
        messages.info(request, _("A change for this student is already under way."))
        return redirect("changes:detail", change_id=under_way.pk)
    placement = placement_on(student.pk, today())
    kinds = kinds_offered(student.state, placement.grade if placement else None)
    # Another class of the child's grade this year (a class change stays in the grade).
    classes = [
        c
        for c in school_classes(request.user, student.school_id)
        if placement is not None
        and c.grade == placement.grade
        and c.academic_year_id == placement.school_class.academic_year_id
        and c.pk != placement.school_class_id
    ]
    data = request.POST if request.method == "POST" else None
    kind = request.GET.get("kind", "")
    form = ChangeForm(
        data,
        request.FILES or None,
        classes=classes,
        kinds=kinds,
        kind=kind,
        initial={"kind": kind, "suspended_from": today()},
    )
    # Choosing another kind fetches that kind's fields (htmx) without a script of the page's.
    form.fields["kind"].widget.attrs.update(
        {
            "hx-get": request.path,
            "hx-trigger": "change",
            "hx-target": "#kind-fields",
            "hx-select": "#kind-fields",
            "hx-select-oob": "#kind-guardian",
            "hx-swap": "outerHTML",
            "hx-push-url": "true",
        }
    )
    if data is not None and form.is_valid():
        try:
            change = change_file(
                actor=request.user,
                student_id=student.pk,
                kind=form.cleaned_data["kind"],
                reason=form.cleaned_data["reason"],
                initiator=form.initiator_value,
                to_class_id=form.cleaned_data.get("to_class"),
                guardian_request=_one_upload(request, "guardian_request"),
                evidence=_uploads(request, "evidence"),
                suspended_from=form.cleaned_data.get("suspended_from"),
                suspended_until=form.cleaned_data.get("suspended_until"),
            )
        except ServiceError as refused:
            response = refusal_on_form(request, form, refused)
            if response is not None:
                return response
        else:
            messages.success(
                request,
                _("The request is filed: %(state)s.") % {"state": ChangeState(change.state).label},
            )
            return redirect("changes:detail", change_id=change.pk)
    return render(
        request,
        "changes/new.html",
        {
            "form": form,
            "student": student,
            "kinds": kinds,
            "compulsory": placement is not None and in_compulsory_education(placement.grade),
        },
        status=200 if data is None or not form.errors else 400,
    )


def _back(request: HttpRequest, change_id: uuid.UUID) -> HttpResponse:
    target = _next(request)
    if target:
        return redirect(target)
    return redirect("changes:detail", change_id=change_id)


def _acted(
    request: HttpRequest, change_id: uuid.UUID, act: Callable[[], Any], done: Callable[[Any], str]
) -> HttpResponse:
    """Run a decision or a withdrawal; answer htmx with the queue row, a form with a redirect."""
    error = ""
    try:
        change = act()
    except ServiceError as refused:
        response = refusal_response(request, refused)
        if response is not None:
            return response
        error = first_reason(refused)
    outcome = error or done(change)
    if getattr(request, "htmx", False):
        found = change_detail(request.user, change_id)
        if found is None:
            return not_found(request)
        response = render(
            request,
            "changes/_decided_row.html",
            {"found": found, "outcome": outcome, "failed": bool(error)},
        )
        # The queue's tabs count again (the header's count comes out of band in the row).
        response["HX-Trigger"] = "changeDecided"
        return response
    if error:
        messages.error(request, error)
    else:
        messages.success(request, outcome)
    return _back(request, change_id)


def _decision_outcome(change: Any) -> str:
    if change.state == ChangeState.COMPLETED:
        return _("Approved. The change is complete and the record is updated.")
    if change.state == ChangeState.APPROVED:
        return _("Approved. It takes effect at the next promotion.")
    if change.state == ChangeState.REJECTED:
        return _("Rejected. The applicant sees the reason.")
    return _("Approved. The request goes on to the next party.")


def _confirmation(
    request: HttpRequest, found: ChangeDetail, reason: str, step: str
) -> HttpResponse | None:
    """The confirmation of a final approval (the one that moves the placement or changes the
    record's state), naming the child as the user sees it, the change and its effect; None when
    the decision is no final approval of this user's (the service answers it as ever)."""
    if not (found.may_decide and found.final and found.current is not None):
        return None
    if step and step != str(found.current.ordinal):
        return None  # a stale decision: refused by the service with its reason
    context = {
        "found": found,
        "reason": reason,
        "next": _next(request),
        "decision_url": request.path,
    }
    if getattr(request, "htmx", False):
        return render(request, "changes/_confirm_row.html", context)
    return render(request, "changes/confirm.html", context)


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _decide(request: HttpRequest, change_id: uuid.UUID) -> HttpResponse:
    approve = request.POST.get("decision") == "approve"
    form = DecisionForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    step = request.POST.get("step", "")
    if approve and request.POST.get("confirmed") != "yes":
        found = change_detail(request.user, change_id)
        if found is None:
            return not_found(request)
        asked = _confirmation(request, found, reason, step)
        if asked is not None:
            return asked
    return _acted(
        request,
        change_id,
        lambda: change_decide(
            actor=request.user,
            change_id=change_id,
            approve=approve,
            reason=reason,
            step_ordinal=int(step) if step.isdigit() else None,
        ),
        _decision_outcome,
    )


@require_POST
@login_required
@requires(Action.CHANGE_APPROVE_SCHOOL)
def school_decision(request: HttpRequest, change_id: uuid.UUID) -> HttpResponse:
    """A school's registrar or principal approves or rejects its step."""
    return _decide(request, change_id)


@require_POST
@login_required
@requires(Action.CHANGE_APPROVE_BUREAU)
def bureau_decision(request: HttpRequest, change_id: uuid.UUID) -> HttpResponse:
    """A county or province bureau's approver approves or rejects its step."""
    return _decide(request, change_id)


@require_POST
@login_required
@requires(Action.CHANGE_FILE)
def withdraw(request: HttpRequest, change_id: uuid.UUID) -> HttpResponse:
    """The applicant withdraws a request not yet decided."""
    form = DecisionForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _acted(
        request,
        change_id,
        lambda: change_withdraw(actor=request.user, change_id=change_id, reason=reason),
        lambda change: _("The request is withdrawn."),
    )


@require_GET
@login_required
@requires(Action.CHANGE_EVIDENCE_VIEW)
def evidence(
    request: HttpRequest, change_id: uuid.UUID, change_evidence_id: uuid.UUID
) -> HttpResponse:
    """An evidence file, as a download (never rendered inline by the browser)."""
    return evidence_download(
        request,
        lambda: change_evidence_open(
            actor=request.user, change_id=change_id, evidence_id=change_evidence_id
        ),
    )


def default_period(on: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The last 30 days up to `on`."""
    return on - datetime.timedelta(days=30), on


@require_GET
@login_required
@requires(Action.CHANGE_NOTICE_VIEW)
def notice(request: HttpRequest, school_id: int) -> HttpResponse:
    """The school's public notice (公示) of transfers in and out over a period: names masked, no
    number of any kind."""
    start, end = default_period(today())
    form = NoticeForm(request.GET or None, initial={"start": start, "end": end})
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        if end < start:
            start, end = end, start
    found = public_notice(request.user, school_id=school_id, start=start, end=end)
    if found is None:
        return not_found(request)
    if not form.is_bound:
        form = NoticeForm(initial={"start": start, "end": end})
    return render(request, "changes/notice.html", {"notice": found, "form": form})
