"""The queues of changes of status (学籍异动), as the page lists them, the API answers them and the
export writes them: each box (what waits for the user's decision, steps overdue below a bureau,
what the user's school filed, what is held in a closed period, what is finished, everything in the
area), narrowed by the filters of the page (kind, state, overdue or held, the days filed, the
child's name; for a bureau, a county and a school of its area), a page at a time.

Every box is a subset of the requests the user may see (changes_in_scope); each child is named as
the user may see it (selectors.names_shown).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import Scope, may, scope_of, today
from xueji.changes.models import (
    FINAL_STATES,
    ApprovalStep,
    ChangeKind,
    ChangeRequest,
    ChangeState,
    StepState,
)
from xueji.changes.selectors import (
    QUEUE_LIMIT,
    QueueRow,
    _waiting_steps,
    _with_current_step,
    changes_in_scope,
    queue_rows,
)

# Rows on a page of a queue (the API answers at most selectors.QUEUE_LIMIT).
QUEUE_PER_PAGE = 50
# Rows read at a time for an export.
EXPORT_CHUNK = 500


class Box(models.TextChoices):
    WAITING = "waiting", _("Waiting for you")
    OVERDUE = "overdue", _("Overdue below you")
    FILED = "filed", _("Filed by your school")
    HELD = "held", _("Held")
    FINISHED = "finished", _("Finished")
    ALL = "all", _("All")


class Flag(models.TextChoices):
    OVERDUE = "overdue", _("Past the deadline")
    HELD = "held", _("Held in a closed period")


@dataclass(frozen=True)
class QueueFilters:
    """What the page's 查询 narrows a box to; empty values narrow nothing."""

    kind: str = ""
    state: str = ""
    flag: str = ""
    filed_from: datetime.date | None = None
    filed_until: datetime.date | None = None
    name: str = ""
    county: str = ""  # a county-level division's code (a bureau above a county)
    school: str = ""  # a school's 10-digit code or part of its name (a bureau)

    def given(self) -> dict[str, str]:
        """The filters set, as text (for the audit entry of an export)."""
        return {
            key: value.isoformat() if isinstance(value, datetime.date) else str(value)
            for key, value in asdict(self).items()
            if value not in ("", None)
        }


NO_FILTERS = QueueFilters()

__all__ = ["QUEUE_LIMIT", "QUEUE_PER_PAGE", "Box", "Flag", "QueueFilters", "box_rows", "queue_page"]


def may_decide_any(scope: Scope | None) -> bool:
    return may(scope, Action.CHANGE_APPROVE_SCHOOL) or may(scope, Action.CHANGE_APPROVE_BUREAU)


def boxes_of(scope: Scope | None) -> list[Box]:
    """The boxes the scope has, the first being the one its page opens on."""
    if scope is None or not may(scope, Action.CHANGE_VIEW):
        return []
    boxes = []
    if may_decide_any(scope):
        boxes.append(Box.WAITING)
    if scope.level != ScopeLevel.SCHOOL:
        boxes.append(Box.OVERDUE)
    if scope.level == ScopeLevel.SCHOOL and may(scope, Action.CHANGE_FILE):
        boxes.append(Box.FILED)
    return [*boxes, Box.HELD, Box.FINISHED, Box.ALL]


def may_filter_places(scope: Scope | None) -> bool:
    """A bureau narrows its queue to a county or a school of its area (a school has one)."""
    return scope is not None and scope.level != ScopeLevel.SCHOOL


def _applicant_q(school_id: int | None) -> Q:
    """Requests filed by a school: a transfer by the receiving school, the others by the
    student's own school."""
    return Q(kind=ChangeKind.TRANSFER, to_school_id=school_id) | (
        ~Q(kind=ChangeKind.TRANSFER) & Q(from_school_id=school_id)
    )


def _overdue_q(on: datetime.date) -> Q:
    """Requests whose step waiting now is past its deadline."""
    late = ApprovalStep.objects.filter(
        request=OuterRef("pk"), state=StepState.PENDING, due_on__lt=on
    )
    return Q(Exists(late), state=ChangeState.PENDING)


def _box_q(scope: Scope | None, box: str) -> Q:
    if scope is None:
        return Q(pk__in=[])
    if box == Box.WAITING:
        return Q(Exists(_waiting_steps(scope).filter(request=OuterRef("pk"))))
    if box == Box.OVERDUE:
        if scope.level == ScopeLevel.SCHOOL:
            return Q(pk__in=[])
        escalated = ApprovalStep.objects.filter(
            request=OuterRef("pk"),
            state=StepState.PENDING,
            overdue_flagged_at__isnull=False,
            **(
                {"escalated_to_level": "nation"}
                if scope.level == ScopeLevel.NATION
                else {"escalated_to_division_id": scope.division_code}
            ),
        )
        return Q(Exists(escalated))
    if box == Box.FILED:
        if scope.level != ScopeLevel.SCHOOL or not may(scope, Action.CHANGE_FILE):
            return Q(pk__in=[])
        return _applicant_q(scope.school_id) & Q(
            state__in=[ChangeState.PENDING, ChangeState.APPROVED]
        )
    if box == Box.HELD:
        return Q(state=ChangeState.HELD)
    if box == Box.FINISHED:
        return Q(state__in=FINAL_STATES)
    return Q()


def _filters_q(scope: Scope | None, filters: QueueFilters, on: datetime.date) -> Q:
    q = Q()
    if filters.kind:
        q &= Q(kind=filters.kind)
    if filters.state:
        q &= Q(state=filters.state)
    if filters.flag == Flag.OVERDUE:
        q &= _overdue_q(on)
    elif filters.flag == Flag.HELD:
        q &= Q(state=ChangeState.HELD)
    if filters.filed_from:
        q &= Q(filed_on__gte=filters.filed_from)
    if filters.filed_until:
        q &= Q(filed_on__lte=filters.filed_until)
    if filters.name:
        q &= Q(student__name__icontains=filters.name)
    if may_filter_places(scope):
        if filters.county:
            q &= Q(from_school__county_id=filters.county) | Q(to_school__county_id=filters.county)
        if filters.school:
            text = filters.school
            q &= (
                Q(from_school__code=text)
                | Q(to_school__code=text)
                | Q(from_school__name__icontains=text)
                | Q(to_school__name__icontains=text)
            )
    return q


_ORDER: dict[str, tuple[str, ...]] = {
    # The oldest deadline first: what runs out first is decided first.
    Box.WAITING: ("current_due", "filed_at", "pk"),
    Box.OVERDUE: ("current_due", "filed_at", "pk"),
    Box.FILED: ("-filed_at", "pk"),
    Box.HELD: ("resumes_on", "filed_at", "pk"),
    Box.FINISHED: ("-updated_at", "pk"),
    Box.ALL: ("-filed_at", "pk"),
}


def box_changes(
    user: Any, box: str, filters: QueueFilters = NO_FILTERS, *, on: datetime.date | None = None
) -> QuerySet[ChangeRequest]:
    """The requests of one box of the user's queue, narrowed by the filters, in the box's order."""
    scope = scope_of(user)
    on = on or today()
    due = ApprovalStep.objects.filter(request=OuterRef("pk"), state=StepState.PENDING).values(
        "due_on"
    )[:1]
    return (
        changes_in_scope(user)
        .filter(_box_q(scope, box), _filters_q(scope, filters, on))
        .annotate(current_due=Subquery(due))
        .order_by(*_ORDER.get(box, _ORDER[Box.ALL]))
    )


@dataclass
class QueuePage:
    box: str
    boxes: list[tuple[str, Any, int]]  # (box, label, how many match the filters)
    page: Page[ChangeRequest]  # the page's number, its neighbours, the total
    rows: list[QueueRow]  # the rows of this page
    page_numbers: list[Any]  # the numbers of the pages to link to, … where some are left out


def queue_page(
    user: Any,
    *,
    box: str,
    filters: QueueFilters = NO_FILTERS,
    page: Any = 1,
    per_page: int | None = None,
) -> QueuePage:
    """One page of a box of the user's queue, with every box's count under the same filters."""
    scope = scope_of(user)
    on = today()
    boxes = boxes_of(scope)
    counts = [(b.value, b.label, box_changes(user, b, filters, on=on).count()) for b in boxes]
    paginator = Paginator(
        _with_current_step(box_changes(user, box, filters, on=on)),
        per_page or QUEUE_PER_PAGE,
    )
    found = paginator.get_page(page)
    return QueuePage(
        box=box,
        boxes=counts,
        page=found,
        rows=queue_rows(list(found.object_list), on, scope),
        page_numbers=list(paginator.get_elided_page_range(found.number)),
    )


def box_rows(
    user: Any, box: str, filters: QueueFilters = NO_FILTERS, *, limit: int | None = None
) -> Iterator[QueueRow]:
    """Every row of a box (the first `limit`), read a chunk at a time (an export, the API)."""
    scope = scope_of(user)
    on = today()
    changes = _with_current_step(box_changes(user, box, filters, on=on))
    start = 0
    while limit is None or start < limit:
        size = EXPORT_CHUNK if limit is None else min(EXPORT_CHUNK, limit - start)
        chunk = list(changes[start : start + size])
        yield from queue_rows(chunk, on, scope)
        if len(chunk) < size:
            return
        start += size
