"""The auditors' page: search the audit trail by student, user, action and period."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from xueji.access.decorators import requires
from xueji.access.policy import Action
from xueji.core.errors import ServiceError
from xueji.trail.forms import AuditSearchForm
from xueji.trail.selectors import ALERT_DAYS, audit_search, lookup_alerts


@require_GET
@login_required
@requires(Action.AUDIT_VIEW)
def search(request: HttpRequest) -> HttpResponse:
    """Auditors only; anyone else is refused (403), and the refusal is itself audited."""
    form = AuditSearchForm(request.GET)
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
    )
