"""Pages of identity: the statuses (a registrar's disagreements work list), the population roll
(bureau staff; loads, search audited), the duplicate pairs and their review side by side, the
有人无籍 list and the 人籍分离 anomalies."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from xueji.access.decorators import requires
from xueji.access.http import refusal_as_message
from xueji.access.policy import Action
from xueji.access.scope import may, scope_of
from xueji.core.codes import IdDocType, Sex
from xueji.core.errors import ServiceError
from xueji.corrections.evidence import EVIDENCE_MAX_BYTES, Upload
from xueji.identity.models import (
    OPEN_PAIR_STATES,
    IdentityState,
    PairState,
    ProvinceIdentityRule,
    UnrecordedState,
)
from xueji.identity.review import (
    resubmitted_changes,
    review_detail,
    review_list,
    review_schools,
    setting_history,
)
from xueji.identity.scan import duplicate_scan
from xueji.identity.selectors import (
    ANOMALY_KINDS,
    anomalies,
    identity_status_counts,
    pair_detail,
    pair_list,
    roll_loads,
    roll_search,
    status_list,
    unrecorded_list,
)
from xueji.identity.services import (
    identity_rule_set,
    pair_decide,
    pair_undo,
    roll_load,
    unrecorded_decide,
)
from xueji.identity.sources import pair_sources
from xueji.students.models import ReviewState
from xueji.students.review import (
    registration_approve,
    registration_resubmit,
    registration_return,
    registration_withdraw,
)
from xueji.students.views import not_found


def _page(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


@require_GET
@login_required
@requires(Action.IDENTITY_STATUS_VIEW)
def statuses(request: HttpRequest) -> HttpResponse:
    """Identity statuses of the area's records; for a registrar, the work list of
    disagreements with a link to the key-data correction of each."""
    scope = scope_of(request.user)
    status = request.GET.get("status", "")
    if scope is not None and scope.is_school and "status" not in request.GET:
        status = IdentityState.DISAGREES
    counts = None
    if scope is not None and scope.level == "county":
        counts = identity_status_counts(county_code=scope.division_code or "")
    return render(
        request,
        "identity/statuses.html",
        {
            "found": status_list(request.user, status=status, page=_page(request)),
            "states": IdentityState,
            "status": status,
            "counts": counts,
            "may_correct": may(scope, Action.CORRECTION_REQUEST),
        },
    )


@require_GET
@login_required
@requires(Action.IDENTITY_ROLL_VIEW)
def roll(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    q = request.GET.get("q", "")
    province = (scope.division_code or "")[:2] + "0000" if scope else ""
    rule = ProvinceIdentityRule.objects.filter(province_code=province).first()
    return render(
        request,
        "identity/roll.html",
        {
            "loads": roll_loads(request.user)[:20],
            "found": roll_search(request.user, q=q, page=_page(request)) if q else None,
            "q": q,
            "may_load": may(scope, Action.IDENTITY_ROLL_LOAD),
            "may_set": may(scope, Action.IDENTITY_SETTINGS),
            "population_check": bool(rule and rule.population_check),
            "county_review": bool(rule and rule.county_review),
            "setting_history": setting_history(request.user)
            if may(scope, Action.IDENTITY_SETTINGS)
            else [],
        },
    )


@require_POST
@login_required
@requires(Action.IDENTITY_ROLL_LOAD)
def roll_upload(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a file to load."))
        return redirect("identity:roll")
    try:
        load = roll_load(
            actor=request.user,
            file_name=upload.name or "roll.csv",
            content=upload.read(),
            incremental=request.POST.get("incremental") == "on",
        )
    except ServiceError as error:
        return refusal_as_message(request, error) or redirect("identity:roll")
    if load.state == "loaded":
        messages.success(request, _("%(rows)d children of the roll loaded.") % {"rows": load.rows})
    else:
        messages.error(
            request,
            _("The file was refused: %(errors)d errors (nothing was loaded).")
            % {"errors": len(load.errors)},
        )
    return redirect("identity:roll")


@require_POST
@login_required
@requires(Action.IDENTITY_SETTINGS)
def settings_save(request: HttpRequest) -> HttpResponse:
    try:
        identity_rule_set(
            actor=request.user,
            population_check=request.POST.get("population_check") == "on",
            county_review=request.POST.get("county_review") == "on",
        )
    except ServiceError as error:
        return refusal_as_message(request, error) or redirect("identity:roll")
    messages.success(request, _("The setting is saved."))
    return redirect("identity:roll")


@require_GET
@login_required
@requires(Action.DUPLICATE_VIEW)
def pairs(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", PairState.PROPOSED)
    # Pairs of other sources (the pairs across provinces of a province's node): the open ones
    # beside the open local pairs, all of them otherwise.
    open_only = state in OPEN_PAIR_STATES
    elsewhere = [
        {
            "source": source,
            "rows": source.rows(request.user, open_only=open_only, limit=50),
            "waiting": source.count(request.user),
        }
        for source in pair_sources()
    ]
    return render(
        request,
        "identity/pairs.html",
        {
            "found": pair_list(request.user, state=state, page=_page(request)),
            "states": PairState,
            "state": state,
            "may_scan": may(scope_of(request.user), Action.DUPLICATE_SCAN),
            "elsewhere": elsewhere,
            "open_only": open_only,
        },
    )


@require_POST
@login_required
@requires(Action.DUPLICATE_SCAN)
def scan(request: HttpRequest) -> HttpResponse:
    scope = scope_of(request.user)
    if scope is None:
        return not_found(request)
    area = scope.division_code or ""
    result = duplicate_scan(actor=request.user, area_code=area)
    messages.success(
        request,
        _("%(records)d records compared: %(proposed)d new pairs.")
        % {"records": result.records, "proposed": result.proposed},
    )
    return redirect("identity:pairs")


@require_GET
@login_required
@requires(Action.DUPLICATE_VIEW)
def pair(request: HttpRequest, pair_id: uuid.UUID) -> HttpResponse:
    view = pair_detail(request.user, pair_id)
    if view is None:
        return not_found(request)
    return render(request, "identity/pair.html", {"view": view, "pair": view.pair})


@require_POST
@login_required
@requires(Action.DUPLICATE_DECIDE)
def pair_decision(request: HttpRequest, pair_id: uuid.UUID) -> HttpResponse:
    uploads = [
        Upload(name=file.name or "evidence", content=file.read(EVIDENCE_MAX_BYTES + 1))
        for file in request.FILES.getlist("evidence")
    ]
    try:
        decided = pair_decide(
            actor=request.user,
            pair_id=pair_id,
            decision=request.POST.get("decision", ""),
            attends=request.POST.get("attends", ""),
            evidence=uploads,
            note=request.POST.get("note", ""),
        )
    except ServiceError as error:
        return refusal_as_message(request, error) or redirect("identity:pair", pair_id=pair_id)
    said: dict[str, str] = {
        PairState.SAME: _("The two records are merged."),
        PairState.NOT_SAME: _("Recorded: not the same child."),
        PairState.ESCALATED: _("The counties disagree: the pair goes to the bureau above."),
    }
    messages.success(
        request,
        said.get(decided.state, _("Your decision is recorded; the other county decides too.")),
    )
    return redirect("identity:pair", pair_id=pair_id)


@require_POST
@login_required
@requires(Action.DUPLICATE_DECIDE)
def pair_undo_view(request: HttpRequest, pair_id: uuid.UUID) -> HttpResponse:
    try:
        pair_undo(actor=request.user, pair_id=pair_id)
    except ServiceError as error:
        return refusal_as_message(request, error) or redirect("identity:pair", pair_id=pair_id)
    messages.success(request, _("The merge is undone."))
    return redirect("identity:pair", pair_id=pair_id)


@require_GET
@login_required
@requires(Action.UNRECORDED_VIEW)
def unrecorded(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", UnrecordedState.OPEN)
    return render(
        request,
        "identity/unrecorded.html",
        {
            "found": unrecorded_list(request.user, state=state, page=_page(request)),
            "states": UnrecordedState,
            "state": state,
            "may_decide": may(scope_of(request.user), Action.UNRECORDED_DECIDE),
        },
    )


@require_POST
@login_required
@requires(Action.UNRECORDED_DECIDE)
def unrecorded_decision(request: HttpRequest, unrecorded_id: uuid.UUID) -> HttpResponse:
    try:
        unrecorded_decide(
            actor=request.user,
            unrecorded_id=unrecorded_id,
            outcome=request.POST.get("outcome", ""),
            reason=request.POST.get("reason", ""),
        )
    except ServiceError as error:
        return refusal_as_message(request, error) or redirect("identity:unrecorded")
    messages.success(request, _("The outcome is recorded."))
    return redirect("identity:unrecorded")


@require_GET
@login_required
@requires(Action.UNRECORDED_VIEW)
def anomaly_list(request: HttpRequest) -> HttpResponse:
    found = anomalies(request.user, kind=request.GET.get("kind", ""))
    labels = {
        "household_other_county_undeclared": _("Household in another county, not declared 随迁"),
        "declared_migrant_local": _("Declared 随迁, household in the school's county"),
        "hollow": _("Never attending (空挂)"),
    }
    return render(
        request,
        "identity/anomalies.html",
        {
            "found": found,
            "kinds": [(kind, labels[kind], found["counts"][kind]) for kind in ANOMALY_KINDS],
        },
    )


# ---- 县级审核: the county's review of new registrations -------------------------------------


def _review_filters(request: HttpRequest, default_state: str) -> dict[str, Any]:
    state = request.GET.get("state", default_state)
    try:
        school_id = int(request.GET.get("school", "") or 0) or None
    except ValueError:
        school_id = None
    return {"state": state, "school_id": school_id, "q": request.GET.get("q", "")[:64]}


@require_GET
@login_required
@requires(Action.REGISTRATION_REVIEW)
def reviews(request: HttpRequest) -> HttpResponse:
    """The county's queue of new registrations waiting for review (县级审核), oldest first, with
    each child's identity status and the duplicate pairs it is in."""
    filters = _review_filters(request, ReviewState.WAITING)
    found, rows = review_list(request.user, page=_page(request), **filters)
    return render(
        request,
        "identity/reviews.html",
        {
            "found": found,
            "rows": rows,
            "states": ReviewState,
            "schools": review_schools(request.user),
            "county": True,
            **filters,
        },
    )


@require_GET
@login_required
@requires(Action.REGISTRATION_REVIEW)
def review(request: HttpRequest, registration_id: uuid.UUID) -> HttpResponse:
    detail = review_detail(request.user, registration_id)
    if detail is None:
        return not_found(request)
    row, events = detail
    return render(
        request,
        "identity/review.html",
        {"row": row, "events": events, "county": True, "states": ReviewState},
    )


@require_POST
@login_required
@requires(Action.REGISTRATION_REVIEW)
def review_approve(request: HttpRequest, registration_id: uuid.UUID) -> HttpResponse:
    if review_detail(request.user, registration_id) is None:
        return not_found(request)
    if request.POST.get("confirmed") != "on":
        messages.error(request, _("Tick the confirmation to approve."))
        return redirect("identity:review", registration_id=registration_id)
    try:
        student = registration_approve(actor=request.user, student_id=registration_id)
    except ServiceError as error:
        return refusal_as_message(request, error) or redirect(
            "identity:review", registration_id=registration_id
        )
    messages.success(
        request,
        _("Approved: %(name)s has the student number %(number)s.")
        % {"name": student.name, "number": student.number_masked},
    )
    return redirect("identity:reviews")


@require_POST
@login_required
@requires(Action.REGISTRATION_REVIEW)
def review_return(request: HttpRequest, registration_id: uuid.UUID) -> HttpResponse:
    if review_detail(request.user, registration_id) is None:
        return not_found(request)
    try:
        registration_return(
            actor=request.user, student_id=registration_id, reason=request.POST.get("reason", "")
        )
    except ServiceError as error:
        return refusal_as_message(request, error) or redirect(
            "identity:review", registration_id=registration_id
        )
    messages.success(request, _("The registration is returned to its school."))
    return redirect("identity:reviews")


@require_GET
@login_required
@requires(Action.STUDENT_REGISTER)
def registrations(request: HttpRequest) -> HttpResponse:
    """The registrar's registrations under the county's review: waiting, or returned with the
    county's reason (to correct and send again, or withdraw)."""
    filters = _review_filters(request, "all")
    found, rows = review_list(
        request.user, action=Action.STUDENT_REGISTER, page=_page(request), **filters
    )
    return render(
        request,
        "identity/reviews.html",
        {
            "found": found,
            "rows": rows,
            "states": ReviewState,
            "schools": [],
            "county": False,
            **filters,
        },
    )


@require_GET
@login_required
@requires(Action.STUDENT_REGISTER)
def registration(request: HttpRequest, registration_id: uuid.UUID) -> HttpResponse:
    detail = review_detail(request.user, registration_id, action=Action.STUDENT_REGISTER)
    if detail is None:
        return not_found(request)
    row, events = detail
    return render(
        request,
        "identity/review.html",
        {
            "row": row,
            "events": events,
            "county": False,
            "states": ReviewState,
            "sexes": Sex.choices,
            "document_types": IdDocType.choices,
        },
    )


@require_POST
@login_required
@requires(Action.STUDENT_REGISTER)
def registration_resubmit_view(request: HttpRequest, registration_id: uuid.UUID) -> HttpResponse:
    if review_detail(request.user, registration_id, action=Action.STUDENT_REGISTER) is None:
        return not_found(request)
    try:
        registration_resubmit(
            actor=request.user,
            student_id=registration_id,
            changes=resubmitted_changes(request.POST),
        )
    except ServiceError as error:
        return refusal_as_message(request, error) or redirect(
            "identity:registration", registration_id=registration_id
        )
    messages.success(request, _("Corrected and sent to the county again."))
    return redirect("identity:registration", registration_id=registration_id)


@require_POST
@login_required
@requires(Action.STUDENT_REGISTER)
def registration_withdraw_view(request: HttpRequest, registration_id: uuid.UUID) -> HttpResponse:
    if review_detail(request.user, registration_id, action=Action.STUDENT_REGISTER) is None:
        return not_found(request)
    if request.POST.get("confirmed") != "on":
        messages.error(request, _("Tick the confirmation to withdraw."))
        return redirect("identity:registration", registration_id=registration_id)
    try:
        registration_withdraw(
            actor=request.user, student_id=registration_id, reason=request.POST.get("reason", "")
        )
    except ServiceError as error:
        return refusal_as_message(request, error) or redirect(
            "identity:registration", registration_id=registration_id
        )
    messages.success(request, _("The registration is withdrawn."))
    return redirect("identity:registrations")
