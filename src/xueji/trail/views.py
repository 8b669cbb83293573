"""The auditors' page: search the audit trail by student, user, action and period."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from xueji.access.decorators import requires
from xueji.access.policy import Action
from xueji.core.errors import ServiceError
from xueji.core.idnumbers import query_holds_id_like_number
from xueji.trail.forms import AuditSearchForm
from xueji.trail.selectors import ALERT_DAYS, audit_search, audit_student_id, lookup_alerts

# The filters a search by number is sent on to, with the student given by the record's id.
_CARRIED = ("user", "action", "since", "until")


@require_http_methods(["GET", "POST"])
@login_required
@requires(Action.AUDIT_VIEW)
def search(request: HttpRequest) -> HttpResponse:
    """Auditors only; anyone else is refused (403), and the refusal is itself audited.

    The form is posted, so that a student number never travels in the address (addresses are
    kept in access logs): a posted search is sent on to the page's address with the student
    given by the record's id, which its pages of older and newer entries keep. An address that
    holds a student or ID number is refused (400), saying to use the form."""
    status = 200
    if request.method == "POST":
        form = AuditSearchForm(request.POST)
        if form.is_valid():
            try:
                student_id = audit_student_id(request.user, form.cleaned_data["student"])
            except ServiceError as refused:
                return render(
                    request, "403.html", {"exception": refused.message}, status=refused.status
                )
            if student_id is not None or not form.cleaned_data["student"].strip():
                query = {
                    name: str(form.cleaned_data[name])
                    for name in _CARRIED
                    if form.cleaned_data[name] not in (None, "")
                }
                if student_id is not None:
                    query["student"] = str(student_id)
                return redirect(f"{reverse('audit:search')}?{urlencode(query)}")
    else:
        form = AuditSearchForm(request.GET)
        if query_holds_id_like_number(request.GET):
            form = AuditSearchForm({})  # nothing of the address is read or shown again
            form.is_valid()
            form.add_error(
                "student",
                _(
                    "A student number cannot be sent in the page's address, which access "
                    "logs keep: enter it in the form below."
                ),
            )
            status = 400
    valid = form.is_valid()
    try:
        page = audit_search(request.user, form.filters() if valid else None)
        alerts = lookup_alerts(request.user)
    except ServiceError as refused:
        return render(request, "403.html", {"exception": refused.message}, status=refused.status)
    return render(
        request,
        "audit/search.html",
        {"form": form, "page": page, "alerts": alerts, "alert_days": ALERT_DAYS},
        status=status,
    )
