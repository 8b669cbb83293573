"""The documents behind a request: checked and sealed on filing, opened (audited) by a party
who may see the request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from xueji.access.policy import Action
from xueji.access.scope import may, scope_of
from xueji.audit.services import audit_record
from xueji.changes import policy
from xueji.changes.models import ChangeEvidence, ChangeRequest, EvidencePurpose
from xueji.changes.services.common import visible_q
from xueji.core.errors import NotFound
from xueji.corrections.evidence import MAX_FILES, CheckedFile, Upload, check_upload
from xueji.corrections.evidence import seal as seal_evidence
from xueji.corrections.evidence import unseal as unseal_evidence


def check_files(
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


def attach_files(
    change: ChangeRequest, files: Sequence[tuple[str, CheckedFile]], actor: Any
) -> None:
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
