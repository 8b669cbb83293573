"""Transfers between provinces across nodes (跨省转学).

The chain is the one of a transfer between provinces in one database (xueji.changes.workflow,
DOMAIN §5): receiving school (the filing) → receiving county → receiving province → sending
school → sending county → sending province. Here the receiving parties are on the receiving
node and the sending parties on the sending node; each node keeps a copy of the transfer and its
steps (`CrossTransfer`, `CrossStep`) and each decision is taken on the node of its party, in one
transaction with the audit entry and the message that tells the other node (the transactional
outbox: xueji.federation.messages). Messages go to the hub, which forwards them to the other
province on a stream of their own (`transfer:<id>:<province>`), so that they are applied there
once and in order (the inbox's keys), whatever fails in between.

Messages (topic → where it takes effect):
- `transfer.filed`    receiving → sending: find the record by the number the hub resolved and
  compare the name; the record is 转学中 from then; or `transfer.refused` goes back.
- `transfer.located`  sending → receiving: the sending school, county and grade.
- `transfer.refused`  sending → receiving: no such record here, another name, a change under way.
- `transfer.step`     either way: a party approved or rejected its step.
- `transfer.completed` sending → receiving (the final approval): the whole record, exported
  (`record_export`); the hub moves the number to the receiving province in its index, the
  receiving node creates the record and its placement (`record_import`). The sending node
  closed its placement on the transfer date (its past statistics and census stay), keeps the
  record read-only (left, 转出) and a tombstone that resolves the number to the new province.
- `transfer.received` receiving → sending: the record is safe on the receiving node (its
  import committed). Only then does the sending node remove its own personal rows of the child
  (family, growth record: xueji.students.release, audited); the placements up to the transfer
  date, the history, the tombstone and the audit trail stay.
- `transfer.withdraw` receiving → sending: the receiving school withdrew its filing
  (WITHDRAWING there). The sending node holds the record and settles the race: a withdrawal
  that arrives while its copy is pending ends it (WITHDRAWN, the record back to 在籍 once) and
  `transfer.withdrawn` goes back; any later decision there is refused, and the receiving side's
  later messages find the transfer closed. A withdrawal that arrives after the sending node has
  settled the transfer (the final approval, a rejection, a refusal) is ignored, audited: the
  message that settled it is already on its way to the receiving node, ahead of any reply, and
  is applied there whatever the WITHDRAWING state (the record that left is imported: it is never
  lost nor left 转学中).
- `transfer.withdrawn` sending → receiving: the withdrawal took effect (WITHDRAWN).

The filing's documents (the guardian's written request and supporting documents, checked as a
transfer's in one database) travel in `transfer.filed`, sealed as they are stored (AES-GCM under
the keys every node shares) and bounded: five files of 2 MB, 6 MB in all. Both nodes then hold
them (`CrossEvidence`), so that the sending school, county and province open (audited) the
documents they approve on their own node, with no call across nodes at reading time.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import uuid
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.policy import Action
from xueji.access.scope import PermissionRefused, may, scope_of
from xueji.audit.services import audit_record
from xueji.changes import policy
from xueji.changes.models import (
    ACTIVE_STATES,
    ChangeKind,
    ChangeRequest,
    Initiator,
    PartyLevel,
    Side,
    StepState,
)
from xueji.changes.services.evidence import check_files
from xueji.core.errors import Conflict, FieldErrors, NotFound
from xueji.core.idnumbers import normalize
from xueji.core.names import person_name
from xueji.corrections.evidence import Upload
from xueji.corrections.evidence import seal as seal_evidence
from xueji.corrections.evidence import unseal as unseal_evidence
from xueji.federation.messages import handles, message_send
from xueji.federation.models import (
    CarriedRecord,
    CrossEvidence,
    CrossSide,
    CrossState,
    CrossStep,
    CrossTransfer,
    Message,
    Tombstone,
)
from xueji.federation.nodes import HUB, this_node
from xueji.schools.models import SchoolClass
from xueji.students.models import (
    EventKind,
    FamilyMember,
    RecordEvent,
    RecordState,
    Student,
    StudentNumberAlias,
)
from xueji.students.national import national_index
from xueji.students.record import (
    open_placement_locked,
    record_leave,
    record_receive,
    record_state_restore,
    record_state_set,
)
from xueji.students.release import record_release

# The rows of these models are recreated on the receiving node (their only foreign keys are the
# student and an actor); every other row that names the student is carried (CarriedRecord).
RECREATED = (FamilyMember, RecordEvent, StudentNumberAlias)

# The documents of a filing travel in its message: at most five files of 2 MB (as a transfer's
# in one database), and 6 MB in all, so that a message stays a bounded row of the outbox.
EVIDENCE_MAX_TOTAL = 6 * 1024 * 1024


def _field_error(field: str, message: Any, code: str) -> FieldErrors:
    return FieldErrors({field: [ValidationError(message, code=code)]})


def _actor_name(actor: Any) -> str:
    """Who decided, as the other node shows it (a name, not a user of its own)."""
    return person_name(actor)[:150]


def _province_division(province: str) -> str:
    return f"{province}0000"


def _send(transfer: CrossTransfer, topic: str, payload: dict[str, Any], to: str) -> None:
    message_send(
        topic=topic,
        payload={"transfer": str(transfer.pk), "to": to, **payload},
        destination=HUB,
        stream=f"transfer:{transfer.pk}",
    )


def _other(transfer: CrossTransfer) -> str:
    return transfer.from_province if transfer.side == CrossSide.RECEIVING else transfer.to_province


def _audit(actor: Any, transfer: CrossTransfer, event: str, **detail: Any) -> None:
    audit_record(
        actor=actor,
        action=f"federation.transfer_{event}",
        object_type="cross_transfer",
        object_id=transfer.pk,
        detail={
            "record": str(transfer.record),
            "from": transfer.from_province,
            "to": transfer.to_province,
            **detail,
        },
    )


def _steps_json(transfer: CrossTransfer) -> list[dict[str, Any]]:
    return [
        {
            "ordinal": s.ordinal,
            "level": s.level,
            "side": s.side,
            "division_code": s.division_code,
            "party_name": s.party_name,
            "state": s.state,
        }
        for s in transfer.steps.order_by("ordinal")
    ]


def _evidence_json(document: CrossEvidence) -> dict[str, Any]:
    """A document as it travels: its description and its content sealed as stored."""
    return {
        "id": str(document.pk),
        "purpose": document.purpose,
        "file_name": document.file_name,
        "content_type": document.content_type,
        "size": document.size,
        "sha256": document.sha256,
        "sealed": document.sealed,
        "uploaded_by_name": document.uploaded_by_name,
        "uploaded_at": document.uploaded_at.isoformat(),
    }


def _evidence_copy(transfer: CrossTransfer, documents: list[dict[str, Any]]) -> None:
    """The filing's documents kept on the sending node, as the receiving node sealed them (at
    most the files and bytes a filing takes: a message beyond is not trusted further)."""
    from xueji.corrections.evidence import MAX_FILES
    from xueji.corrections.models import EVIDENCE_MAX_BYTES, EVIDENCE_TYPES

    kept = [
        document
        for document in documents[:MAX_FILES]
        if document.get("content_type") in EVIDENCE_TYPES
        and 0 < int(document.get("size", 0)) <= EVIDENCE_MAX_BYTES
    ]
    CrossEvidence.objects.bulk_create(
        [
            CrossEvidence(
                id=document["id"],
                transfer=transfer,
                purpose=str(document["purpose"])[:16],
                file_name=str(document["file_name"])[:128],
                content_type=document["content_type"],
                size=int(document["size"]),
                sha256=str(document["sha256"])[:64],
                sealed=document["sealed"],
                uploaded_by_name=str(document.get("uploaded_by_name", ""))[:150],
                uploaded_at=document["uploaded_at"],
            )
            for document in kept
        ],
        ignore_conflicts=True,
    )


# ---- who sees and who decides -------------------------------------------------------------------


def transfers_visible(user: Any) -> models.QuerySet[CrossTransfer]:
    """The cross-province transfers of the user's scope on this node: a school's own (sending or
    receiving), a bureau's where one of its parties (or its schools) is in the chain."""
    scope = scope_of(user)
    if scope is None or not may(scope, Action.CHANGE_VIEW):
        return CrossTransfer.objects.none()
    everything = CrossTransfer.objects.all()
    if scope.level == "nation":
        return everything
    if scope.level == "school":
        return everything.filter(
            models.Q(to_school_id=scope.school_id) | models.Q(from_school_id=scope.school_id)
        )
    code = (scope.division_code or "").rstrip("0") or "-"
    return everything.filter(
        models.Q(to_county__startswith=code)
        | models.Q(from_county__startswith=code)
        | models.Q(steps__division_code=scope.division_code)
    ).distinct()


def transfer_get(user: Any, transfer_id: Any) -> CrossTransfer:
    try:
        key = uuid.UUID(str(transfer_id))
    except ValueError:
        key = None
    found = transfers_visible(user).filter(pk=key).first() if key else None
    if found is None:
        raise NotFound("not_found", _("No such transfer."))
    return found


def cross_evidence_open(
    *, actor: Any, transfer_id: Any, evidence_id: Any
) -> tuple[CrossEvidence, bytes]:
    """A document of a transfer between provinces, for a party of this node who sees the
    transfer and may open a change's evidence (the school, county and province of either side,
    on its own node); audited. The content is checked against the digest taken at filing."""
    scope = scope_of(actor)
    transfer = transfer_get(actor, transfer_id)
    try:
        key = uuid.UUID(str(evidence_id))
    except ValueError:
        key = None
    document = CrossEvidence.objects.filter(transfer=transfer, pk=key).first() if key else None
    if document is None or not may(scope, Action.CHANGE_EVIDENCE_VIEW):
        raise NotFound("evidence_not_found", _("No such evidence file."))
    content = unseal_evidence(document.sealed)
    if hashlib.sha256(content).hexdigest() != document.sha256:
        raise Conflict("evidence_damaged", _("The file is not the one filed; ask the school."))
    with transaction.atomic():
        _audit(actor, transfer, "evidence_open", sha256=document.sha256)
    return document, content


def may_withdraw_now(user: Any, transfer: CrossTransfer) -> bool:
    """The receiving school that filed, on its node, while the transfer is under way here."""
    return (
        transfer.side == CrossSide.RECEIVING
        and transfer.state == CrossState.PENDING
        and transfer.to_school_id is not None
        and policy.may_withdraw(scope_of(user), transfer.to_school_id)
    )


def current_step(transfer: CrossTransfer) -> CrossStep | None:
    return transfer.steps.filter(state=StepState.PENDING).order_by("ordinal").first()


def _local_party(transfer: CrossTransfer, step: CrossStep) -> bool:
    """Is the step's party on this node? Receiving parties on the receiving node, sending ones
    on the sending node."""
    mine = Side.RECEIVER if transfer.side == CrossSide.RECEIVING else Side.SENDER
    return step.side == mine


def may_decide_now(user: Any, transfer: CrossTransfer) -> bool:
    step = current_step(transfer)
    if transfer.state != CrossState.PENDING or step is None or not _local_party(transfer, step):
        return False
    if step.side == Side.SENDER and transfer.from_school_id is None:
        return False  # the sending node has not found the record yet
    return policy.may_decide(
        scope_of(user),
        level=step.level,
        school_id=step.school_id,
        division_code=step.division_code or None,
    )


# ---- filing, on the receiving node -------------------------------------------------------------


def _holder_at_hub(number: str) -> Any:
    """The province and record that hold a student number, from the hub's national index (a
    record of this province is found here first). The hub unreachable is said so (503): a
    transfer between provinces cannot be filed without the national index."""
    from xueji.federation.client import HubClient, HubUnavailable, HubUnreachable, _holder
    from xueji.students.identity import number_indexes

    local = national_index().holder_of_number(number)
    if local is not None and local.province_code == this_node().province:
        return local
    try:
        _status, answer = HubClient().post(
            "holder", {"entries": [["number", index] for index in number_indexes(number)]}
        )
    except HubUnreachable as error:
        raise HubUnavailable(
            "hub_unavailable",
            _("The national hub cannot be reached: try again in a few minutes."),
        ) from error
    return _holder(answer.get("holder"))


def cross_transfer_file(
    *,
    actor: Any,
    student_number: str,
    name: str,
    to_class_id: Any,
    reason: str,
    guardian_request: Upload | None = None,
    evidence: Sequence[Upload] = (),
    on: datetime.date | None = None,
) -> CrossTransfer:
    """The receiving school's registrar files a transfer in of a child of another province,
    found by its number at the hub, with the guardian's written request and any supporting
    documents (checked and sealed as a transfer's in one database); the sending node compares
    the name, and its parties see the documents."""
    node = this_node()
    scope = scope_of(actor)
    if not node.is_province:
        raise Conflict(
            "not_a_province", _("Transfers between provinces are filed on a province's node.")
        )
    if scope is None or scope.level != "school" or not policy.may_file(scope, scope.school_id or 0):
        raise PermissionRefused("forbidden", _("Only a school's registrar files a transfer in."))
    number = normalize(student_number or "").upper()
    name = (name or "").strip()
    reason = (reason or "").strip()
    problems: dict[str, list[ValidationError]] = {}
    if not number:
        problems["student_number"] = [
            ValidationError(_("Give the student number of the child."), code="required")
        ]
    if not name:
        problems["name"] = [ValidationError(_("Give the child's name."), code="required")]
    if not reason:
        problems["reason"] = [
            ValidationError(_("Give the reason for the transfer."), code="required")
        ]
    try:
        class_pk = int(to_class_id)
    except (TypeError, ValueError):
        class_pk = 0
    to_class = (
        SchoolClass.objects.select_related("school")
        .filter(pk=class_pk, school_id=scope.school_id or 0)
        .first()
    )
    if to_class is None:
        problems["to_class_id"] = [
            ValidationError(_("Choose a class of your school."), code="invalid_choice")
        ]
    files = check_files(
        ChangeKind.TRANSFER, Initiator.GUARDIAN, guardian_request, evidence, problems
    )
    if sum(item.size for _purpose, item in files) > EVIDENCE_MAX_TOTAL:
        problems.setdefault("evidence", []).append(
            ValidationError(
                _("The documents of a transfer between provinces come to at most 6 MB in all."),
                code="too_large",
            )
        )
    if problems:
        raise FieldErrors(problems)
    assert to_class is not None
    holder = _holder_at_hub(number)
    if holder is None:
        raise _field_error(
            "student_number", _("No province holds this student number."), "not_found"
        )
    if holder.province_code == node.province:
        raise _field_error(
            "student_number",
            _("The child is registered in this province: file an ordinary transfer."),
            "same_province",
        )
    school = to_class.school
    with transaction.atomic():
        transfer = CrossTransfer(
            side=CrossSide.RECEIVING,
            state=CrossState.PENDING,
            record=uuid.UUID(str(holder.student_id)),
            number_masked=holder.number_masked,
            from_province=holder.province_code,
            to_province=node.province,
            from_school_name=holder.school_name,
            to_school=school,
            to_class=to_class,
            to_school_name=school.name,
            to_county=school.county_id,
            grade=to_class.grade,
            reason=reason,
            filed_on=on or timezone.localdate(),
            filed_by_name=_actor_name(actor),
        )
        try:
            with transaction.atomic():
                transfer.save(force_insert=True)
        except Exception:  # the unique constraint: one transfer under way per record
            raise Conflict(
                "change_active",
                _("This child already has a transfer between provinces under way."),
            ) from None
        parties = [
            (PartyLevel.SCHOOL, Side.RECEIVER, "", school, school.name),
            (PartyLevel.COUNTY, Side.RECEIVER, school.county_id, None, ""),
            (PartyLevel.PROVINCE, Side.RECEIVER, _province_division(node.province), None, ""),
            (PartyLevel.SCHOOL, Side.SENDER, "", None, holder.school_name),
            (PartyLevel.COUNTY, Side.SENDER, "", None, ""),
            (
                PartyLevel.PROVINCE,
                Side.SENDER,
                _province_division(holder.province_code),
                None,
                "",
            ),
        ]
        now = timezone.now()
        CrossStep.objects.bulk_create(
            [
                CrossStep(
                    transfer=transfer,
                    ordinal=ordinal,
                    level=level,
                    side=side,
                    division_code=division,
                    school=party_school,
                    party_name=party_name[:128],
                    state=(
                        StepState.APPROVED
                        if ordinal == 1
                        else StepState.PENDING
                        if ordinal == 2
                        else StepState.WAITING
                    ),
                    decided_by_name=_actor_name(actor) if ordinal == 1 else "",
                    decided_at=now if ordinal == 1 else None,
                )
                for ordinal, (level, side, division, party_school, party_name) in enumerate(
                    parties, start=1
                )
            ]
        )
        documents = CrossEvidence.objects.bulk_create(
            CrossEvidence(
                transfer=transfer,
                purpose=purpose,
                file_name=item.file_name,
                content_type=item.content_type,
                size=item.size,
                sha256=item.sha256,
                sealed=seal_evidence(item.content),
                uploaded_by_name=transfer.filed_by_name,
                uploaded_at=now,
            )
            for purpose, item in files
        )
        from xueji.core.crypto import blind_index
        from xueji.students.names import name_key

        _send(
            transfer,
            "transfer.filed",
            {
                "record": str(transfer.record),
                "name_key": blind_index(name_key(name), context="federation.transfer.name"),
                "from_province": transfer.from_province,
                "to_province": transfer.to_province,
                "to_school_name": school.name,
                "to_county": school.county_id,
                "grade": to_class.grade,
                "reason": reason,
                "filed_on": transfer.filed_on.isoformat(),
                "filed_by_name": transfer.filed_by_name,
                "evidence": [_evidence_json(document) for document in documents],
            },
            to=transfer.from_province,
        )
        _audit(
            actor,
            transfer,
            "file",
            to_class=to_class.pk,
            evidence=[document.sha256 for document in documents],
        )
    return transfer


# ---- the receiving school withdraws its filing ---------------------------------------------------


def cross_transfer_withdraw(*, actor: Any, transfer_id: Any, reason: str = "") -> CrossTransfer:
    """The receiving school's registrar takes back its filing before the final approval. The
    sending node holds the record and decides whether the withdrawal came in time: until it
    answers, the transfer waits here (WITHDRAWING: no party of this node decides any more)."""
    reason = (reason or "").strip()
    found = transfer_get(actor, transfer_id)
    with transaction.atomic():
        transfer = CrossTransfer.objects.select_for_update().get(pk=found.pk)
        if transfer.side != CrossSide.RECEIVING:
            raise Conflict(
                "not_receiving",
                _("The receiving school withdraws a transfer, on its own province's node."),
            )
        if not policy.may_withdraw(scope_of(actor), transfer.to_school_id or 0):
            raise PermissionRefused(
                "forbidden", _("Only the school that filed it may withdraw it.")
            )
        if transfer.state != CrossState.PENDING:
            raise Conflict(
                "invalid_transition",
                _("The transfer is no longer waiting: it cannot be withdrawn."),
            )
        transfer.state = CrossState.WITHDRAWING
        transfer.refusal = reason[:400]
        transfer.save(update_fields=["state", "refusal", "updated_at"])
        _send(
            transfer,
            "transfer.withdraw",
            {"reason": reason, "withdrawn_by_name": _actor_name(actor)},
            to=transfer.from_province,
        )
        _audit(actor, transfer, "withdraw", reason=reason)
    return transfer


# ---- decisions, on the node of each party --------------------------------------------------------


def _advance(transfer: CrossTransfer, decided: CrossStep) -> CrossStep | None:
    """After an approval, the next step is the next party's."""
    following = (
        CrossStep.objects.filter(transfer=transfer, ordinal__gt=decided.ordinal)
        .order_by("ordinal")
        .first()
    )
    if following is not None and following.state == StepState.WAITING:
        following.state = StepState.PENDING
        following.save(update_fields=["state"])
    return following


def _stop(transfer: CrossTransfer, refusal: str) -> None:
    """Rejected: the other steps are cancelled; the sending node gives the record back (在籍)."""
    transfer.state = CrossState.REJECTED
    transfer.refusal = refusal[:400]
    transfer.save(update_fields=["state", "refusal", "updated_at"])
    CrossStep.objects.filter(
        transfer=transfer, state__in=[StepState.WAITING, StepState.PENDING]
    ).update(state=StepState.CANCELLED)
    if transfer.side == CrossSide.SENDING and transfer.from_school_id is not None:
        record_state_restore(
            student_ids=[transfer.record], was=RecordState.TRANSFERRING, to=RecordState.ENROLLED
        )


def cross_transfer_decide(
    *,
    actor: Any,
    transfer_id: Any,
    approve: bool,
    reason: str = "",
    step_ordinal: int | None = None,
    on: datetime.date | None = None,
) -> CrossTransfer:
    """The party of the current step, on its own node, approves or rejects (with a reason). The
    sending province's approval is the final one: the record moves to the receiving node."""
    reason = (reason or "").strip()
    found = transfer_get(actor, transfer_id)
    with transaction.atomic():
        transfer = CrossTransfer.objects.select_for_update().get(pk=found.pk)
        step = current_step(transfer)
        if transfer.state != CrossState.PENDING or step is None:
            raise Conflict("invalid_transition", _("The transfer is not waiting for a decision."))
        if step_ordinal is not None and int(step_ordinal) != step.ordinal:
            raise Conflict(
                "step_decided", _("This step has already been decided; reload the transfer.")
            )
        if not may_decide_now(actor, transfer):
            raise Conflict(
                "not_your_step", _("The transfer is waiting for another party, not for you.")
            )
        if not approve and not reason:
            raise _field_error("reason", _("Give the reason for the rejection."), "required")
        step.decided_by_name = _actor_name(actor)
        step.decided_at = timezone.now()
        step.reason = reason
        step.state = StepState.APPROVED if approve else StepState.REJECTED
        step.save(update_fields=["state", "decided_by_name", "decided_at", "reason"])
        decision = {
            "ordinal": step.ordinal,
            "approve": approve,
            "reason": reason,
            "decided_by_name": step.decided_by_name,
        }
        if not approve:
            _stop(transfer, reason)
            _send(transfer, "transfer.step", decision, to=_other(transfer))
            _audit(actor, transfer, "reject", ordinal=step.ordinal, reason=reason)
            return transfer
        following = _advance(transfer, step)
        if following is not None:
            _send(transfer, "transfer.step", decision, to=_other(transfer))
            _audit(actor, transfer, "approve", ordinal=step.ordinal)
            return transfer
        # The last step (the sending province): the record leaves this node.
        _complete_here(actor, transfer, on or timezone.localdate(), decision)
    return transfer


def _complete_here(
    actor: Any, transfer: CrossTransfer, on: datetime.date, decision: dict[str, Any]
) -> None:
    student = Student.objects.select_for_update().get(pk=transfer.record)
    placement = open_placement_locked(student.pk)
    if placement is None or placement.start_date > on:
        raise Conflict(
            "record_moved", _("The record has no current placement to change; reject the transfer.")
        )
    exported = record_export(student)
    record_leave(
        actor=actor,
        student=student,
        placement=placement,
        on=on,
        state=RecordState.LEFT_OTHER,
        event=EventKind.TRANSFERRED,
        detail={"cross_transfer": str(transfer.pk), "to_province": transfer.to_province},
    )
    Tombstone.objects.update_or_create(
        record=student.pk,
        defaults={
            "number_index": student.number_index,
            "number_masked": student.number_masked,
            "province": transfer.to_province,
            "moved_on": on,
        },
    )
    transfer.state = CrossState.COMPLETED
    transfer.effective_date = on
    transfer.save(update_fields=["state", "effective_date", "updated_at"])
    _send(
        transfer,
        "transfer.completed",
        {
            **decision,
            "effective_date": on.isoformat(),
            "to_school_name": transfer.to_school_name,
            "record_data": exported,
        },
        to=transfer.to_province,
    )
    _audit(actor, transfer, "complete", ordinal=decision["ordinal"], on=on.isoformat())


# ---- the record, exported and imported ---------------------------------------------------------


def _value(value: Any) -> Any:
    if isinstance(value, (bytes, memoryview)):
        return {"base64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, (datetime.date, datetime.datetime, uuid.UUID)):
        return value.isoformat() if not isinstance(value, uuid.UUID) else str(value)
    if isinstance(value, datetime.time):
        return value.isoformat()
    if hasattr(value, "as_tuple"):  # Decimal
        return str(value)
    return value


def _row(instance: models.Model) -> dict[str, Any]:
    return {
        field.attname: _value(getattr(instance, field.attname))
        for field in instance._meta.concrete_fields
    }


def record_export(student: Student) -> dict[str, Any]:
    """The whole record as JSON: the student's row and every row of every model that names the
    student (history, family, former numbers and placements, growth record, evidence …), by
    model label. The sealed values travel sealed (every node holds the same keys: the shared
    XUEJI_INDEX_KEY and sealing keys)."""
    related: dict[str, list[dict[str, Any]]] = {}
    for relation in Student._meta.related_objects:
        if not (relation.one_to_many or relation.one_to_one):
            continue
        model = relation.related_model
        assert isinstance(model, type)
        field = relation.field
        if model is Student:
            continue
        rows = [_row(row) for row in model._default_manager.filter(**{field.name: student})]
        if rows:
            related[model._meta.label] = rows
    return {"student": _row(student), "related": related}


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    return {
        key: base64.b64decode(value["base64"])
        if isinstance(value, dict) and set(value) == {"base64"}
        else value
        for key, value in row.items()
    }


def record_import(*, transfer: CrossTransfer, data: dict[str, Any], on: datetime.date) -> Student:
    """Create the record that moved here through the students app (`record_receive`): the
    student (same id, same numbers), its family, its history and its former numbers as rows, its
    new placement in the receiving class from the transfer date; everything else carried
    read-only (CarriedRecord)."""
    assert transfer.to_class_id is not None
    to_class = SchoolClass.objects.select_related("school").get(pk=transfer.to_class_id)
    recreated = {model._meta.label for model in RECREATED}
    related = data.get("related", {})
    student = record_receive(
        student_fields=_decoded(data["student"]),
        rows={
            label: [_decoded(row) for row in rows]
            for label, rows in related.items()
            if label in recreated
        },
        to_class=to_class,
        on=on,
        detail={
            "cross_transfer": str(transfer.pk),
            "from_province": transfer.from_province,
            "from_school": transfer.from_school_name,
            "to_school": to_class.school_id,
            "class": to_class.pk,
        },
    )
    Tombstone.objects.filter(record=student.pk).delete()  # it had left here before: back
    CarriedRecord.objects.update_or_create(
        record=student.pk,
        defaults={
            "transfer": transfer,
            "from_province": transfer.from_province,
            "content": {label: rows for label, rows in related.items() if label not in recreated},
        },
    )
    return student


# ---- the messages' handlers ---------------------------------------------------------------------


def _forward(message: Message) -> bool:
    """At the hub: hand the message on to the province it is for, on a stream of that province
    (applied there once and in order); True when this node is the hub."""
    if not this_node().is_hub:
        return False
    to = str(message.payload["to"])
    message_send(
        topic=message.topic,
        payload=message.payload,
        destination=to,
        stream=f"transfer:{message.payload['transfer']}:{to}",
    )
    return True


def _mine(message: Message) -> CrossTransfer | None:
    return CrossTransfer.objects.select_for_update().filter(pk=message.payload["transfer"]).first()


def _refuse(message: Message, code: str, refusal: str) -> None:
    """The sending node cannot take the transfer: its copy is kept, rejected, and the receiving
    node is told."""
    data = message.payload
    transfer = CrossTransfer.objects.create(
        id=data["transfer"],
        side=CrossSide.SENDING,
        state=CrossState.REJECTED,
        record=data["record"],
        number_masked="",
        from_province=data["from_province"],
        to_province=data["to_province"],
        to_school_name=data["to_school_name"],
        to_county=data["to_county"],
        grade=data.get("grade"),
        reason=data["reason"],
        filed_on=data["filed_on"],
        filed_by_name=data.get("filed_by_name", ""),
        refusal=refusal,
    )
    _send(transfer, "transfer.refused", {"code": code, "refusal": refusal}, to=transfer.to_province)
    _audit(None, transfer, "refuse", code=code)


@handles("transfer.filed")
def on_filed(message: Message) -> None:
    """Sending node: find the record, compare the name, mark it 转学中, copy the chain."""
    if _forward(message):
        return
    from xueji.core.crypto import blind_indexes
    from xueji.students.names import name_key

    data = message.payload
    student = Student.objects.select_for_update().filter(pk=data["record"]).first()
    if student is None or student.state != RecordState.ENROLLED:
        _refuse(message, "not_here", str(_("No record of this number is on the roll here.")))
        return
    if data["name_key"] not in blind_indexes(
        name_key(student.name), context="federation.transfer.name"
    ):
        _refuse(message, "name_mismatch", str(_("The name does not match the record.")))
        return
    if ChangeRequest.objects.filter(student=student, state__in=ACTIVE_STATES).exists():
        _refuse(message, "change_active", str(_("The child has a change of status under way.")))
        return
    placement = open_placement_locked(student.pk)
    if placement is None:
        _refuse(message, "not_here", str(_("No record of this number is on the roll here.")))
        return
    school = placement.school
    transfer = CrossTransfer.objects.create(
        id=data["transfer"],
        side=CrossSide.SENDING,
        state=CrossState.PENDING,
        record=student.pk,
        number_masked=student.number_masked,
        name_masked=student.name[:1] + "*" * max(len(student.name) - 1, 1),
        from_province=data["from_province"],
        to_province=data["to_province"],
        from_school=school,
        from_school_name=school.name,
        from_county=school.county_id,
        to_school_name=data["to_school_name"],
        to_county=data["to_county"],
        grade=placement.grade,
        reason=data["reason"],
        filed_on=data["filed_on"],
        filed_by_name=data.get("filed_by_name", ""),
    )
    province = _province_division(transfer.from_province)
    parties = [
        (PartyLevel.SCHOOL, Side.RECEIVER, "", None, data["to_school_name"], StepState.APPROVED),
        (PartyLevel.COUNTY, Side.RECEIVER, data["to_county"], None, "", StepState.PENDING),
        (
            PartyLevel.PROVINCE,
            Side.RECEIVER,
            _province_division(transfer.to_province),
            None,
            "",
            StepState.WAITING,
        ),
        (PartyLevel.SCHOOL, Side.SENDER, "", school, school.name, StepState.WAITING),
        (PartyLevel.COUNTY, Side.SENDER, school.county_id, None, "", StepState.WAITING),
        (PartyLevel.PROVINCE, Side.SENDER, province, None, "", StepState.WAITING),
    ]
    CrossStep.objects.bulk_create(
        [
            CrossStep(
                transfer=transfer,
                ordinal=ordinal,
                level=level,
                side=side,
                division_code=division,
                school=party_school,
                party_name=name[:128],
                state=state,
            )
            for ordinal, (level, side, division, party_school, name, state) in enumerate(
                parties, start=1
            )
        ]
    )
    _evidence_copy(transfer, list(data.get("evidence", [])))
    record_state_set(actor=None, student=student, state=RecordState.TRANSFERRING)
    _send(
        transfer,
        "transfer.located",
        {
            "from_school_name": school.name,
            "from_county": school.county_id,
            "grade": placement.grade,
            "number_masked": student.number_masked,
            "name_masked": transfer.name_masked,
        },
        to=transfer.to_province,
    )
    _audit(None, transfer, "located")


@handles("transfer.located")
def on_located(message: Message) -> None:
    """Receiving node: the sending side found the record; its parties are named."""
    if _forward(message):
        return
    transfer = _mine(message)
    if transfer is None:
        return
    data = message.payload
    transfer.from_school_name = data["from_school_name"][:128]
    transfer.from_county = data["from_county"]
    transfer.number_masked = data["number_masked"] or transfer.number_masked
    transfer.name_masked = data["name_masked"]
    transfer.save(
        update_fields=[
            "from_school_name",
            "from_county",
            "number_masked",
            "name_masked",
            "updated_at",
        ]
    )
    CrossStep.objects.filter(transfer=transfer, side=Side.SENDER, level=PartyLevel.SCHOOL).update(
        party_name=transfer.from_school_name
    )
    CrossStep.objects.filter(transfer=transfer, side=Side.SENDER, level=PartyLevel.COUNTY).update(
        division_code=transfer.from_county
    )


# The states of a copy in which the other node's messages still count (a withdrawal asked here
# waits for the sending node's word, which may be a decision taken before it arrived there).
OPEN_STATES = (CrossState.PENDING, CrossState.WITHDRAWING)


@handles("transfer.refused")
def on_refused(message: Message) -> None:
    if _forward(message):
        return
    transfer = _mine(message)
    if transfer is None or transfer.state not in OPEN_STATES:
        return
    _stop(transfer, str(message.payload.get("refusal", "")))
    _audit(None, transfer, "refused", code=message.payload.get("code", ""))


def _record_decision(transfer: CrossTransfer, data: dict[str, Any]) -> CrossStep | None:
    step = CrossStep.objects.filter(transfer=transfer, ordinal=int(data["ordinal"])).first()
    if step is None:
        return None
    step.state = StepState.APPROVED if data["approve"] else StepState.REJECTED
    step.reason = str(data.get("reason", ""))
    step.decided_by_name = str(data.get("decided_by_name", ""))[:150]
    step.decided_at = timezone.now()
    step.save(update_fields=["state", "reason", "decided_by_name", "decided_at"])
    return step


@handles("transfer.step")
def on_step(message: Message) -> None:
    """Either node: the other side's party decided its step."""
    if _forward(message):
        return
    transfer = _mine(message)
    if transfer is None or transfer.state not in OPEN_STATES:
        return
    step = _record_decision(transfer, message.payload)
    if step is None:
        return
    if message.payload["approve"]:
        if transfer.state == CrossState.PENDING:
            _advance(transfer, step)
    else:
        _stop(transfer, str(message.payload.get("reason", "")))
    _audit(None, transfer, "step", ordinal=step.ordinal, approve=message.payload["approve"])


@handles("transfer.completed")
def on_completed(message: Message) -> None:
    """The hub moves the number to the receiving province and keeps the move for the national
    flows (NationalMove, from the message's source); the receiving node creates the record and
    places the child."""
    data = message.payload
    if this_node().is_hub:
        from xueji.federation.hub import hub_move

        hub_move(
            record=str(data["record_data"]["student"]["id"]),
            to_province=str(data["to"]),
            school_name=str(data.get("to_school_name", "")),
            transfer=str(data["transfer"]),
            from_province=message.source,
            on=datetime.date.fromisoformat(data["effective_date"]),
        )
        _forward(message)
        return
    transfer = _mine(message)
    if transfer is None or transfer.state == CrossState.COMPLETED:
        return
    # The record has left the sending node: it lands here whatever this copy says (a
    # withdrawal asked after the sending province's final approval is overtaken by it).
    was = transfer.state
    _record_decision(transfer, data)
    on = datetime.date.fromisoformat(data["effective_date"])
    record_import(transfer=transfer, data=data["record_data"], on=on)
    transfer.state = CrossState.COMPLETED
    transfer.effective_date = on
    transfer.save(update_fields=["state", "effective_date", "updated_at"])
    _audit(None, transfer, "arrived", on=on.isoformat(), was=was)
    # The record is safe here once this commits: the sending node may drop its copy's rows.
    _send(transfer, "transfer.received", {"record": str(transfer.record)}, to=_other(transfer))


@handles("transfer.received")
def on_received(message: Message) -> None:
    """Sending node: the receiving node holds the record; the child's personal rows that went
    with it (family, growth record) are removed here through their apps, once."""
    if _forward(message):
        return
    transfer = _mine(message)
    if (
        transfer is None
        or transfer.side != CrossSide.SENDING
        or transfer.state != CrossState.COMPLETED
        or transfer.released_at is not None
    ):
        return
    student = Student.objects.filter(pk=transfer.record).first()
    if student is None:
        return
    try:
        with transaction.atomic():
            rows = record_release(
                actor=None,
                student=student,
                detail={"cross_transfer": str(transfer.pk), "to_province": transfer.to_province},
            )
    except Conflict as error:  # the child is on a roll here again: nothing to remove
        _audit(None, transfer, "release_skipped", code=error.code)
        return
    transfer.released_at = timezone.now()
    transfer.save(update_fields=["released_at", "updated_at"])
    _audit(None, transfer, "released", rows=rows)


@handles("transfer.withdraw")
def on_withdraw(message: Message) -> None:
    """Sending node: the receiving school withdrew. In time (still pending here) it ends the
    transfer and the record is 在籍 again; too late (settled here first) it is ignored."""
    if _forward(message):
        return
    transfer = _mine(message)
    if transfer is None:
        return
    reason = str(message.payload.get("reason", ""))
    if transfer.state != CrossState.PENDING:
        _audit(None, transfer, "withdrawal_late", state=transfer.state)
        return
    transfer.state = CrossState.WITHDRAWN
    transfer.refusal = reason[:400]
    transfer.save(update_fields=["state", "refusal", "updated_at"])
    CrossStep.objects.filter(
        transfer=transfer, state__in=[StepState.WAITING, StepState.PENDING]
    ).update(state=StepState.CANCELLED)
    restored = 0
    if transfer.from_school_id is not None:
        restored = record_state_restore(
            student_ids=[transfer.record], was=RecordState.TRANSFERRING, to=RecordState.ENROLLED
        )
    _send(transfer, "transfer.withdrawn", {}, to=transfer.to_province)
    _audit(
        None,
        transfer,
        "withdrawn",
        by=str(message.payload.get("withdrawn_by_name", ""))[:150],
        restored=restored,
    )


@handles("transfer.withdrawn")
def on_withdrawn(message: Message) -> None:
    """Receiving node: the sending node took the withdrawal in time."""
    if _forward(message):
        return
    transfer = _mine(message)
    if transfer is None or transfer.state != CrossState.WITHDRAWING:
        return
    transfer.state = CrossState.WITHDRAWN
    transfer.save(update_fields=["state", "updated_at"])
    CrossStep.objects.filter(
        transfer=transfer, state__in=[StepState.WAITING, StepState.PENDING]
    ).update(state=StepState.CANCELLED)
    _audit(None, transfer, "withdrawal_confirmed")


def carried_of(record: Any) -> CarriedRecord | None:
    return CarriedRecord.objects.filter(record=record).first()


def steps_of(transfer: CrossTransfer) -> list[CrossStep]:
    return list(transfer.steps.order_by("ordinal"))
