"""Filing a request: a transfer by the receiving school (found by number and name), any other
change by the student's school. One transaction each: the student locked, the request inserted
(HELD in a closed period, else PENDING at its second step), its chain, its evidence, its log."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from xueji.access.lookups import LookupKind, LookupOutcome, lookup_answer
from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import PermissionRefused, Scope, require
from xueji.changes import policy
from xueji.changes.kinds import FILED_BY_RECEIVER, SPECS, spec_of
from xueji.changes.models import ACTIVE_STATES, ChangeKind, ChangeRequest, Initiator
from xueji.changes.selectors import locate_for_transfer
from xueji.changes.services.chain import advance, create_steps
from xueji.changes.services.common import (
    as_id,
    change_active,
    day_of,
    dropout_in_compulsory_education,
    field_error,
    log_step,
    no_such_student,
)
from xueji.changes.services.evidence import attach_files, check_files
from xueji.changes.windows import periods_for, province_rules, reopens_on
from xueji.changes.workflow import Event, transition
from xueji.core.errors import Conflict, FieldErrors, NotFound, ServiceError
from xueji.core.idnumbers import mask_student_number, normalize
from xueji.corrections.evidence import CheckedFile, Upload
from xueji.schools.models import School, SchoolClass, academic_start_year
from xueji.schools.services import academic_year_ensure
from xueji.students.models import Placement, RecordState, Student
from xueji.students.record import record_state_set

# The record states from which a change of each kind may be filed (xueji.changes.kinds).
FROM_STATES: dict[str, tuple[str, ...]] = {kind: spec.from_states for kind, spec in SPECS.items()}


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
        raise change_active() from None


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
    suspension: tuple[datetime.date | None, datetime.date | None] = (None, None),
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
        suspended_from=suspension[0],
        suspended_until=suspension[1],
        academic_year=academic_year_ensure(actor=actor, start_year=academic_start_year(on)),
        reason=reason,
        resumes_on=resumes,
        filed_by=actor,
        filed_on=on,
    )
    _insert(change)
    steps = create_steps(change, actor=actor, sender=sender, receiver=receiver)
    attach_files(change, files, actor)
    pending_state = spec_of(kind).pending_state
    if pending_state is not None:
        # 转学中: shown on both sides, still counted at the sender (its placement stays open).
        record_state_set(actor=actor, student=student, state=pending_state)
    log_step(
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
        advance(change, steps, actor=actor, scope=scope, on=on, decided=None)
    return change


def _require_reason(reason: str, problems: dict[str, list[ValidationError]]) -> str:
    reason = (reason or "").strip()
    if not reason:
        problems["reason"] = [ValidationError(_("Give the reason for the change."), "required")]
    return reason


def _suspension_days(
    kind: str,
    first: datetime.date | None,
    last: datetime.date | None,
    on: datetime.date,
    problems: dict[str, list[ValidationError]],
) -> tuple[datetime.date | None, datetime.date | None]:
    """The days of a suspension (from the filing day unless given), checked; any other kind
    has none."""
    if kind != ChangeKind.SUSPEND:
        for name, value in (("suspended_from", first), ("suspended_until", last)):
            if value is not None:
                problems[name] = [
                    ValidationError(_("Only a suspension has these dates."), "not_a_suspension")
                ]
        return None, None
    first = first or on
    if last is not None and last <= first:
        problems["suspended_until"] = [
            ValidationError(
                _("The last day of the suspension comes after its first day (%(first)s)."),
                "suspension_days_order",
                params={"first": first.isoformat()},
            )
        ]
    elif last is not None and last < on:
        problems["suspended_until"] = [
            ValidationError(
                _("This suspension would already be over: give a last day from today on."),
                "suspension_over",
            )
        ]
    return first, last


def _check_transfer_rules(
    placement: Placement, sender: School, to_class: SchoolClass, on: datetime.date
) -> None:
    receiver = to_class.school
    placement_year = academic_start_year(on)
    if sender.pk == receiver.pk:
        raise Conflict("same_school", _("The student is already at this school."))
    for province in {sender.province_id, receiver.province_id}:
        rules = province_rules(province)
        if rules.no_transfer_in_graduating_grade and placement.grade == sender.last_grade:
            raise Conflict(
                "graduating_grade",
                _("The province does not allow transfers in the graduating grade."),
            )
        # A class of next year is compared with the grade the student will then be in.
        expected = placement.grade + (to_class.academic_year.start_year - placement_year)
        if rules.same_grade_only and to_class.grade != expected:
            raise field_error(
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
    on = day_of(on)
    scope = require(actor, Action.CHANGE_FILE)
    if scope.level != ScopeLevel.SCHOOL or scope.school_id is None:
        raise PermissionRefused("forbidden", _("Your role does not allow this."))
    problems: dict[str, list[ValidationError]] = {}
    reason = _require_reason(reason, problems)
    files = check_files(
        ChangeKind.TRANSFER, Initiator.GUARDIAN, guardian_request, evidence, problems
    )
    to_class = (
        SchoolClass.objects.select_related("school", "academic_year")
        .filter(
            pk=as_id(to_class_id),
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
    # The form's problems first: whether a child has this number and name is answered only to
    # a filing that would otherwise go through (and is then audited, as a refusal or a filing),
    # never to one sent with a made-up class to ask (the look-up is audited and limited).
    if problems:
        raise FieldErrors(problems)
    found = locate_for_transfer(student_number=student_number, name=name)
    if found is None:
        # "No such child" answers the transfer's look-up as much as its page does: counted
        # alike, so that beyond the limit a filing tells nothing (429 whether a child exists).
        _filing_answered(actor, student_number, LookupOutcome.NOT_FOUND)
        raise no_such_student()
    assert to_class is not None
    try:
        with transaction.atomic():
            student = Student.objects.select_for_update().get(pk=found.pk)
            if student.changes.filter(state__in=ACTIVE_STATES).exists():
                raise change_active()
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
    except ServiceError as refused:
        # A refusal of a complete filing tells that a child of this number and name exists
        # (suspended, in a change, not on roll, in the graduating grade ...): a look-up of a
        # child of another school, counted and audited once the filing has rolled back, and
        # withheld (429) beyond the hour's limit. A child of the registrar's own school is none.
        if found.school_id != scope.school_id:
            _filing_answered(
                actor, student_number, LookupOutcome.REFUSED, student=found, refusal=refused.code
            )
        raise


def _filing_answered(
    actor: Any,
    student_number: str,
    outcome: LookupOutcome,
    *,
    student: Student | None = None,
    refusal: str = "",
) -> None:
    """Count a transfer filing's answer about a child as a look-up (xueji.access.lookups);
    raises LookupLimitReached (429) when the actor's look-ups of the hour are used up."""
    lookup_answer(
        actor=actor,
        kind=LookupKind.TRANSFER_FILING,
        outcome=outcome,
        object_id=None if student is None else student.pk,
        detail={
            "student_number": mask_student_number(normalize(student_number or "")),
            **({"refusal": refusal} if refusal else {}),
        },
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
    suspended_from: datetime.date | None = None,
    suspended_until: datetime.date | None = None,
    on: datetime.date | None = None,
) -> ChangeRequest:
    """The registrar of the student's school files a change other than a transfer. A
    suspension gives its days (from the filing day unless another first day is given; the last
    day, if known); 辍学 is refused in compulsory education (the county follows a child who
    stopped coming, 控辍保学)."""
    on = day_of(on)
    scope = require(actor, Action.CHANGE_FILE)
    if kind in FILED_BY_RECEIVER:
        raise field_error("kind", _("A transfer is filed by the receiving school."), "use_transfer")
    if kind not in ChangeKind.values:
        raise field_error("kind", _("Choose a kind of change."), "unknown")
    if initiator not in Initiator.values:
        raise field_error("initiator", _("Say whose decision the change is."), "unknown")
    with transaction.atomic():
        student = Student.objects.select_for_update().filter(pk=student_id).first()
        if student is None or not policy.may_file(scope, student.school_id):
            raise NotFound("student_not_found", _("No such student."))
        if student.changes.filter(state__in=ACTIVE_STATES).exists():
            raise change_active()
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
        if not policy.school_may_file_kind(kind, placement.grade):
            problems["kind"] = [dropout_in_compulsory_education()]
        reason = _require_reason(reason, problems)
        days = _suspension_days(kind, suspended_from, suspended_until, on, problems)
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
        files = check_files(kind, initiator, guardian_request, evidence, problems)
        to_class = None
        if kind == ChangeKind.CLASS_CHANGE:
            to_class = (
                SchoolClass.objects.filter(
                    pk=as_id(to_class_id),
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
            suspension=days,
        )
