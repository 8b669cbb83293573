"""Reads of key-data correction requests, limited to the caller's scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import NOTHING, Scope, area_q, may, may_at_school, scope_of
from xueji.corrections import basic
from xueji.corrections.models import CorrectionRequest
from xueji.corrections.workflow import OPEN_STATES, Event, State, events_from, transition


def _visible(scope: Scope | None) -> Q:
    if scope is None or not may(scope, Action.CORRECTION_VIEW):
        return NOTHING
    return area_q(scope, "school__")


def corrections_in_scope(user: Any) -> QuerySet[CorrectionRequest]:
    """The requests of the schools in the user's area."""
    return CorrectionRequest.objects.filter(_visible(scope_of(user)))


def _waiting_q(scope: Scope | None) -> Q:
    """The requests waiting for this user's step."""
    if scope is None:
        return NOTHING
    waiting = NOTHING
    if may(scope, Action.CORRECTION_REQUEST):
        waiting |= Q(state=State.REPORTED)
    if may(scope, Action.CORRECTION_APPROVE_SCHOOL):
        waiting |= Q(state=State.PENDING_SCHOOL)
    if may(scope, Action.CORRECTION_APPROVE_COUNTY) and scope.level == ScopeLevel.COUNTY:
        waiting |= Q(state=State.PENDING_COUNTY)
    return waiting


@dataclass
class CorrectionList:
    waiting: list[CorrectionRequest]
    others: list[CorrectionRequest]


def correction_list(user: Any, *, state: str = "", limit: int = 200) -> CorrectionList:
    """Requests waiting for the user's decision, then the others (optionally of one state)."""
    scope = scope_of(user)
    visible = corrections_in_scope(user).select_related("student", "school")
    waiting_q = _waiting_q(scope)
    waiting = list(visible.filter(waiting_q).order_by("created_at")[:limit])
    others = visible.exclude(pk__in=[c.pk for c in waiting])
    if state in State.values:
        others = others.filter(state=state)
    return CorrectionList(waiting=waiting, others=list(others.order_by("-created_at")[:limit]))


@dataclass
class ChangeRow:
    field: str
    label: Any
    before: str
    after: str


@dataclass
class CorrectionDetail:
    correction: CorrectionRequest
    changes: list[ChangeRow]
    events: list[Event]  # what this user may do now


def correction_detail(user: Any, correction_id: Any) -> CorrectionDetail | None:
    """A request in scope with its changes (ID numbers masked), history and evidence list."""
    scope = scope_of(user)
    correction = (
        corrections_in_scope(user)
        .select_related("student", "school", "school__county", "created_by")
        .prefetch_related("steps__actor")
        .filter(pk=correction_id)
        .first()
    )
    if correction is None:
        return None
    evidence = correction.evidence.defer("sealed").order_by("uploaded_at", "file_name")
    correction.evidence_files = list(evidence)  # type: ignore[attr-defined]
    changes = [
        ChangeRow(
            field=f.name,
            label=f.label,
            before=basic.shown(f.name, correction.changes[f.name]["before"]),
            after=basic.shown(f.name, correction.changes[f.name]["after"]),
        )
        for f in basic.BASIC_FIELDS
        if f.name in correction.changes
    ]
    events = [
        event
        for event in events_from(correction.state)
        if may_take_step(scope, transition(correction.state, event).action, correction)
    ]
    return CorrectionDetail(correction=correction, changes=changes, events=events)


def may_take_step(scope: Scope | None, action: str, correction: CorrectionRequest) -> bool:
    """May the scope take a step needing `action` on this request? School steps belong to the
    school that holds the request, county steps to that school's county bureau."""
    if scope is None or not may(scope, action):
        return False
    if action == Action.CORRECTION_APPROVE_COUNTY:
        return (
            scope.level == ScopeLevel.COUNTY and correction.school.county_id == scope.division_code
        )
    return may_at_school(scope, action, correction.school_id)


def open_correction_of(user: Any, student_id: Any) -> CorrectionRequest | None:
    """The request under way for a student in scope, if any."""
    return (
        corrections_in_scope(user)
        .filter(student_id=student_id, state__in=[s.value for s in OPEN_STATES])
        .first()
    )
