"""Certificates of registration (学籍证明): issued by the registrar on a guardian's request,
withdrawn by the registrar with a reason, revoked by a key-data correction that changes what
they state; verified by anyone on the public page (rate limited per client address, every
verification an audit entry)."""

from __future__ import annotations

import datetime
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.policy import Action
from xueji.access.scope import require
from xueji.archive.access import archive_students
from xueji.archive.facts import certificate_facts, facts_still_hold
from xueji.archive.models import Certificate, RevocationCause
from xueji.archive.signing import active_key, sign
from xueji.audit import chain
from xueji.audit.context import current_ip
from xueji.audit.models import AuditEntry
from xueji.audit.services import audit_record
from xueji.core.errors import Conflict, FieldErrors, NotFound, ServiceError, translated
from xueji.students.models import ON_ROLL_STATES, Student

VERIFY_ACTION = "certificate.verify"
VERIFY_REFUSED_ACTION = "certificate.verify_refused"
DEFAULT_VERIFY_LIMIT = 30  # verifications per client address and hour
WINDOW = datetime.timedelta(hours=1)
# pg_advisory_xact_lock(class, key): a class of its own ("XUCV").
LOCK_CLASS = 0x58554356


def _field_error(field: str, message: Any, code: str) -> FieldErrors:
    return FieldErrors({field: [ValidationError(message, code=code)]})


def verify_url(base_url: str, token: str) -> str:
    base = (base_url or getattr(settings, "XUEJI_PUBLIC_BASE_URL", "") or "").rstrip("/")
    return f"{base}/certificates/v/{token}/"


def certificate_issue(
    *,
    actor: Any,
    student_id: Any,
    requested_by: str,
    with_province_years: bool = False,
) -> Certificate:
    """Issue a certificate for a child of the registrar's school, on the request of the guardian
    named; the facts are signed with the active key."""
    scope = require(actor, Action.CERTIFICATE_ISSUE)
    requested_by = (requested_by or "").strip()
    if not requested_by:
        raise _field_error("requested_by", _("Name the guardian who asked for it."), "required")
    if len(requested_by) > 64:
        raise _field_error("requested_by", _("A name has at most 64 characters."), "max_length")
    with transaction.atomic():
        student = (
            Student.objects.select_for_update(of=("self",))
            .filter(
                pk__in=Student.objects.filter(
                    archive_students(scope, Action.CERTIFICATE_ISSUE), pk=student_id
                ).values("pk")
            )
            .select_related("school", "school__county")
            .first()
        )
        if student is None:
            raise NotFound("student_not_found", _("No such student at your school."))
        if student.state not in ON_ROLL_STATES:
            raise Conflict(
                "not_on_roll",
                _("Only a school holding the child on its roll issues a certificate."),
            )
        key = active_key(actor=actor)
        certificate_id = uuid.uuid4()
        now = timezone.now()
        facts = certificate_facts(
            student=student,
            school=student.school,
            issued_on=timezone.localdate(now),
            certificate_id=str(certificate_id),
            key_id=key.key_id,
            with_province_years=with_province_years,
        )
        certificate = Certificate.objects.create(
            id=certificate_id,
            token=secrets.token_urlsafe(32),
            student=student,
            school=student.school,
            facts=facts,
            signature=sign(key, facts),
            key=key,
            requested_by=requested_by,
            issued_by=actor,
            issued_at=now,
        )
        audit_record(
            actor=actor,
            action="certificate.issue",
            object_type="student",
            object_id=student.pk,
            detail={
                "certificate": str(certificate.pk),
                "key_id": key.key_id,
                "requested_by": requested_by,
                "province_years": with_province_years,
            },
        )
    return certificate


def certificate_revoke(*, actor: Any, certificate_id: Any, reason: str) -> Certificate:
    """The registrar of the issuing school withdraws a certificate, giving the reason."""
    scope = require(actor, Action.CERTIFICATE_REVOKE)
    reason = (reason or "").strip()
    if not reason:
        raise _field_error("reason", _("Give the reason."), "required")
    if len(reason) > 200:
        raise _field_error("reason", _("At most 200 characters."), "max_length")
    with transaction.atomic():
        certificate = (
            Certificate.objects.select_for_update()
            .filter(pk=certificate_id, school_id=scope.school_id or 0)
            .first()
        )
        if certificate is None or not scope.is_school:
            raise NotFound("certificate_not_found", _("No such certificate of your school."))
        if certificate.revoked_at is not None:
            raise Conflict("already_revoked", _("This certificate is already revoked."))
        certificate.revoked_at = timezone.now()
        certificate.revoked_by = actor
        certificate.revoke_cause = RevocationCause.WITHDRAWN
        certificate.revoke_reason = reason
        certificate.save(
            update_fields=["revoked_at", "revoked_by", "revoke_cause", "revoke_reason"]
        )
        audit_record(
            actor=actor,
            action="certificate.revoke",
            object_type="student",
            object_id=certificate.student_id,
            detail={"certificate": str(certificate.pk), "reason": reason},
        )
    return certificate


def certificates_revoke_after_correction(*, actor: Any, student_id: Any, correction_id: Any) -> int:
    """Revoke the child's valid certificates whose facts the corrected record no longer bears
    out; in the correction's transaction (called by the corrections' signal)."""
    student = Student.objects.get(pk=student_id)
    revoked = 0
    for certificate in Certificate.objects.select_for_update().filter(
        student_id=student_id, revoked_at__isnull=True
    ):
        if facts_still_hold(certificate.facts, student):
            continue
        certificate.revoked_at = timezone.now()
        certificate.revoked_by = actor
        certificate.revoke_cause = RevocationCause.CORRECTED
        certificate.revoke_reason = f"correction {correction_id}"
        certificate.save(
            update_fields=["revoked_at", "revoked_by", "revoke_cause", "revoke_reason"]
        )
        audit_record(
            actor=actor,
            action="certificate.revoke",
            object_type="student",
            object_id=student_id,
            detail={
                "certificate": str(certificate.pk),
                "cause": str(RevocationCause.CORRECTED),
                "correction": str(correction_id),
            },
        )
        revoked += 1
    return revoked


# ---- public verification ----------------------------------------------------------------------


class VerifyLimitReached(ServiceError):
    status = 429


def verify_limit_per_hour() -> int:
    return int(getattr(settings, "XUEJI_CERTIFICATE_VERIFY_LIMIT_PER_HOUR", DEFAULT_VERIFY_LIMIT))


@dataclass(frozen=True)
class Verification:
    certificate: Certificate | None
    valid: bool
    reason: str  # "", "revoked", "facts_changed", "not_found"


def _lock_address(address: str | None) -> None:
    """Serialise one address's verifications until the transaction ends (PostgreSQL; SQLite's
    write lock already serialises every transaction), so that the count is exact."""
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return
    digest = hashlib.sha256(f"verify:{address}".encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)",
            [LOCK_CLASS, int.from_bytes(digest[:4], "big", signed=True)],
        )


def certificate_verify(*, token: str) -> Verification:
    """What the public page shows for a token: the certificate and whether it is still valid.
    Every verification is an audit entry with the client's address (which the trail keeps);
    beyond the hour's limit for that address the answer is withheld (429). Tokens unknown are
    counted alike, so that guessing costs the same."""
    limit = verify_limit_per_hour()
    address = chain.ip_value(current_ip())
    with transaction.atomic():
        _lock_address(address)
        used = AuditEntry.objects.filter(
            action=VERIFY_ACTION,
            ip_address=address,
            at__gt=timezone.now() - WINDOW,
        ).count()
        if used >= limit:
            audit_record(
                actor=None,
                action=VERIFY_REFUSED_ACTION,
                detail={"limit": limit},
            )
            refusal = VerifyLimitReached(
                "verify_limit_reached",
                translated(
                    _(
                        "Too many verifications from your address: %(limit)d an hour. Try "
                        "again later."
                    ),
                    {"limit": limit},
                ),
                limit=limit,
            )
        else:
            refusal = None
            certificate = (
                Certificate.objects.select_related("student", "key").filter(token=token).first()
                if token
                else None
            )
            if certificate is None:
                outcome = Verification(None, False, "not_found")
            elif certificate.revoked_at is not None:
                outcome = Verification(certificate, False, "revoked")
            elif not facts_still_hold(certificate.facts, certificate.student):
                outcome = Verification(certificate, False, "facts_changed")
            else:
                outcome = Verification(certificate, True, "")
            audit_record(
                actor=None,
                action=VERIFY_ACTION,
                object_type="student" if certificate else "",
                object_id=certificate.student_id if certificate else None,
                detail={
                    "certificate": str(certificate.pk) if certificate else None,
                    "outcome": outcome.reason or "valid",
                },
            )
    if refusal is not None:
        raise refusal
    return outcome
