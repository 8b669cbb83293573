"""Writes of changes of status (学籍异动) and transfers. Each service runs in one transaction,
locks what it moves (the student on filing, the request on a decision), moves the request only
along xueji.changes.workflow, asks xueji.changes.policy who may act, logs the step and writes an
audit entry for every state change. The effect on the record (placement, state, record event)
is applied in the transaction of the final approval.

Every service takes `on`, the day it happens (today by default): deadlines, closed periods and
effective dates are counted from it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import PermissionRefused, Scope, area_q, may, require, scope_of
from xueji.audit.services import audit_record
from xueji.changes import policy
from xueji.changes.models import (
    ACTIVE_STATES,
    ApprovalStep,
    ChangeEvidence,
    ChangeKind,
    ChangeLog,
    ChangeRequest,
    ChangeState,
    ChangeWindow,
    EvidencePurpose,
    Initiator,
    PartyLevel,
    Side,
    StepState,
)
from xueji.changes.windows import (
    DEADLINE_WORKING_DAYS,
    add_working_days,
    periods_for,
    province_rules,
    reopens_on,
)
from xueji.changes.workflow import (
    DEFERRED_KINDS,
    Event,
    InvalidTransition,
    Place,
    chain_for,
    level_above,
    transition,
)
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.corrections.evidence import MAX_FILES, CheckedFile, Upload, check_upload
from xueji.corrections.evidence import seal as seal_evidence
from xueji.corrections.evidence import unseal as unseal_evidence
from xueji.geo.models import Division
from xueji.schools.models import School, SchoolClass, academic_start_year
from xueji.schools.services import academic_year_ensure
from xueji.students.bulk import dialect
from xueji.students.identity import number_index
from xueji.students.models import (
    EventKind,
    Placement,
    PlacementReason,
    RecordState,
    Student,
    StudentNumberAlias,
)
from xueji.students.record import (
    open_placement_locked,
    record_leave,
    record_move,
    record_state_restore,
    record_state_set,
)

# The state a completed change leaves the record in, and the record event appended.
NEW_STATE: dict[str, RecordState] = {
    ChangeKind.SUSPEND: RecordState.SUSPENDED,
    ChangeKind.RESUME: RecordState.ENROLLED,
    ChangeKind.WITHDRAW: RecordState.WITHDRAWN,
    ChangeKind.DROPOUT: RecordState.DROPPED_OUT,
    ChangeKind.ABROAD: RecordState.ABROAD,
    ChangeKind.DEATH: RecordState.DECEASED,
    ChangeKind.TRANSFER: RecordState.ENROLLED,
}
EVENT_OF: dict[str, EventKind] = {
    ChangeKind.TRANSFER: EventKind.TRANSFERRED,
    ChangeKind.CLASS_CHANGE: EventKind.CLASS_CHANGED,
    ChangeKind.SUSPEND: EventKind.SUSPENDED,
    ChangeKind.RESUME: EventKind.RESUMED,
    ChangeKind.WITHDRAW: EventKind.WITHDRAWN,
    ChangeKind.DROPOUT: EventKind.DROPPED_OUT,
    ChangeKind.ABROAD: EventKind.ABROAD,
    ChangeKind.DEATH: EventKind.DECEASED,
    ChangeKind.REPEAT: EventKind.REPEATED,
    ChangeKind.SKIP: EventKind.SKIPPED,
}
# Exits: the placement is closed on the effective date.
CLOSING_KINDS = (ChangeKind.WITHDRAW, ChangeKind.DROPOUT, ChangeKind.ABROAD, ChangeKind.DEATH)
# The record states from which a change of each kind may be filed.
FROM_STATES: dict[str, tuple[str, ...]] = {
    ChangeKind.TRANSFER: (RecordState.ENROLLED,),
    ChangeKind.SUSPEND: (RecordState.ENROLLED,),
    ChangeKind.RESUME: (RecordState.SUSPENDED,),
    ChangeKind.WITHDRAW: (RecordState.ENROLLED, RecordState.SUSPENDED),
    ChangeKind.DROPOUT: (RecordState.ENROLLED, RecordState.SUSPENDED),
    ChangeKind.REPEAT: (RecordState.ENROLLED,),
    ChangeKind.SKIP: (RecordState.ENROLLED,),
    ChangeKind.ABROAD: (RecordState.ENROLLED, RecordState.SUSPENDED),
    ChangeKind.DEATH: (RecordState.ENROLLED, RecordState.SUSPENDED),
    ChangeKind.CLASS_CHANGE: (RecordState.ENROLLED,),
}


def _today(on: datetime.date | None) -> datetime.date:
    return on or timezone.localdate()


def _as_id(value: Any) -> int:
    """An integer id from a form or API value; 0 (no row) when it is not one."""
    text = str(value or "")
    return int(text) if text.isdigit() else 0


def _no_such_change() -> NotFound:
    return NotFound("change_not_found", _("No such change request."))


def _no_such_student() -> NotFound:
    return NotFound("student_not_found", _("No student with this number and name."))


def _field_error(field: str, message: Any, code: str, **params: Any) -> FieldErrors:
    return FieldErrors({field: [ValidationError(message, code=code, params=params or None)]})


def _change_active() -> Conflict:
    return Conflict(
        "change_active",
        _(
            "This student already has a change of status or a transfer under way; it must be "
            "finished or withdrawn first."
        ),
    )


def applicant_school_id(change: ChangeRequest) -> int:
    """The school that filed the request: the receiving school of a transfer, else the
    student's school."""
    if change.kind == ChangeKind.TRANSFER and change.to_school_id is not None:
        return change.to_school_id
    return change.from_school_id


def visible_q(scope: Scope | None) -> Q:
    """Requests a scope may see: the sending or the receiving school is in its area."""
    return area_q(scope, "from_school__") | area_q(scope, "to_school__")


def _place(school: School) -> Place:
    return Place(
        school_id=school.pk, county_code=school.county_id, province_code=school.province_id
    )


def _audit(
    change: ChangeRequest,
    *,
    actor: Any,
    event: str,
    from_state: str,
    detail: dict[str, Any] | None = None,
) -> None:
    audit_record(
        actor=actor,
        action=f"change.{event}",
        object_type="student",
        object_id=change.student_id,
        detail={"change": str(change.pk), "kind": change.kind, **(detail or {})},
        before={"state": from_state} if from_state else None,
        after={"state": change.state},
    )


def _log(
    change: ChangeRequest,
    *,
    event: str,
    from_state: str,
    actor: Any,
    scope: Scope | None,
    note: str = "",
    ordinal: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """The request's own history and the audit entry of the step, in the same transaction."""
    ChangeLog.objects.create(
        request=change,
        event=event,
        from_state=from_state,
        to_state=change.state,
        step_ordinal=ordinal,
        actor=actor,
        actor_role=scope.role if scope else "",
        note=note,
    )
    _audit(
        change,
        actor=actor,
        event=event,
        from_state=from_state,
        detail={**({"step": ordinal} if ordinal else {}), **(detail or {})},
    )


# ---- finding the child -------------------------------------------------------------------------


def locate_for_transfer(*, student_number: str, name: str) -> Student | None:
    """The student whose number (or a former number) and exact name match; None otherwise."""
    number = (student_number or "").strip().upper()
    name = (name or "").strip()
    if not number or not name:
        return None
    index = number_index(number)
    student = Student.objects.filter(number_index=index).first()
    if student is None:
        alias = StudentNumberAlias.objects.filter(number_index=index).first()
        student = None if alias is None else Student.objects.filter(pk=alias.student_id).first()
    if student is None or student.name != name:
        return None
    return student


# ---- evidence ----------------------------------------------------------------------------------


def _check_files(
    kind: str,
    initiator: str,
    guardian_request: Upload | None,
    evidence: Sequence[Upload],
    problems: dict[str, list[ValidationError]],
) -> list[tuple[str, CheckedFile]]:
    checked: list[tuple[str, CheckedFile]] = []
    if guardian_request is None and policy.needs_guardian_request(kind, initiator):
        problems["guardian_request"] = [
            ValidationError(
                _("Attach the guardian's written request (JPG, PNG or PDF)."), code="required"
            )
        ]
    uploads = [
        *([(EvidencePurpose.GUARDIAN_REQUEST, guardian_request)] if guardian_request else []),
        *[(EvidencePurpose.SUPPORTING, upload) for upload in evidence],
    ]
    if len(uploads) > MAX_FILES:
        problems.setdefault("evidence", []).append(
            ValidationError(
                _("Attach at most %(max)d files."), code="too_many", params={"max": MAX_FILES}
            )
        )
        return []
    if not uploads and policy.needs_evidence(kind):
        problems.setdefault("evidence", []).append(
            ValidationError(
                _("Attach the evidence: a scan or photo of the document (JPG, PNG or PDF)."),
                code="required",
            )
        )
    for purpose, upload in uploads:
        field = "guardian_request" if purpose == EvidencePurpose.GUARDIAN_REQUEST else "evidence"
        try:
            checked.append((purpose, check_upload(upload)))
        except ValidationError as error:
            problems.setdefault(field, []).extend(error.error_list)
    return checked


def _attach(change: ChangeRequest, files: Sequence[tuple[str, CheckedFile]], actor: Any) -> None:
    ChangeEvidence.objects.bulk_create(
        ChangeEvidence(
            request=change,
            purpose=purpose,
            file_name=item.file_name,
            content_type=item.content_type,
            size=item.size,
            sha256=item.sha256,
            sealed=seal_evidence(item.content),
            uploaded_by=actor,
        )
        for purpose, item in files
    )


# ---- filing ------------------------------------------------------------------------------------


def _open_placement(student: Student) -> Placement | None:
    return (
        Placement.objects.select_related("school")
        .filter(student=student, end_date__isnull=True)
        .first()
    )


def _insert(change: ChangeRequest) -> None:
    try:
        with transaction.atomic():
            change.save(force_insert=True)
    except IntegrityError:
        raise _change_active() from None


def _create_steps(
    change: ChangeRequest, *, actor: Any, sender: School, receiver: School | None
) -> list[ApprovalStep]:
    parties = chain_for(change.kind, _place(sender), _place(receiver) if receiver else None)
    now = timezone.now()
    steps = [
        ApprovalStep(
            request=change,
            ordinal=index,
            level=party.level,
            side=party.side,
            school_id=party.school_id,
            division_id=party.division_code,
            # The first step is the applicant school's: filing it is its decision.
            state=StepState.APPROVED if index == 1 else StepState.WAITING,
            current_since=change.filed_on if index == 1 else None,
            decided_by=actor if index == 1 else None,
            decided_at=now if index == 1 else None,
        )
        for index, party in enumerate(parties, start=1)
    ]
    ApprovalStep.objects.bulk_create(steps)
    return steps


def _make_current(step: ApprovalStep, on: datetime.date) -> None:
    step.state = StepState.PENDING
    step.current_since = on
    step.due_on = add_working_days(on, DEADLINE_WORKING_DAYS)
    step.save(update_fields=["state", "current_since", "due_on"])


def _file(
    *,
    actor: Any,
    scope: Scope,
    student: Student,
    kind: str,
    initiator: str,
    sender: School,
    receiver: School | None,
    to_class: SchoolClass | None,
    grade: int,
    reason: str,
    files: Sequence[tuple[str, CheckedFile]],
    on: datetime.date,
) -> ChangeRequest:
    """Insert the request (HELD in a closed period, else PENDING at its second step), its
    chain and its evidence; a chain of one step (转班) completes at once."""
    provinces = [sender.province_id] + ([receiver.province_id] if receiver else [])
    resumes = reopens_on(on, periods_for(kind, provinces))
    event = Event.HOLD if resumes else Event.FILE
    change = ChangeRequest(
        student=student,
        kind=kind,
        state=transition(None, event),
        initiator=initiator,
        from_school=sender,
        from_grade=grade,
        to_school=receiver,
        to_class=to_class,
        academic_year=academic_year_ensure(actor=actor, start_year=academic_start_year(on)),
        reason=reason,
        resumes_on=resumes,
        filed_by=actor,
        filed_on=on,
    )
    _insert(change)
    steps = _create_steps(change, actor=actor, sender=sender, receiver=receiver)
    _attach(change, files, actor)
    if kind == ChangeKind.TRANSFER:
        # 转学中: shown on both sides, still counted at the sender (its placement stays open).
        record_state_set(actor=actor, student=student, state=RecordState.TRANSFERRING)
    _log(
        change,
        event=event,
        from_state="",
        actor=actor,
        scope=scope,
        note=reason,
        ordinal=1,
        detail={"resumes_on": resumes.isoformat()} if resumes else None,
    )
    if resumes is None:
        _advance(change, steps, actor=actor, scope=scope, on=on, decided=None)
    return change


def _require_reason(reason: str, problems: dict[str, list[ValidationError]]) -> str:
    reason = (reason or "").strip()
    if not reason:
        problems["reason"] = [ValidationError(_("Give the reason for the change."), "required")]
    return reason


def _check_transfer_rules(
    placement: Placement, sender: School, to_class: SchoolClass, on: datetime.date
) -> None:
    receiver = to_class.school
    placement_year = academic_start_year(on)
    if sender.pk == receiver.pk:
        raise Conflict("same_school", _("The student is already at this school."))
    for province in {sender.province_id, receiver.province_id}:
        rules = province_rules(province)
        if rules["no_transfer_in_graduating_grade"] and placement.grade == sender.last_grade:
            raise Conflict(
                "graduating_grade",
                _("The province does not allow transfers in the graduating grade."),
            )
        # A class of next year is compared with the grade the student will then be in.
        expected = placement.grade + (to_class.academic_year.start_year - placement_year)
        if rules["same_grade_only"] and to_class.grade != expected:
            raise _field_error(
                "to_class",
                _("The province allows transfers into the same grade only (grade %(grade)s)."),
                "same_grade_only",
                grade=expected,
            )


def transfer_file(
    *,
    actor: Any,
    student_number: str,
    name: str,
    to_class_id: Any,
    reason: str,
    guardian_request: Upload | None,
    evidence: Sequence[Upload] = (),
    on: datetime.date | None = None,
) -> ChangeRequest:
    """The receiving school's registrar files a transfer in, found by number and name, with the
    guardian's request; held in a closed period, else on its way to the next party."""
    on = _today(on)
    scope = require(actor, Action.CHANGE_FILE)
    if scope.level != ScopeLevel.SCHOOL or scope.school_id is None:
        raise PermissionRefused("forbidden", _("Your role does not allow this."))
    problems: dict[str, list[ValidationError]] = {}
    reason = _require_reason(reason, problems)
    files = _check_files(
        ChangeKind.TRANSFER, Initiator.GUARDIAN, guardian_request, evidence, problems
    )
    to_class = (
        SchoolClass.objects.select_related("school", "academic_year")
        .filter(
            pk=_as_id(to_class_id),
            school_id=scope.school_id,
            # This year's class, or next year's for a transfer filed before term starts.
            academic_year__start_year__in=[academic_start_year(on), academic_start_year(on) + 1],
        )
        .first()
    )
    if to_class is None:
        problems["to_class"] = [
            ValidationError(_("Choose a class of your school for this year."), "class_not_found")
        ]
    found = locate_for_transfer(student_number=student_number, name=name)
    if found is None:
        raise _no_such_student()
    if problems:
        raise FieldErrors(problems)
    assert to_class is not None
    with transaction.atomic():
        student = Student.objects.select_for_update().get(pk=found.pk)
        if student.changes.filter(state__in=ACTIVE_STATES).exists():
            raise _change_active()
        if student.state == RecordState.SUSPENDED:
            raise Conflict(
                "student_suspended", _("A suspended student cannot transfer: resume first.")
            )
        placement = _open_placement(student)
        if student.state != RecordState.ENROLLED or placement is None:
            raise Conflict("not_on_roll", _("The student is not enrolled at a school."))
        sender = placement.school
        _check_transfer_rules(placement, sender, to_class, on)
        return _file(
            actor=actor,
            scope=scope,
            student=student,
            kind=ChangeKind.TRANSFER,
            initiator=Initiator.GUARDIAN,
            sender=sender,
            receiver=to_class.school,
            to_class=to_class,
            grade=placement.grade,
            reason=reason,
            files=files,
            on=on,
        )


def change_file(
    *,
    actor: Any,
    student_id: Any,
    kind: str,
    reason: str,
    initiator: str = Initiator.GUARDIAN,
    to_class_id: Any = None,
    guardian_request: Upload | None = None,
    evidence: Sequence[Upload] = (),
    on: datetime.date | None = None,
) -> ChangeRequest:
    """The registrar of the student's school files a change other than a transfer."""
    on = _today(on)
    scope = require(actor, Action.CHANGE_FILE)
    if kind == ChangeKind.TRANSFER:
        raise _field_error(
            "kind", _("A transfer is filed by the receiving school."), "use_transfer"
        )
    if kind not in ChangeKind.values:
        raise _field_error("kind", _("Choose a kind of change."), "unknown")
    if initiator not in Initiator.values:
        raise _field_error("initiator", _("Say whose decision the change is."), "unknown")
    with transaction.atomic():
        student = Student.objects.select_for_update().filter(pk=student_id).first()
        if student is None or not policy.may_file(scope, student.school_id):
            raise NotFound("student_not_found", _("No such student."))
        if student.changes.filter(state__in=ACTIVE_STATES).exists():
            raise _change_active()
        placement = _open_placement(student)
        if placement is None:
            raise Conflict("not_on_roll", _("The student is not enrolled at a school."))
        if student.state not in FROM_STATES[kind]:
            raise Conflict(
                "wrong_state",
                _("This change is not possible while the record is “%(state)s”.")
                % {"state": RecordState(student.state).label},
            )
        problems: dict[str, list[ValidationError]] = {}
        reason = _require_reason(reason, problems)
        if not policy.initiator_allowed(kind, placement.grade, initiator):
            problems["initiator"] = [
                ValidationError(
                    _(
                        "In compulsory education a school may not start a withdrawal or a "
                        "repeat on its own: only the guardian can ask for it."
                    ),
                    code="compulsory_education",
                )
            ]
        files = _check_files(kind, initiator, guardian_request, evidence, problems)
        to_class = None
        if kind == ChangeKind.CLASS_CHANGE:
            to_class = (
                SchoolClass.objects.filter(
                    pk=_as_id(to_class_id),
                    school_id=placement.school_id,
                    grade=placement.grade,
                    academic_year__start_year=academic_start_year(on),
                )
                .exclude(pk=placement.school_class_id)
                .first()
            )
            if to_class is None:
                problems["to_class"] = [
                    ValidationError(
                        _("Choose another class of the same grade in this school."),
                        "class_not_found",
                    )
                ]
        if problems:
            raise FieldErrors(problems)
        sender = placement.school
        return _file(
            actor=actor,
            scope=scope,
            student=student,
            kind=kind,
            initiator=initiator,
            sender=sender,
            receiver=None,
            to_class=to_class,
            grade=placement.grade,
            reason=reason,
            files=files,
            on=on,
        )


# ---- moving along the chain --------------------------------------------------------------------


def _advance(
    change: ChangeRequest,
    steps: Sequence[ApprovalStep],
    *,
    actor: Any,
    scope: Scope | None,
    on: datetime.date,
    decided: ApprovalStep | None,
) -> None:
    """After a step is approved (or the filing / the release): the next party's turn, or the
    final approval and the effect when none is left."""
    waiting = [step for step in steps if step.state == StepState.WAITING]
    from_state = change.state
    if waiting:
        _make_current(waiting[0], on)
        if decided is not None:
            change.state = transition(change.state, Event.APPROVE, change.kind)
            change.save(update_fields=["state", "updated_at"])
            _log(
                change,
                event=Event.APPROVE,
                from_state=from_state,
                actor=actor,
                scope=scope,
                note=decided.reason,
                ordinal=decided.ordinal,
                detail={"next": waiting[0].ordinal, "due_on": waiting[0].due_on.isoformat()},  # type: ignore[union-attr]
            )
        return
    change.state = transition(change.state, Event.FINAL_APPROVE, change.kind)
    if change.state == ChangeState.COMPLETED:
        _apply(change, actor=actor, on=on)
        change.effective_date = on
        change.completed_at = timezone.now()
    change.save(update_fields=["state", "effective_date", "completed_at", "updated_at"])
    _log(
        change,
        event=Event.FINAL_APPROVE,
        from_state=from_state,
        actor=actor,
        scope=scope,
        note=decided.reason if decided else "",
        ordinal=decided.ordinal if decided else 1,
        detail={"effective_date": on.isoformat()} if change.effective_date else None,
    )


def _target_class(change: ChangeRequest, on: datetime.date) -> SchoolClass:
    """The class the student joins at the receiver: the class chosen on filing, or, if the
    school year has turned since, the class of the same number one grade up per year."""
    assert change.to_class_id is not None and change.to_school_id is not None
    chosen = SchoolClass.objects.select_related("academic_year").get(pk=change.to_class_id)
    year = academic_start_year(on)
    if chosen.academic_year.start_year >= year:
        return chosen
    grade = chosen.grade + (year - chosen.academic_year.start_year)
    candidates = SchoolClass.objects.filter(
        school_id=change.to_school_id, academic_year__start_year=year, grade=grade
    ).order_by("number")
    found = candidates.filter(number=chosen.number).first() or candidates.first()
    if found is None:
        raise Conflict(
            "no_class",
            _("The receiving school has no class of grade %(grade)s this year: open one first.")
            % {"grade": grade},
        )
    return found


def _class_change_target(
    change: ChangeRequest, placement: Placement, on: datetime.date
) -> SchoolClass:
    """The class chosen on filing, or, if the year has turned since, the class of the same
    number in the student's grade this year."""
    assert change.to_class_id is not None
    chosen = SchoolClass.objects.select_related("academic_year").get(pk=change.to_class_id)
    year = academic_start_year(on)
    if chosen.academic_year.start_year != year or chosen.grade != placement.grade:
        found = SchoolClass.objects.filter(
            school_id=placement.school_id,
            academic_year__start_year=year,
            grade=placement.grade,
            number=chosen.number,
        ).first()
        if found is None:
            raise Conflict(
                "no_class", _("The class chosen no longer exists this year; file the change again.")
            )
        chosen = found
    if chosen.pk == placement.school_class_id:
        raise Conflict("same_class", _("The student is already in this class."))
    return chosen


def _apply(change: ChangeRequest, *, actor: Any, on: datetime.date) -> None:
    """The effect of a completed change on the record, in the approval's transaction: the
    students app moves it (xueji.students.record), this decides where to."""
    student = Student.objects.select_for_update().get(pk=change.student_id)
    placement = open_placement_locked(student.pk)
    if placement is None or placement.start_date > on:
        raise Conflict(
            "record_moved", _("The record has no current placement to change; reject the request.")
        )
    detail: dict[str, Any] = {"change": str(change.pk)}
    event = EVENT_OF[change.kind]
    if change.kind in (ChangeKind.TRANSFER, ChangeKind.CLASS_CHANGE):
        if change.kind == ChangeKind.TRANSFER:
            if placement.school_id != change.from_school_id:
                raise Conflict(
                    "record_moved",
                    _("The record is no longer at the sending school; reject the request."),
                )
            target = _target_class(change, on)
            reason = PlacementReason.TRANSFER
        else:
            target = _class_change_target(change, placement, on)
            reason = PlacementReason.CLASS_CHANGE
        detail.update(
            {"from_school": placement.school_id, "to_school": target.school_id, "class": target.pk}
        )
        record_move(
            actor=actor,
            student=student,
            placement=placement,
            to_class=target,
            on=on,
            reason=reason,
            event=event,
            state=NEW_STATE.get(change.kind),
            detail=detail,
        )
    elif change.kind in CLOSING_KINDS:
        detail["school"] = placement.school_id
        record_leave(
            actor=actor,
            student=student,
            placement=placement,
            on=on,
            state=NEW_STATE[change.kind],
            event=event,
            detail=detail,
        )
    else:
        record_state_set(
            actor=actor,
            student=student,
            state=NEW_STATE.get(change.kind, RecordState(student.state)),
            on=on,
            event=event,
            detail=detail,
        )


def _restore_after_stop(change: ChangeRequest) -> None:
    """A transfer that will not happen: the record is enrolled at the sender again."""
    if change.kind == ChangeKind.TRANSFER:
        record_state_restore(
            student_ids=[change.student_id], was=RecordState.TRANSFERRING, to=RecordState.ENROLLED
        )


def _locked_change(change_id: Any, scope: Scope | None) -> ChangeRequest:
    change = (
        ChangeRequest.objects.select_for_update(of=("self",))
        .filter(visible_q(scope), pk=change_id)
        .first()
        if scope is not None
        else None
    )
    if change is None:
        raise _no_such_change()
    return change


def change_decide(
    *,
    actor: Any,
    change_id: Any,
    approve: bool,
    reason: str = "",
    step_ordinal: int | None = None,
    on: datetime.date | None = None,
) -> ChangeRequest:
    """The party of the current step approves (the next party's turn, or the final approval
    with its effect) or rejects with a reason."""
    on = _today(on)
    scope = scope_of(actor)
    reason = (reason or "").strip()
    with transaction.atomic():
        change = _locked_change(change_id, scope)
        steps = list(change.steps.order_by("ordinal"))
        current = next((s for s in steps if s.state == StepState.PENDING), None)
        if change.state != ChangeState.PENDING or current is None:
            transition(change.state, Event.APPROVE if approve else Event.REJECT)
            raise InvalidTransition("invalid_transition", _("The request is not waiting."))
        if step_ordinal is not None and int(step_ordinal) != current.ordinal:
            raise Conflict(
                "step_decided", _("This step has already been decided; reload the request.")
            )
        if not policy.may_decide(
            scope,
            level=current.level,
            school_id=current.school_id,
            division_code=current.division_id,
        ):
            raise Conflict(
                "not_your_step",
                _("The request is waiting for another party, not for you."),
            )
        if not approve and not reason:
            raise _field_error("reason", _("Give the reason for the rejection."), "required")
        # 转入在先: the sender releases only after every receiving party has accepted.
        if (
            approve
            and current.level == PartyLevel.SCHOOL
            and current.side == Side.SENDER
            and any(s.side == Side.RECEIVER and s.state != StepState.APPROVED for s in steps)
        ):
            raise Conflict(
                "sender_before_receiver",
                _("The receiving side has not accepted the student yet."),
            )
        current.decided_by = actor
        current.decided_at = timezone.now()
        current.reason = reason
        if approve:
            current.state = StepState.APPROVED
            current.save(update_fields=["state", "decided_by", "decided_at", "reason"])
            _advance(change, steps, actor=actor, scope=scope, on=on, decided=current)
            return change
        from_state = change.state
        change.state = transition(change.state, Event.REJECT, change.kind)
        current.state = StepState.REJECTED
        current.save(update_fields=["state", "decided_by", "decided_at", "reason"])
        ApprovalStep.objects.filter(request=change, state=StepState.WAITING).update(
            state=StepState.CANCELLED
        )
        change.save(update_fields=["state", "updated_at"])
        _restore_after_stop(change)
        _log(
            change,
            event=Event.REJECT,
            from_state=from_state,
            actor=actor,
            scope=scope,
            note=reason,
            ordinal=current.ordinal,
        )
    return change


def change_withdraw(
    *, actor: Any, change_id: Any, reason: str = "", on: datetime.date | None = None
) -> ChangeRequest:
    """The applicant school takes back a request not yet decided (held or pending)."""
    scope = scope_of(actor)
    reason = (reason or "").strip()
    with transaction.atomic():
        change = _locked_change(change_id, scope)
        if not policy.may_withdraw(scope, applicant_school_id(change)):
            raise PermissionRefused(
                "forbidden", _("Only the school that filed it may withdraw it.")
            )
        from_state = change.state
        change.state = transition(change.state, Event.WITHDRAW, change.kind)
        ApprovalStep.objects.filter(
            request=change, state__in=[StepState.WAITING, StepState.PENDING]
        ).update(state=StepState.CANCELLED)
        change.save(update_fields=["state", "updated_at"])
        _restore_after_stop(change)
        _log(
            change,
            event=Event.WITHDRAW,
            from_state=from_state,
            actor=actor,
            scope=scope,
            note=reason,
        )
    return change


# ---- the tick: held requests, overdue steps ------------------------------------------------------


def _release_one(change: ChangeRequest, on: datetime.date) -> bool:
    provinces = [p for p in (change.from_school.province_id,) if p]
    if change.to_school_id is not None:
        provinces.append(change.to_school.province_id)  # type: ignore[union-attr]
    still = reopens_on(on, periods_for(change.kind, provinces))
    if still is not None:
        # The period was extended since the request was filed: wait on, visibly.
        if still != change.resumes_on:
            change.resumes_on = still
            change.save(update_fields=["resumes_on", "updated_at"])
        return False
    from_state = change.state
    change.state = transition(change.state, Event.RELEASE, change.kind)
    change.save(update_fields=["state", "updated_at"])
    _log(change, event=Event.RELEASE, from_state=from_state, actor=None, scope=None)
    steps = list(change.steps.order_by("ordinal"))
    _advance(change, steps, actor=None, scope=None, on=on, decided=None)
    return True


def changes_release_held(
    *,
    on: datetime.date | None = None,
    batch_size: int = 200,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Release the held requests whose closed period has ended: each proceeds from its next
    step, due 10 working days from today. Safe to run twice or concurrently: rows another run
    holds are skipped, a released request is no longer HELD."""
    on = _today(on)
    released = 0
    seen: set[Any] = set()
    while True:
        with transaction.atomic():
            batch = list(
                ChangeRequest.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("from_school", "to_school")
                .filter(state=ChangeState.HELD, resumes_on__lte=on)
                .exclude(pk__in=seen)
                .order_by("resumes_on", "pk")[:batch_size]
            )
            if not batch:
                break
            for change in batch:
                seen.add(change.pk)
                try:
                    with transaction.atomic():
                        released += _release_one(change, on)
                except Conflict:
                    # The effect of a one-step chain cannot apply today (e.g. no class to
                    # move into): it stays held, tried again tomorrow, until withdrawn.
                    ChangeRequest.objects.filter(pk=change.pk).update(
                        resumes_on=on + datetime.timedelta(days=1)
                    )
        if progress is not None:
            progress(released)
    return released


def changes_flag_overdue(
    *,
    on: datetime.date | None = None,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Flag the steps past their deadline to the level above (once each)."""
    on = _today(on)
    flagged = 0
    while True:
        with transaction.atomic():
            batch = list(
                ApprovalStep.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("request", "school", "division")
                .filter(state=StepState.PENDING, due_on__lt=on, overdue_flagged_at__isnull=True)
                .order_by("due_on", "pk")[:batch_size]
            )
            if not batch:
                break
            now = timezone.now()
            for step in batch:
                level, code = level_above(
                    step.level,
                    school_county=step.school.county_id if step.school else None,
                    division_parent=step.division.parent_id if step.division else None,
                )
                step.overdue_flagged_at = now
                step.escalated_to_level = level
                step.escalated_to_division_id = code or None
                audit_record(
                    actor=None,
                    action="change.overdue",
                    object_type="student",
                    object_id=step.request.student_id,
                    detail={
                        "change": str(step.request_id),
                        "step": step.ordinal,
                        "due_on": step.due_on.isoformat() if step.due_on else "",
                        "escalated_to": code or "nation",
                    },
                )
            ApprovalStep.objects.bulk_update(
                batch, ["overdue_flagged_at", "escalated_to_level", "escalated_to_division"]
            )
            flagged += len(batch)
        if progress is not None:
            progress(flagged)
    return flagged


# ---- closed periods ----------------------------------------------------------------------------


def _month_day(field: str, text: str) -> tuple[int, int]:
    try:
        month, day = (int(part) for part in (text or "").strip().split("-"))
        datetime.date(2024, month, day)  # a leap year: 02-29 is a valid yearly date
    except ValueError:
        raise _field_error(field, _("Give a date as MM-DD."), "invalid_date") from None
    return month, day


def change_window_add(
    *, actor: Any, kind: str, start: str, end: str, note: str = ""
) -> ChangeWindow:
    """A closed period of a kind of change, yearly, for the actor's province or the nation."""
    scope = require(actor, Action.CHANGE_WINDOW_MANAGE)
    if kind not in ChangeKind.values:
        raise _field_error("kind", _("Choose a kind of change."), "unknown")
    (start_month, start_day), (end_month, end_day) = (
        _month_day("start", start),
        _month_day("end", end),
    )
    division = None
    if scope.level == ScopeLevel.PROVINCE:
        division = Division.objects.get(pk=scope.division_code)
    elif scope.level != ScopeLevel.NATION:
        raise PermissionRefused("forbidden", _("Your role does not allow this."))
    with transaction.atomic():
        window = ChangeWindow.objects.create(
            kind=kind,
            division=division,
            start_month=start_month,
            start_day=start_day,
            end_month=end_month,
            end_day=end_day,
            note=(note or "").strip()[:200],
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="change.window_add",
            object_type="change_window",
            detail={"window": window.pk, "kind": kind, "from": start, "to": end},
        )
    return window


def change_window_remove(*, actor: Any, window_id: Any, on: datetime.date | None = None) -> None:
    """Remove a closed period of the actor's province (or a national one, for the ministry).
    Requests held by it proceed on the next tick."""
    on = _today(on)
    scope = require(actor, Action.CHANGE_WINDOW_MANAGE)
    with transaction.atomic():
        window = (
            ChangeWindow.objects.select_for_update(of=("self",))
            .order_by("pk")
            .filter(
                pk=_as_id(window_id),
                **(
                    {"division__isnull": True}
                    if scope.level == ScopeLevel.NATION
                    else {"division_id": scope.division_code}
                ),
            )
            .first()
        )
        if window is None:
            raise NotFound("window_not_found", _("No such closed period."))
        detail = {"window": window.pk, "kind": window.kind}
        window.delete()
        # Held requests of the kind may now be open: bring their date forward to today so
        # that the next tick reconsiders them (it re-checks every remaining period).
        ChangeRequest.objects.filter(
            state=ChangeState.HELD, kind=detail["kind"], resumes_on__gt=on
        ).update(resumes_on=on)
        audit_record(
            actor=actor, action="change.window_remove", object_type="change_window", detail=detail
        )


# ---- evidence ----------------------------------------------------------------------------------


def change_evidence_open(
    *, actor: Any, change_id: Any, evidence_id: Any
) -> tuple[ChangeEvidence, bytes]:
    """The content of an evidence file, for a party who may see the request; audited."""
    scope = scope_of(actor)
    with transaction.atomic():
        evidence = (
            ChangeEvidence.objects.select_related("request")
            .filter(
                pk=evidence_id,
                request_id=change_id,
                request__in=ChangeRequest.objects.filter(visible_q(scope)),
            )
            .first()
            if scope is not None
            else None
        )
        if evidence is None or not may(scope, Action.CHANGE_EVIDENCE_VIEW):
            raise NotFound("evidence_not_found", _("No such evidence file."))
        content = unseal_evidence(evidence.sealed)
        audit_record(
            actor=actor,
            action="change.evidence_open",
            object_type="student",
            object_id=evidence.request.student_id,
            detail={"change": str(change_id), "sha256": evidence.sha256},
        )
    return evidence, content


# ---- deferred changes: 留级 and 跳级 applied (and taken back) by the year end -------------------


def _deferred_move(
    *,
    students: str,
    params: Mapping[str, Any],
    source: ChangeState,
    event: Event,
    actor: Any,
    note: str,
    done: tuple[str, str],
) -> int:
    """Move the requests of the deferred kinds in state `source` of the students `students`
    (a SELECT of student ids) by `event`, the target found by the workflow's own transition
    (per kind, so never spelled here); a ChangeLog row per request, first, by INSERT … SELECT.
    `done` is the (completed_at, effective_date) SQL the move sets. Returns how many moved."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("deferred changes move inside the caller's transaction")
    d = dialect()
    request_table = ChangeRequest._meta.db_table
    log_table = ChangeLog._meta.db_table
    by_target: dict[ChangeState, list[str]] = {}
    for kind in DEFERRED_KINDS:
        by_target.setdefault(transition(source, event, kind), []).append(kind.value)
    moved = 0
    with connection.cursor() as cursor:
        for target, kinds in by_target.items():
            values = {
                **params,
                "deferred_source": source.value,
                "deferred_target": target.value,
                "deferred_event": event.value,
                "deferred_actor": getattr(actor, "pk", actor),
                "deferred_note": note,
                "deferred_now": d.now(),
                **{f"deferred_kind_{n}": kind for n, kind in enumerate(kinds)},
            }
            kind_list = ", ".join(f"%(deferred_kind_{n})s" for n in range(len(kinds)))
            which = (
                f"state = %(deferred_source)s AND kind IN ({kind_list}) "
                f"AND student_id IN ({students})"
            )
            cursor.execute(
                f"""INSERT INTO {log_table} (request_id, event, from_state, to_state,
                    step_ordinal, actor_id, actor_role, note, at)
                SELECT id, %(deferred_event)s, %(deferred_source)s, %(deferred_target)s, NULL,
                    %(deferred_actor)s, '', %(deferred_note)s, %(deferred_now)s
                FROM {request_table} WHERE {which}""",
                values,
            )
            cursor.execute(
                f"""UPDATE {request_table} SET state = %(deferred_target)s,
                    completed_at = {done[0]}, effective_date = {done[1]},
                    updated_at = %(deferred_now)s
                WHERE {which}""",
                values,
            )
            moved += cursor.rowcount
    return moved


def deferred_changes_apply(
    *,
    students: str,
    params: Mapping[str, Any],
    on: datetime.date,
    actor: Any,
    note: str = "",
) -> int:
    """The approved 留级 and 跳级 of the students `students` (a SQL SELECT of student ids, with
    its `params`) are done by the promotion that moved them on `on`: each request takes the
    workflow's APPLY step (approved → completed), effective on `on`, with its ChangeLog row.
    Set-based (a fixed handful of statements), inside the caller's transaction; `actor` is the
    user (or user id, or None) who ran the promotion. Returns how many requests completed."""
    d = dialect()
    return _deferred_move(
        students=students,
        params={**params, "deferred_day": d.date(on)},
        source=ChangeState.APPROVED,
        event=Event.APPLY,
        actor=actor,
        note=note,
        done=("%(deferred_now)s", "%(deferred_day)s"),
    )


def deferred_changes_reopen(
    *, students: str, params: Mapping[str, Any], actor: Any, note: str = ""
) -> int:
    """A reversed promotion takes back what it applied: the completed 留级 and 跳级 of the
    students `students` (a SQL SELECT of student ids) are approved again, waiting for the next
    promotion (the workflow's REOPEN step, logged), their completion and effective date
    cleared. Set-based, inside the caller's transaction. Returns how many reopened."""
    return _deferred_move(
        students=students,
        params=params,
        source=ChangeState.COMPLETED,
        event=Event.REOPEN,
        actor=actor,
        note=note,
        done=("NULL", "NULL"),
    )
