"""Dropout-control cases (控辍保学): opened by the daily scan (xueji.attendance.services.scan) or by
identity's hand-over of a child with no record; steps logged by the school and the county; the
county confirms 辍学, assigns the responsible person and closes a case with one of the ends the
law allows (never "lost contact", which keeps it open and escalates it).

An end that moves the record (辍学 confirmed, deceased, abroad) goes through xueji.students.record
in the same transaction; nothing here writes a placement or a record's state itself."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import PermissionRefused, division_in_area, may, require, scope_of
from xueji.attendance.models import (
    OPEN_CASE_STATES,
    CaseEnd,
    CaseState,
    CaseStep,
    DropoutCase,
    Level,
    StepKind,
    StepOutcome,
    Trigger,
)
from xueji.attendance.rules import settings_for
from xueji.attendance.workflow import CaseEvent, case_next_state
from xueji.audit.services import audit_record
from xueji.changes.windows import add_working_days
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.geo.models import Division
from xueji.schools.models import SchoolKind
from xueji.students.models import EventKind, RecordState, Student
from xueji.students.record import open_placement_locked, record_leave

LEVEL_ORDER = [Level.SCHOOL, Level.COUNTY, Level.CITY, Level.PROVINCE]


def _today() -> datetime.date:
    return timezone.localdate()


def _deadline(county_code: str, on: datetime.date) -> datetime.date:
    return add_working_days(on, settings_for(county_code).step_deadline_working_days)


def _field(field: str, message: Any, code: str = "invalid") -> FieldErrors:
    return FieldErrors({field: [ValidationError(message, code=code)]})


def case_in_area(scope: Any, case: DropoutCase) -> bool:
    """Is the case the scope's: its school's, or in its bureau's area (the county of the case)?"""
    if scope is None:
        return False
    if scope.level == ScopeLevel.SCHOOL:
        return case.school_id is not None and case.school_id == scope.school_id
    return division_in_area(scope, case.county_id)


def _case_locked(actor: Any, case_id: Any, action: str) -> DropoutCase:
    scope = require(actor, action)
    try:
        case = DropoutCase.objects.select_for_update().get(pk=case_id)
    except (DropoutCase.DoesNotExist, ValueError, ValidationError):
        raise NotFound("not_found", _("No such case.")) from None
    if not case_in_area(scope, case):
        raise NotFound("not_found", _("No such case."))
    return case


def _case_row(case: DropoutCase) -> dict[str, Any]:
    return {
        "state": case.state,
        "level": case.level,
        "end": case.end,
        "deadline": case.deadline.isoformat(),
        "responsible": case.responsible_id,
    }


# ---- opening ---------------------------------------------------------------------------------


def cases_open_for_students(
    *,
    actor: Any,
    student_ids: Iterable[Any],
    trigger: str,
    on: datetime.date,
    note: str = "",
) -> list[DropoutCase]:
    """Open a case for each of these children who has none open (set-based); a child whose
    last case closed as returned gets a new case linked to it (a relapse). Runs inside the
    caller's transaction or its own; one audit entry for the lot."""
    ids = list(dict.fromkeys(student_ids))
    if not ids:
        return []
    with transaction.atomic():
        busy = set(
            DropoutCase.objects.filter(student_id__in=ids, state__in=OPEN_CASE_STATES).values_list(
                "student_id", flat=True
            )
        )
        wanted = [pk for pk in ids if pk not in busy]
        if not wanted:
            return []
        previous: dict[Any, Any] = {}
        for case_id, student_id in (
            DropoutCase.objects.filter(student_id__in=wanted, state=CaseState.CLOSED)
            .order_by("student_id", "closed_on")
            .values_list("pk", "student_id")
        ):
            previous[student_id] = case_id
        students = Student.objects.filter(pk__in=wanted).select_related("school")
        deadlines: dict[str, datetime.date] = {}
        made = []
        for student in students:
            county = student.school.county_id
            if county not in deadlines:
                deadlines[county] = _deadline(county, on)
            made.append(
                DropoutCase(
                    student=student,
                    name=student.name,
                    sex=student.sex,
                    birth_date=student.birth_date,
                    school_id=student.school_id,
                    county_id=county,
                    trigger=trigger,
                    opened_on=on,
                    deadline=deadlines[county],
                    level=Level.SCHOOL,
                    previous_id=previous.get(student.pk),
                    note=note[:200],
                )
            )
        DropoutCase.objects.bulk_create(made)
        audit_record(
            actor=actor,
            action="dropout_case.open",
            detail={"trigger": trigger, "on": on.isoformat(), "count": len(made)},
        )
    return made


def case_open_for_unrecorded_child(
    *,
    actor: Any,
    county_code: str,
    name: str,
    sex: str,
    birth_date: datetime.date,
    reference: str,
    note: str = "",
) -> DropoutCase:
    """A case for a child of the population roll with no record (identity's hand-over, 有人无籍):
    the county follows the child; `reference` is the roll entry's id. The same reference with a
    case open answers that case (a second hand-over changes nothing)."""
    reference = str(reference).strip()
    if not reference:
        raise _field("reference", _("The roll entry is missing."), "required")
    county = Division.objects.filter(code=county_code).first()
    if county is None:
        raise _field("county_code", _("No such county."), "unknown")
    scope = scope_of(actor)
    if (
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and (
            scope is None
            or scope.level == ScopeLevel.SCHOOL
            or not division_in_area(scope, county_code)
        )
    ):
        raise PermissionRefused(
            "forbidden", _("Only a bureau of the child's area hands a child over.")
        )
    with transaction.atomic():
        found = DropoutCase.objects.filter(reference=reference, state__in=OPEN_CASE_STATES).first()
        if found is not None:
            return found
        today = _today()
        case = DropoutCase(
            reference=reference[:64],
            name=name[:64],
            sex=sex[:1],
            birth_date=birth_date,
            county=county,
            trigger=Trigger.UNRECORDED,
            opened_on=today,
            deadline=_deadline(county.code, today),
            level=Level.COUNTY,
            note=note[:200],
        )
        try:
            with transaction.atomic():
                case.save(force_insert=True)
        except IntegrityError:
            # Two hand-overs of one entry at once: the other's case stands.
            existing = DropoutCase.objects.filter(
                reference=reference, state__in=OPEN_CASE_STATES
            ).first()
            if existing is None:
                raise
            return existing
        audit_record(
            actor=actor,
            action="dropout_case.open",
            object_type="dropout_case",
            object_id=case.pk,
            detail={"trigger": Trigger.UNRECORDED, "county": county.code, "reference": reference},
        )
    return case


# ---- working a case ---------------------------------------------------------------------------


def _escalate(case: DropoutCase, *, actor: Any, on: datetime.date, why: str) -> bool:
    """Move the case to the level above (a province's case stays at the province), renew its
    deadline and log the step; False when it is already at the top."""
    index = LEVEL_ORDER.index(Level(case.level))
    top = index + 1 >= len(LEVEL_ORDER)
    if not top:
        case.level = LEVEL_ORDER[index + 1]
    case.deadline = _deadline(case.county_id, on)
    CaseStep.objects.create(
        case=case,
        kind=StepKind.ESCALATED,
        on=on,
        actor=actor if getattr(actor, "pk", None) else None,
        note=why[:300],
    )
    return not top


def case_step_log(
    *,
    actor: Any,
    case_id: Any,
    kind: str,
    on: datetime.date | None = None,
    outcome: str = StepOutcome.NONE,
    committee: str = "",
    note: str = "",
) -> CaseStep:
    """A step taken on the case (call, home visit with the village or community committee,
    letter …) with its date, its actor and its outcome. "Contact lost" keeps the case open and
    escalates it at once; reaching the family again after that takes it back to open."""
    on = on or _today()
    problems: dict[str, list[ValidationError]] = {}
    if kind not in StepKind.values or kind == StepKind.ESCALATED:
        problems["kind"] = [ValidationError(_("Choose a kind of step."), code="invalid")]
    if outcome not in StepOutcome.values:
        problems["outcome"] = [ValidationError(_("Choose an outcome."), code="invalid")]
    if kind == StepKind.HOME_VISIT and not committee.strip():
        problems["committee"] = [
            ValidationError(
                _("Name the village or community committee that came along."), code="required"
            )
        ]
    if on > _today():
        problems["on"] = [
            ValidationError(_("A step cannot be dated in the future."), code="future")
        ]
    if problems:
        raise FieldErrors(problems)
    with transaction.atomic():
        case = _case_locked(actor, case_id, Action.CASE_STEP)
        before = _case_row(case)
        if case.state == CaseState.CLOSED:
            raise Conflict("case_closed", _("The case is closed."))
        step = CaseStep.objects.create(
            case=case,
            kind=kind,
            on=on,
            actor=actor,
            outcome=outcome,
            committee=committee.strip()[:100],
            note=note.strip()[:300],
        )
        if outcome == StepOutcome.LOST_CONTACT:
            if case.state == CaseState.OPEN:
                case.state = case_next_state(case.state, CaseEvent.LOSE_CONTACT)
            _escalate(case, actor=actor, on=on, why=str(_("Contact lost")))
        else:
            if case.state == CaseState.LOST_CONTACT and outcome in (
                StepOutcome.REACHED,
                StepOutcome.PROMISED,
                StepOutcome.REFUSED,
            ):
                case.state = case_next_state(case.state, CaseEvent.REGAIN_CONTACT)
            case.deadline = _deadline(case.county_id, on)
        case.save(update_fields=["state", "level", "deadline"])
        audit_record(
            actor=actor,
            action="dropout_case.step",
            object_type="dropout_case",
            object_id=case.pk,
            detail={"kind": kind, "outcome": outcome},
            before=before,
            after=_case_row(case),
        )
    return step


def case_assign(*, actor: Any, case_id: Any, responsible_id: int) -> DropoutCase:
    """The county names the person responsible for the case (a user of its area)."""
    from xueji.access.models import Membership

    with transaction.atomic():
        case = _case_locked(actor, case_id, Action.CASE_MANAGE)
        membership = Membership.objects.filter(user_id=responsible_id).first()
        ok = membership is not None and (
            (membership.school_id is not None and membership.school_id == case.school_id)
            or (
                membership.division_id is not None
                and case.county_id.startswith(
                    membership.division_id[
                        : {"county": 6, "city": 4, "province": 2}.get(membership.scope_level, 6)
                    ]
                )
            )
        )
        if not ok:
            raise _field(
                "responsible", _("Choose a person of the child's school or county."), "invalid"
            )
        before = _case_row(case)
        case.responsible_id = responsible_id
        case.save(update_fields=["responsible"])
        audit_record(
            actor=actor,
            action="dropout_case.assign",
            object_type="dropout_case",
            object_id=case.pk,
            before=before,
            after=_case_row(case),
        )
    return case


def case_confirm_dropout(
    *, actor: Any, case_id: Any, on: datetime.date | None = None, note: str = ""
) -> DropoutCase:
    """辍学: the county confirms that the child of an open case has dropped out; the record
    leaves the school's roll (xueji.students.record) and the case stays open until one of its
    ends."""
    on = on or _today()
    with transaction.atomic():
        case = _case_locked(actor, case_id, Action.CASE_MANAGE)
        scope = scope_of(actor)
        if scope is None or scope.level != ScopeLevel.COUNTY:
            raise PermissionRefused("forbidden", _("Only the county confirms a dropout."))
        if case.student_id is None:
            raise Conflict(
                "no_record", _("A child with no record cannot be confirmed as dropped out.")
            )
        before = _case_row(case)
        case.state = case_next_state(case.state, CaseEvent.CONFIRM_DROPOUT)
        case.dropout_confirmed_on = on
        student = Student.objects.select_for_update().get(pk=case.student_id)
        placement = open_placement_locked(student.pk)
        if placement is not None:
            record_leave(
                actor=actor,
                student=student,
                placement=placement,
                on=on,
                state=RecordState.DROPPED_OUT,
                event=EventKind.DROPPED_OUT,
                detail={"case": str(case.pk), "note": note[:200]},
            )
        case.save(update_fields=["state", "dropout_confirmed_on"])
        CaseStep.objects.create(
            case=case, kind=StepKind.NOTE, on=on, actor=actor, note=note[:300] or "辍学"
        )
        audit_record(
            actor=actor,
            action="dropout_case.confirm_dropout",
            object_type="dropout_case",
            object_id=case.pk,
            before=before,
            after=_case_row(case),
        )
    return case


_EVIDENCE_ENDS = {CaseEnd.EXEMPTED, CaseEnd.ABROAD, CaseEnd.DECEASED, CaseEnd.HOME_TEACHING}


def _end_problems(
    case: DropoutCase, end: str, decision: str, evidence: str
) -> dict[str, list[ValidationError]]:
    problems: dict[str, list[ValidationError]] = {}
    if end not in CaseEnd.values:
        problems["end"] = [
            ValidationError(
                _(
                    "A case ends only as returned, transferred, special-education school, taught "
                    "at home, exempted or deferred, abroad or deceased; a family out of reach "
                    "keeps the case open."
                ),
                code="invalid_end",
            )
        ]
        return problems
    if end in _EVIDENCE_ENDS and not evidence.strip():
        problems["evidence"] = [ValidationError(_("Name the evidence."), code="required")]
    if end == CaseEnd.EXEMPTED and not decision.strip():
        problems["decision"] = [
            ValidationError(_("Give the county's decision (number and date)."), code="required")
        ]
    if case.student_id is None:
        if not evidence.strip():
            problems["evidence"] = [ValidationError(_("Name the evidence."), code="required")]
        return problems
    student = Student.objects.select_related("school").get(pk=case.student_id)
    on_roll = student.state == RecordState.ENROLLED
    if end == CaseEnd.RETURNED and not on_roll:
        problems["end"] = [
            ValidationError(
                _("The child is not on a school's roll: re-admit the child first."),
                code="not_on_roll",
            )
        ]
    if end == CaseEnd.TRANSFERRED and not (on_roll and student.school_id != case.school_id):
        problems["end"] = [
            ValidationError(
                _("No receiving school has accepted the child yet."), code="not_transferred"
            )
        ]
    if end == CaseEnd.SPECIAL_SCHOOL and not (
        on_roll and student.school.kind == SchoolKind.SPECIAL
    ):
        problems["end"] = [
            ValidationError(
                _("The child is not enrolled in a special-education school."), code="not_special"
            )
        ]
    if end == CaseEnd.HOME_TEACHING and not on_roll:
        problems["end"] = [
            ValidationError(
                _("送教上门 is enrolment: the child must be on a school's roll."),
                code="not_on_roll",
            )
        ]
    return problems


def case_close(
    *,
    actor: Any,
    case_id: Any,
    end: str,
    on: datetime.date | None = None,
    decision: str = "",
    evidence: str = "",
    note: str = "",
) -> DropoutCase:
    """Close a case with one of its ends. Abroad and deceased move a record still on the roll
    (xueji.students.record); the others need the record where the end says it is."""
    on = on or _today()
    with transaction.atomic():
        case = _case_locked(actor, case_id, Action.CASE_MANAGE)
        problems = _end_problems(case, end, decision, evidence)
        if problems:
            raise FieldErrors(problems)
        before = _case_row(case)
        case.state = case_next_state(case.state, CaseEvent.CLOSE)
        case.end = end
        case.closed_on = on
        case.decision = decision.strip()[:200]
        case.evidence = evidence.strip()[:200]
        if case.student_id is not None and end in (CaseEnd.ABROAD, CaseEnd.DECEASED):
            student = Student.objects.select_for_update().get(pk=case.student_id)
            placement = open_placement_locked(student.pk)
            if placement is not None:
                leaving = (
                    (RecordState.ABROAD, EventKind.ABROAD)
                    if end == CaseEnd.ABROAD
                    else (RecordState.DECEASED, EventKind.DECEASED)
                )
                record_leave(
                    actor=actor,
                    student=student,
                    placement=placement,
                    on=on,
                    state=leaving[0],
                    event=leaving[1],
                    detail={"case": str(case.pk), "evidence": case.evidence},
                )
        case.save(update_fields=["state", "end", "closed_on", "decision", "evidence"])
        CaseStep.objects.create(
            case=case, kind=StepKind.NOTE, on=on, actor=actor, note=note.strip()[:300]
        )
        audit_record(
            actor=actor,
            action="dropout_case.close",
            object_type="dropout_case",
            object_id=case.pk,
            before=before,
            after=_case_row(case),
        )
    return case


def cases_close_returned(*, actor: Any, case_ids: Iterable[Any], on: datetime.date) -> int:
    """The scan closes cases whose child attended the set number of school days in a row."""
    ids = list(case_ids)
    if not ids:
        return 0
    with transaction.atomic():
        closed = DropoutCase.objects.filter(pk__in=ids, state__in=OPEN_CASE_STATES).update(
            state=CaseState.CLOSED, end=CaseEnd.RETURNED, closed_on=on
        )
        audit_record(
            actor=actor,
            action="dropout_case.returned",
            detail={"on": on.isoformat(), "count": closed},
        )
    return closed


def cases_escalate_overdue(*, actor: Any = None, on: datetime.date | None = None) -> int:
    """Cases whose step deadline passed go to the level above (daily; idempotent for a day:
    the deadline is renewed). Rows taken with SKIP LOCKED where the database has it."""
    on = on or _today()
    moved = 0
    with transaction.atomic():
        rows = DropoutCase.objects.filter(
            state__in=OPEN_CASE_STATES, deadline__lt=on
        ).select_for_update(skip_locked=True)
        for case in rows:
            before = _case_row(case)
            _escalate(case, actor=actor, on=on, why=str(_("The step's deadline passed.")))
            case.save(update_fields=["level", "deadline"])
            audit_record(
                actor=actor,
                action="dropout_case.escalate",
                object_type="dropout_case",
                object_id=case.pk,
                before=before,
                after=_case_row(case),
            )
            moved += 1
    return moved


def cases_visible_q(user: Any) -> Q:
    """Filter on DropoutCase: the cases the user may see."""
    scope = scope_of(user)
    if scope is None or not may(scope, Action.CASE_VIEW):
        return Q(pk__in=[])
    if scope.level == ScopeLevel.SCHOOL:
        return Q(school_id=scope.school_id)
    if scope.level == ScopeLevel.NATION:
        return Q()
    digits = {"county": 6, "city": 4, "province": 2}[scope.level]
    return Q(county__code__startswith=(scope.division_code or "")[:digits])
