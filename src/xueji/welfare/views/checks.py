"""The consistency checks page per county, city and province: the findings by kind and school,
each drilling down to the children (masked names) and explainable by the county."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from xueji.access.decorators import requires
from xueji.access.http import refusal_as_message
from xueji.access.policy import Action
from xueji.access.scope import may
from xueji.core.errors import ServiceError
from xueji.students.models import Placement, Student
from xueji.students.views import not_found
from xueji.welfare import checks, selectors
from xueji.welfare.funding import census_date_of, placed_on
from xueji.welfare.models import CheckRun, FindingKind
from xueji.welfare.views.common import picked_term, scope, term_context


@require_GET
@login_required
@requires(Action.WELFARE_VIEW)
def checks_home(request: HttpRequest) -> HttpResponse:
    user_scope = scope(request)
    term = picked_term(request)
    findings = selectors.findings_visible(user_scope)
    if term is not None:
        findings = findings.filter(term=term)
    kind = request.GET.get("kind", "")
    if kind in FindingKind.values:
        findings = findings.filter(kind=kind)
    if request.GET.get("open") == "1":
        findings = findings.filter(explanation="", still_found=True)
    if request.GET.get("format") == "xlsx":
        from xueji.welfare.views.funding import xlsx_response

        lines: list[list[Any]] = [
            [_("Kind"), _("County"), _("School code"), _("School"), _("Children"), _("Explanation")]
        ]
        for f in findings[:5000]:
            lines.append(
                [
                    str(f.get_kind_display()),
                    f.county.name,
                    f.school.code,
                    f.school.name,
                    len(f.student_ids),
                    f.explanation,
                ]
            )
        return xlsx_response(lines, _("Consistency findings"), _("Findings"))
    summary = {
        row["kind"]: row["n"]
        for row in selectors.findings_visible(user_scope)
        .filter(term=term, still_found=True)
        .values("kind")
        .annotate(n=Count("id"))
    }
    chart = {
        "kind": "bar",
        "title": _("Findings by kind"),
        "categories": [str(k.label) for k in FindingKind],
        "series": [{"name": _("Schools"), "data": [summary.get(k.value, 0) for k in FindingKind]}],
    }
    return render(
        request,
        "welfare/checks.html",
        {
            **term_context(request),
            "findings": findings[:300],
            "kinds": FindingKind.choices,
            "kind": kind,
            "chart": chart,
            "last_run": CheckRun.objects.filter(term=term).first() if term else None,
            "may_run": may(user_scope, Action.WELFARE_CHECK),
        },
    )


@require_POST
@login_required
@requires(Action.WELFARE_CHECK)
def checks_run(request: HttpRequest) -> HttpResponse:
    term = picked_term(request)
    if term is None:
        messages.error(request, _("No term to check."))
        return redirect("welfare:checks")
    try:
        run = checks.checks_run(actor=request.user, scope=scope(request), term=term)
    except ServiceError as error:
        response = refusal_as_message(request, error)
        if response is not None:
            return response
    else:
        messages.success(
            request, _("The checks are refreshed: %(count)d findings.") % {"count": run.findings}
        )
    return redirect(f"{redirect('welfare:checks').url}?term={term.pk}")


@require_GET
@login_required
@requires(Action.WELFARE_VIEW)
def finding_detail(request: HttpRequest, finding_id: uuid.UUID) -> HttpResponse:
    user_scope = scope(request)
    finding = selectors.findings_visible(user_scope).filter(pk=finding_id).first()
    if finding is None:
        return not_found(request)
    students = list(
        Student.objects.filter(pk__in=finding.student_ids).order_by("name_pinyin")[:500]
    )
    if finding.kind == FindingKind.FINANCE_MISMATCH:
        # The children the registry counted at the census.
        day = census_date_of(finding.term)
        students = list(
            Student.objects.filter(
                pk__in=Placement.objects.filter(
                    placed_on(day), school_id=finding.school_id, grade__gte=1
                ).values("student_id")
            ).order_by("name_pinyin")[:500]
        )
    return render(
        request,
        "welfare/finding.html",
        {
            "finding": finding,
            "students": students,
            "may_explain": may(user_scope, Action.WELFARE_COUNTY),
        },
    )


@require_POST
@login_required
@requires(Action.WELFARE_COUNTY)
def finding_explain(request: HttpRequest, finding_id: uuid.UUID) -> HttpResponse:
    user_scope = scope(request)
    if (
        user_scope is None
        or not selectors.findings_visible(user_scope).filter(pk=finding_id).exists()
    ):
        return not_found(request)
    try:
        checks.finding_explain(
            actor=request.user,
            scope=user_scope,
            finding_id=finding_id,
            reason=request.POST.get("reason", ""),
        )
    except ServiceError as error:
        response = refusal_as_message(request, error)
        if response is not None:
            return response
    else:
        messages.success(request, _("The explanation is recorded."))
    return redirect("welfare:finding", finding_id=finding_id)
