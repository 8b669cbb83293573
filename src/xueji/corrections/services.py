"""Writes of key-data corrections (关键数据变更). Each service runs in one transaction, locks the
request (select_for_update) before moving it, moves it only along xueji.corrections.workflow,
and asks the permission matrix for the action the step needs. On the county's approval the
record is changed in the same transaction, with a record event and an audit entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.policy import Action
from xueji.access.scope import (
    PermissionRefused,
    Scope,
    area_q,
    may,
    may_at_school,
    require,
    scope_of,
    students_visible,
)
from xueji.audit.services import audit_record
from xueji.core import codes
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.core.idnumbers import g_number, mask_id_number
from xueji.corrections import basic
from xueji.corrections.evidence import MAX_FILES, CheckedFile, Upload, check_upload
from xueji.corrections.evidence import seal as seal_evidence
from xueji.corrections.evidence import unseal as unseal_evidence
from xueji.corrections.models import CorrectionRequest, CorrectionStep, Evidence
from xueji.corrections.selectors import may_take_step
from xueji.corrections.signals import key_data_corrected
from xueji.corrections.workflow import Event, InvalidTransition, State, transition
from xueji.students.identity import (
    STUDENT_ID_NUMBER,
    document_fields,
    document_indexes,
    student_number_fields,
)
from xueji.students.models import (
    EventKind,
    NumberKind,
    Student,
    StudentNumberAlias,
)
from xueji.students.pinyin import name_initials, name_pinyin
from xueji.students.record import record_event_append
from xueji.students.services import validate_changes


def _no_such_request() -> NotFound:
    return NotFound("correction_not_found", _("No such correction request."))


def _no_such_student() -> NotFound:
    return NotFound("student_not_found", _("No such student."))


def _field_error(field: str, message: Any, code: str) -> FieldErrors:
    return FieldErrors({field: [ValidationError(message, code=code)]})


def _record_step(
    correction: CorrectionRequest,
    *,
    event: str,
    from_state: str,
    actor: Any,
    scope: Scope,
    note: str = "",
) -> None:
    CorrectionStep.objects.create(
        correction=correction,
        event=event,
        from_state=from_state,
        to_state=correction.state,
        actor=actor,
        actor_role=scope.role,
        note=note,
    )


def _save_new(correction: CorrectionRequest) -> None:
    try:
        with transaction.atomic():
            correction.save(force_insert=True)
    except IntegrityError:
        raise Conflict(
            "correction_open",
            _("A correction request for this student is already under way."),
        ) from None


# ---- the class teacher reports ---------------------------------------------------------------


def correction_report(*, actor: Any, student_id: Any, note: str) -> CorrectionRequest:
    """A class teacher reports an error in a record of own class (window open): a request for
    the registrar, who checks it and submits the change with evidence, or dismisses it."""
    step = transition(None, Event.REPORT)
    scope = require(actor, step.action)
    note = (note or "").strip()
    with transaction.atomic():
        student = (
            Student.objects.select_for_update()
            .filter(students_visible(scope, Action.CLASS_VERIFY), pk=student_id)
            .first()
        )
        if student is None:
            raise _no_such_student()
        if not note:
            raise _field_error("note", _("Say what is wrong in the record."), "required")
        correction = CorrectionRequest(
            student=student,
            school_id=student.school_id,
            state=step.target,
            report_note=note,
            created_by=actor,
        )
        _save_new(correction)
        _record_step(
            correction, event=Event.REPORT, from_state="", actor=actor, scope=scope, note=note
        )
        audit_record(
            actor=actor,
            action="correction.report",
            object_type="student",
            object_id=student.pk,
            detail={"correction": str(correction.pk)},
        )
    return correction


# ---- the registrar submits with evidence -----------------------------------------------------


def _requested_changes(student: Student, requested: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The fields that really change, as {field: {"before": text, "after": text}}, checked with
    the rules of registration and of the student number."""
    unknown = sorted(set(requested) - set(basic.BY_NAME))
    if unknown:
        raise _field_error(
            "__all__",
            _("Only basic information is changed by a correction request."),
            "not_basic_information",
        )
    current = basic.current_values(student)
    after = {
        name: basic.text_of(value)
        for name, value in requested.items()
        if basic.text_of(value) != current[name]
    }
    if not after:
        raise _field_error(
            "__all__",
            _("Nothing would change: give the correct value of at least one field."),
            "no_change",
        )
    validated = validate_changes(student, {name: basic.typed(name, v) for name, v in after.items()})
    # Normalised values (e.g. an ID number in capitals) are the ones kept.
    after = {name: basic.text_of(getattr(validated, name)) for name in after}
    new_document = after.get("id_doc_type", student.id_doc_type)
    if student.number_kind == NumberKind.G and new_document != codes.IdDocType.RESIDENT_ID:
        raise _field_error(
            "id_doc_type",
            _("The formal (G) student number comes from a resident ID: the document stays one."),
            "g_number_needs_resident_id",
        )
    if student.number_kind != NumberKind.G and new_document == codes.IdDocType.RESIDENT_ID:
        raise _field_error(
            "id_doc_type",
            _("A child who now has a resident ID gets the formal number by the G conversion."),
            "use_g_conversion",
        )
    return {name: {"before": current[name], "after": value} for name, value in after.items()}


def _check_evidence(uploads: Sequence[Upload]) -> tuple[list[CheckedFile], list[ValidationError]]:
    errors: list[ValidationError] = []
    checked = []
    if not uploads:
        errors.append(
            ValidationError(
                _("Attach the evidence: a scan or photo of the document (JPG, PNG or PDF)."),
                code="required",
            )
        )
    elif len(uploads) > MAX_FILES:
        errors.append(
            ValidationError(
                _("Attach at most %(max)d files."), code="too_many", params={"max": MAX_FILES}
            )
        )
    else:
        for upload in uploads:
            try:
                checked.append(check_upload(upload))
            except ValidationError as error:
                errors.extend(error.error_list)
    return checked, errors


def _attach_evidence(
    correction: CorrectionRequest, files: Sequence[CheckedFile], actor: Any
) -> list[Evidence]:
    return [
        Evidence.objects.create(
            correction=correction,
            file_name=item.file_name,
            content_type=item.content_type,
            size=item.size,
            sha256=item.sha256,
            sealed=seal_evidence(item.content),
            uploaded_by=actor,
        )
        for item in files
    ]


def correction_submit(
    *,
    actor: Any,
    changes: dict[str, Any],
    reason: str,
    evidence: Sequence[Upload],
    student_id: Any = None,
    correction_id: Any = None,
) -> CorrectionRequest:
    """The registrar asks for a change of basic information, with evidence: a new request for
    a student of the school, or the completion of a request a class teacher reported."""
    scope = require(actor, Action.CORRECTION_REQUEST)
    reason = (reason or "").strip()
    problems: dict[str, list[ValidationError]] = {}
    if not reason:
        problems["reason"] = [
            ValidationError(_("Explain the correction and the evidence."), code="required")
        ]
    checked, evidence_errors = _check_evidence(evidence)
    if evidence_errors:
        problems["evidence"] = evidence_errors
    with transaction.atomic():
        if correction_id is not None:
            correction = (
                CorrectionRequest.objects.select_for_update()
                .select_related("school")
                .filter(area_q(scope, "school__"), pk=correction_id)
                .first()
            )
            if correction is None or not may_take_step(
                scope, Action.CORRECTION_REQUEST, correction
            ):
                raise _no_such_request()
            step = transition(correction.state, Event.SUBMIT)
            student = Student.objects.select_for_update().get(pk=correction.student_id)
            from_state = correction.state
        else:
            step = transition(None, Event.SUBMIT)
            found = (
                Student.objects.select_for_update()
                .filter(students_visible(scope, Action.STUDENT_VIEW), pk=student_id)
                .first()
            )
            if found is None or not may_at_school(
                scope, Action.CORRECTION_REQUEST, found.school_id
            ):
                raise _no_such_student()
            student = found
            correction = CorrectionRequest(
                student=student, school_id=student.school_id, created_by=actor
            )
            from_state = ""
        try:
            requested = _requested_changes(student, changes)
        except FieldErrors as errors:
            problems = {**errors.errors, **problems}
        if problems:
            raise FieldErrors(problems)
        correction.changes = {
            name: {"before": basic.seal(name, c["before"]), "after": basic.seal(name, c["after"])}
            for name, c in requested.items()
        }
        correction.reason = reason
        correction.state = step.target
        if from_state:
            correction.save(update_fields=["changes", "reason", "state", "updated_at"])
        else:
            _save_new(correction)
        files = _attach_evidence(correction, checked, actor)
        _record_step(
            correction, event=Event.SUBMIT, from_state=from_state, actor=actor, scope=scope
        )
        audit_record(
            actor=actor,
            action="correction.submit",
            object_type="student",
            object_id=student.pk,
            detail={
                "correction": str(correction.pk),
                "evidence": [{"sha256": f.sha256, "size": f.size} for f in files],
            },
            before={name: basic.shown(name, c["before"]) for name, c in correction.changes.items()},
            after={name: basic.shown(name, c["after"]) for name, c in correction.changes.items()},
        )
    return correction


# ---- decisions -------------------------------------------------------------------------------


def _apply(correction: CorrectionRequest, actor: Any) -> dict[str, tuple[str, str]]:
    """Change the record as approved; refused if it changed since the request was made."""
    student = Student.objects.select_for_update().get(pk=correction.student_id)
    current = basic.current_values(student)
    plain = {
        name: (basic.unseal(name, c["before"]), basic.unseal(name, c["after"]))
        for name, c in correction.changes.items()
    }
    if any(current[name] != before for name, (before, _after) in plain.items()):
        raise Conflict(
            "record_changed",
            _("The record has changed since the request was made; reject it and ask again."),
        )
    validated = validate_changes(
        student, {name: basic.typed(name, after) for name, (_b, after) in plain.items()}
    )
    updated: list[str] = []
    for name in plain:
        value = getattr(validated, name)
        if name.endswith("_code") and not value:
            value = None  # a division left out
        attribute = basic.BY_NAME[name].attribute
        if attribute == "id_number":
            sealed = document_fields(validated.id_doc_type, value, context=STUDENT_ID_NUMBER)
            for field, field_value in sealed.items():
                setattr(student, field, field_value)
            updated += list(sealed)
            continue
        setattr(student, attribute, value)
        updated.append(attribute)
    if "name" in plain:
        student.name_pinyin = name_pinyin(student.name)
        student.name_initials = name_initials(student.name)
        updated += ["name_pinyin", "name_initials"]
    if "id_number" in plain and student.number_kind == NumberKind.G:
        # The G number is the resident ID: it follows the corrected ID, the old one keeps
        # resolving to the same record.
        new_id = student.reveal_id_number()
        clash = (
            Student.objects.filter(
                id_doc_type=codes.IdDocType.RESIDENT_ID,
                id_number_index__in=document_indexes(codes.IdDocType.RESIDENT_ID, new_id),
            )
            .exclude(pk=student.pk)
            .exists()
        )
        if clash:
            raise Conflict(
                "id_number_registered",
                _("The corrected ID number is already registered to another record."),
            )
        StudentNumberAlias.objects.create(
            number_index=student.number_index,
            number_sealed=student.number_sealed,
            number_masked=student.number_masked,
            kind=NumberKind.G,
            student=student,
        )
        new_number = student_number_fields(g_number(new_id))
        for field, field_value in new_number.items():
            setattr(student, field, field_value)
        updated += list(new_number)
    try:
        with transaction.atomic():
            student.save(update_fields=[*updated, "updated_at"])
    except IntegrityError:
        raise Conflict(
            "id_number_registered",
            _("The corrected ID number is already registered to another record."),
        ) from None
    record_event_append(
        student=student,
        kind=EventKind.KEY_DATA_CORRECTED,
        on=timezone.localdate(),
        actor=actor,
        detail={
            "key_data_corrected": True,
            "correction": str(correction.pk),
            "fields": sorted(plain),
        },
    )
    key_data_corrected.send(
        sender=CorrectionRequest,
        student_id=student.pk,
        correction_id=correction.pk,
        fields=sorted(plain),
        actor=actor,
    )
    return plain


def _decide(
    *, actor: Any, correction_id: Any, event: str, note: str, expected_action: str
) -> CorrectionRequest:
    scope = scope_of(actor)
    note = (note or "").strip()
    with transaction.atomic():
        correction = (
            CorrectionRequest.objects.select_for_update()
            .select_related("school")
            .filter(area_q(scope, "school__"), pk=correction_id)
            .first()
        )
        if correction is None or not may(scope, Action.CORRECTION_VIEW):
            raise _no_such_request()
        if scope is None or not may(scope, expected_action):
            raise PermissionRefused("forbidden", _("Your role does not allow this."))
        step = transition(correction.state, event)
        if step.action != expected_action:
            raise InvalidTransition(
                "not_your_step",
                _("This request is not waiting for this decision: it is “%(state)s”.")
                % {"state": State(correction.state).label},
            )
        if not may_take_step(scope, step.action, correction):
            raise _no_such_request()
        if event in (Event.REJECT, Event.DISMISS) and not note:
            raise _field_error("note", _("Give the reason."), "required")
        from_state = correction.state
        applied: dict[str, tuple[str, str]] = {}
        if step.target == State.APPROVED:
            applied = _apply(correction, actor)
        correction.state = step.target
        correction.save(update_fields=["state", "updated_at"])
        _record_step(
            correction, event=event, from_state=from_state, actor=actor, scope=scope, note=note
        )
        if applied:
            audit_record(
                actor=actor,
                action="student.key_data_correct",
                object_type="student",
                object_id=correction.student_id,
                detail={"correction": str(correction.pk)},
                before={n: _masked(n, before) for n, (before, _a) in applied.items()},
                after={n: _masked(n, after) for n, (_b, after) in applied.items()},
            )
        else:
            audit_record(
                actor=actor,
                action=f"correction.{event}",
                object_type="student",
                object_id=correction.student_id,
                detail={"correction": str(correction.pk), "note": note},
                before={"state": from_state},
                after={"state": correction.state},
            )
    return correction


def _masked(name: str, value: str) -> str:
    return mask_id_number(value) if basic.BY_NAME[name].sensitive else value


def correction_school_decision(
    *, actor: Any, correction_id: Any, approve: bool, note: str = ""
) -> CorrectionRequest:
    """The principal approves (on to the county) or rejects a request of the school."""
    return _decide(
        actor=actor,
        correction_id=correction_id,
        event=Event.APPROVE if approve else Event.REJECT,
        note=note,
        expected_action=Action.CORRECTION_APPROVE_SCHOOL,
    )


def correction_county_decision(
    *, actor: Any, correction_id: Any, approve: bool, note: str = ""
) -> CorrectionRequest:
    """The county approver approves (the record changes now) or rejects a request."""
    return _decide(
        actor=actor,
        correction_id=correction_id,
        event=Event.APPROVE if approve else Event.REJECT,
        note=note,
        expected_action=Action.CORRECTION_APPROVE_COUNTY,
    )


def correction_dismiss(*, actor: Any, correction_id: Any, note: str) -> CorrectionRequest:
    """The registrar finds no error in what a class teacher reported."""
    return _decide(
        actor=actor,
        correction_id=correction_id,
        event=Event.DISMISS,
        note=note,
        expected_action=Action.CORRECTION_REQUEST,
    )


def correction_withdraw(*, actor: Any, correction_id: Any, note: str = "") -> CorrectionRequest:
    """The registrar takes back a request the principal has not decided yet."""
    return _decide(
        actor=actor,
        correction_id=correction_id,
        event=Event.WITHDRAW,
        note=note,
        expected_action=Action.CORRECTION_REQUEST,
    )


def evidence_open(*, actor: Any, correction_id: Any, evidence_id: Any) -> tuple[Evidence, bytes]:
    """The content of an evidence file, for someone who may see the request; each opening is
    audited (the documents carry the child's identity)."""
    scope = scope_of(actor)
    with transaction.atomic():
        evidence = (
            Evidence.objects.select_related("correction")
            .filter(
                pk=evidence_id,
                correction_id=correction_id,
                correction__in=CorrectionRequest.objects.filter(area_q(scope, "school__")),
            )
            .first()
        )
        if evidence is None or not may(scope, Action.CORRECTION_VIEW):
            raise NotFound("evidence_not_found", _("No such evidence file."))
        content = unseal_evidence(evidence.sealed)
        audit_record(
            actor=actor,
            action="correction.evidence_open",
            object_type="student",
            object_id=evidence.correction.student_id,
            detail={"correction": str(correction_id), "sha256": evidence.sha256},
        )
    return evidence, content
