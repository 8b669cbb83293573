"""Reads of changes of status (学籍异动), limited to the caller's scope: the rows of a queue (its
boxes, filters and pages are xueji.changes.queues) with each child named as the caller may see
it, a request with its approval chain, the receiving registrar's masked look-up of a child to
take in, the school's public notice (公示) and the header's inbox count.

Both sides of a transfer see it: the schools of the sending and the receiving side and the
bureaus above either of them. Nothing else of another area is shown.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import NOTHING, Scope, area_q, may, scope_of, students_visible, today
from xueji.changes import policy
from xueji.changes.models import (
    ACTIVE_STATES,
    ApprovalStep,
    ChangeEvidence,
    ChangeKind,
    ChangeRequest,
    ChangeState,
    PartyLevel,
    StepState,
)
from xueji.changes.wording import effect_on_approval
from xueji.changes.workflow import Event
from xueji.core.idnumbers import normalize
from xueji.schools.models import School
from xueji.students.models import Student
from xueji.students.names import names_match
from xueji.students.national import national_index
from xueji.students.selectors import placement_on

QUEUE_LIMIT = 200


def mask_name(name: str) -> str:
    """A name as shown in public: 张春铭 → 张*铭, 张铭 → 张*, 欧阳春铭 → 欧**铭."""
    name = name or ""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


# ---- scope -------------------------------------------------------------------------------------


def _visible_q(scope: Scope | None) -> Q:
    """Requests touching the scope's area: held, sent or received there."""
    if scope is None or not may(scope, Action.CHANGE_VIEW):
        return NOTHING
    return area_q(scope, "from_school__") | area_q(scope, "to_school__")


def changes_in_scope(user: Any) -> QuerySet[ChangeRequest]:
    """The requests of the schools in the user's area, on either side of a transfer."""
    return ChangeRequest.objects.filter(_visible_q(scope_of(user)))


def _party_q(scope: Scope | None, prefix: str = "") -> Q:
    """Filter on ApprovalStep (through `prefix`): the steps whose party is this scope."""
    if scope is None:
        return NOTHING
    party = NOTHING
    if scope.level == ScopeLevel.SCHOOL and may(scope, Action.CHANGE_APPROVE_SCHOOL):
        party |= Q(**{f"{prefix}level": PartyLevel.SCHOOL, f"{prefix}school_id": scope.school_id})
    if scope.level in (ScopeLevel.COUNTY, ScopeLevel.PROVINCE) and may(
        scope, Action.CHANGE_APPROVE_BUREAU
    ):
        party |= Q(**{f"{prefix}level": scope.level, f"{prefix}division_id": scope.division_code})
    return party


def _waiting_steps(scope: Scope | None) -> QuerySet[ApprovalStep]:
    return ApprovalStep.objects.filter(
        _party_q(scope), state=StepState.PENDING, request__state=ChangeState.PENDING
    )


def _with_current_step(changes: QuerySet[ChangeRequest]) -> QuerySet[ChangeRequest]:
    return changes.select_related(
        "student", "from_school", "to_school", "to_class", "filed_by"
    ).prefetch_related("steps__school", "steps__division")


def _current(change: ChangeRequest) -> ApprovalStep | None:
    return next((s for s in change.steps.all() if s.state == StepState.PENDING), None)


@dataclass
class QueueRow:
    change: ChangeRequest
    step: ApprovalStep | None  # the step waiting now (None when held or finished)
    overdue: bool
    masked_name: str
    # The child's name as this user sees it: in full where the user has the record (see
    # names_shown), else masked.
    shown_name: str = ""


def names_shown(scope: Scope | None, changes: list[ChangeRequest]) -> set[Any]:
    """The requests (their ids) whose child the scope may see by full name: the party deciding
    the step waiting now, the school that filed the request (it gave the name), and whoever may
    open the child's record (the child's current school and the bureaus above it, as
    students_visible says). Everyone else sees the name masked (张*铭)."""
    if scope is None:
        return set()
    shown = {
        change.pk
        for change in changes
        if is_party_of(scope, _current(change))
        or (
            scope.is_school
            and may(scope, Action.STUDENT_VIEW)
            and applicant_school_id(change) == scope.school_id
        )
    }
    others = {change.student_id for change in changes if change.pk not in shown}
    if others:
        with_record = set(
            Student.objects.filter(
                students_visible(scope, Action.STUDENT_VIEW), pk__in=others
            ).values_list("pk", flat=True)
        )
        shown |= {change.pk for change in changes if change.student_id in with_record}
    return shown


def queue_rows(
    changes: list[ChangeRequest], on: datetime.date, scope: Scope | None = None
) -> list[QueueRow]:
    """The rows of a list of requests, each child named as the scope may see it."""
    full = names_shown(scope, changes)
    rows = []
    for change in changes:
        step = _current(change)
        overdue = bool(step and step.due_on and step.due_on < on)
        masked = mask_name(change.student.name)
        shown = change.student.name if change.pk in full else masked
        rows.append(QueueRow(change, step, overdue, masked, shown))
    return rows


def inbox_count(user: Any) -> int:
    """How many requests wait for the user's decision (for the page header)."""
    scope = scope_of(user)
    if scope is None or not may(scope, Action.CHANGE_VIEW):
        return 0
    if not (may(scope, Action.CHANGE_APPROVE_SCHOOL) or may(scope, Action.CHANGE_APPROVE_BUREAU)):
        return 0
    return _waiting_steps(scope).count()


# ---- one request -------------------------------------------------------------------------------


@dataclass
class ChangeDetail:
    change: ChangeRequest
    steps: list[ApprovalStep]
    current: ApprovalStep | None
    evidence: list[ChangeEvidence]
    log: list[Any]
    may_decide: bool
    may_withdraw: bool
    overdue: bool
    masked_name: str
    number_masked: str
    on: datetime.date = field(default_factory=today)
    # The child's name as this user may see it (names_shown): in full, or masked.
    shown_name: str = ""
    # Approving the step waiting now is the last approval: it applies the change's effect.
    final: bool = False

    @property
    def effect(self) -> str:
        """What approving the step waiting now does to the record, in one sentence."""
        return effect_on_approval(self.change, self.shown_name)


def party_name(step: ApprovalStep) -> str:
    """The name of the school or the division a step waits for (or waited for)."""
    party = step.school if step.school_id is not None else step.division
    return "" if party is None else str(party.name)


def applicant_school_id(change: ChangeRequest) -> int:
    """The school that filed a request: the receiving school of a transfer, else the student's."""
    if change.kind == ChangeKind.TRANSFER and change.to_school_id is not None:
        return int(change.to_school_id)
    return int(change.from_school_id)


def is_party_of(scope: Scope | None, step: ApprovalStep | None) -> bool:
    """Is the scope the party the step waits for (and its role allowed to decide)?"""
    if step is None or step.state != StepState.PENDING:
        return False
    return policy.may_decide(
        scope, level=step.level, school_id=step.school_id, division_code=step.division_id
    )


def may_withdraw(scope: Scope | None, change: ChangeRequest) -> bool:
    """The applicant school's registrar withdraws a request not yet decided."""
    if change.state not in (ChangeState.PENDING, ChangeState.HELD):
        return False
    return policy.may_withdraw(scope, applicant_school_id(change))


def change_detail(user: Any, change_id: Any) -> ChangeDetail | None:
    """A request in scope with its approval chain, evidence list, log and what the user may do."""
    scope = scope_of(user)
    change = (
        _with_current_step(changes_in_scope(user))
        .select_related("academic_year", "to_class__school", "from_school__county")
        .prefetch_related("steps__decided_by", "log__actor")
        .filter(pk=change_id)
        .first()
    )
    if change is None:
        return None
    steps = list(change.steps.all())
    log = list(change.log.all())
    for entry in log:
        entry.event_label = (  # type: ignore[attr-defined]
            Event(entry.event).label if entry.event in Event.values else entry.event
        )
    current = _current(change)
    on = today()
    masked = mask_name(change.student.name)
    return ChangeDetail(
        change=change,
        steps=steps,
        current=current,
        evidence=list(change.evidence.defer("sealed").order_by("uploaded_at", "file_name")),
        log=log,
        may_decide=change.state == ChangeState.PENDING and is_party_of(scope, current),
        may_withdraw=may_withdraw(scope, change),
        overdue=bool(current and current.due_on and current.due_on < on),
        masked_name=masked,
        number_masked=change.student.number_masked,
        on=on,
        shown_name=change.student.name if names_shown(scope, [change]) else masked,
        final=current is not None and not any(s.state == StepState.WAITING for s in steps),
    )


def active_change_of(user: Any, student_id: Any) -> ChangeRequest | None:
    """The unfinished request of a student in scope, if any."""
    return (
        changes_in_scope(user)
        .filter(student_id=student_id, state__in=[s.value for s in ACTIVE_STATES])
        .first()
    )


# ---- the receiving registrar's look-up ---------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """The masked minimum shown before a transfer application exists: no ID number, no full
    student number, the name masked."""

    masked_name: str
    sex: str
    sex_label: str
    birth_year: int
    school_name: str
    grade: int
    state: str
    state_label: str


def locate_for_transfer(*, student_number: str, name: str) -> Student | None:
    """The student whose number (or a former number) and name match; None otherwise. The name is
    compared as a registration compares it (xueji.students.names): in traditional or simplified
    characters, with any middle dot of a minority name or none."""
    number = (student_number or "").strip().upper()
    name = (name or "").strip()
    if not number or not name:
        return None
    # Who holds the number (current or former) anywhere in the country: a national question.
    holder = national_index().holder_of_number(number)
    student = None if holder is None else Student.objects.filter(pk=holder.student_id).first()
    if student is None or not names_match(name, student.name):
        return None
    return student


def transfer_candidate(user: Any, *, number: str, name: str) -> Candidate | None:
    """The child with exactly this student number (current or former) and this name (folded:
    locate_for_transfer), anywhere in the country, for a school registrar who may file a
    transfer; else None.

    Both must match: a number alone (or a name alone) finds nothing, so the look-up cannot be
    used to browse other schools' records.
    """
    scope = scope_of(user)
    if scope is None or scope.level != ScopeLevel.SCHOOL or not may(scope, Action.CHANGE_FILE):
        return None
    if not (number or "").strip() or not (name or "").strip():
        return None
    found = locate_for_transfer(student_number=normalize(number), name=name.strip())
    if found is None:
        return None
    placement = placement_on(found.pk, today())
    return Candidate(
        masked_name=mask_name(found.name),
        sex=found.sex,
        sex_label=str(found.get_sex_display()),
        birth_year=found.birth_date.year,
        school_name=found.school.name,
        grade=placement.grade if placement else 0,
        state=found.state,
        state_label=str(found.get_state_display()),
    )


# ---- what the receiving side sees before completion --------------------------------------------


def incoming_transfers(user: Any, *, school_id: int) -> list[QueueRow]:
    """Transfers under way into a school in scope (the receiving side's "转学中")."""
    changes = changes_in_scope(user).filter(
        kind=ChangeKind.TRANSFER,
        to_school_id=school_id,
        state__in=[ChangeState.PENDING, ChangeState.HELD],
    )
    return queue_rows(list(_with_current_step(changes).order_by("filed_at")[:QUEUE_LIMIT]), today())


# ---- the public notice (公示) -------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeRow:
    masked_name: str
    sex_label: str
    grade: int
    other_school: str
    on: datetime.date


@dataclass
class PublicNotice:
    school: School
    start: datetime.date
    end: datetime.date
    transfers_in: list[NoticeRow]
    transfers_out: list[NoticeRow]


def _notice_rows(changes: QuerySet[ChangeRequest], other: str) -> list[NoticeRow]:
    return [
        NoticeRow(
            masked_name=mask_name(c.student.name),
            sex_label=str(c.student.get_sex_display()),
            grade=c.from_grade,
            other_school=getattr(c, other).name,
            on=c.effective_date or c.filed_on,
        )
        for c in changes.select_related("student", "from_school", "to_school").order_by(
            "effective_date", "filed_at"
        )
    ]


def public_notice(
    user: Any, *, school_id: int, start: datetime.date, end: datetime.date
) -> PublicNotice | None:
    """The transfers completed into and out of a school in scope over [start, end]: names masked,
    no number of any kind."""
    scope = scope_of(user)
    if scope is None or not may(scope, Action.CHANGE_VIEW):
        return None
    school = School.objects.filter(area_q(scope), pk=school_id).first()
    if school is None:
        return None
    done = ChangeRequest.objects.filter(
        kind=ChangeKind.TRANSFER,
        state=ChangeState.COMPLETED,
        effective_date__gte=start,
        effective_date__lte=end,
    )
    return PublicNotice(
        school=school,
        start=start,
        end=end,
        transfers_in=_notice_rows(done.filter(to_school_id=school_id), "from_school"),
        transfers_out=_notice_rows(done.filter(from_school_id=school_id), "to_school"),
    )
