"""Look-ups of records outside the user's scope: every answer audited, a limit per user and hour.

Two answers tell a user something about a child they do not hold: a registration refused because
another school holds the ID number (the school is named only when the name typed is the record's),
and a transfer's look-up by student number and name. Each is a question someone could ask of
numbers by the hundred, so each answer is an audit entry (`student.lookup`, with its kind and
outcome, numbers masked), and a user gets XUEJI_LOOKUP_LIMIT_PER_HOUR of them (default 20) in
any 60 minutes. Beyond it the answer is withheld (429, LookupLimitReached) and the refusal is an
entry of its own (`student.lookup_refused`), which the auditors' page lists as an alert
(xueji.trail.selectors.lookup_alerts).

The count is read from the trail itself, under a lock per user held until the answer's entry is
committed, so that it is exact across processes and threads: on PostgreSQL a transaction-level
advisory lock on the user; on SQLite every transaction takes the database's write lock when it
begins (transaction_mode IMMEDIATE), which serialises them all. Students (registration) and
changes (the transfer's look-up) both call lookup_answer, so it lives here, below both.
"""

from __future__ import annotations

import datetime
import enum
import hashlib
import math
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.audit.models import AuditEntry
from xueji.audit.services import audit_record
from xueji.core.errors import ServiceError, translated

LOOKUP_ACTION = "student.lookup"
LOOKUP_REFUSED_ACTION = "student.lookup_refused"
DEFAULT_LIMIT_PER_HOUR = 20
WINDOW = datetime.timedelta(hours=1)

# pg_advisory_xact_lock(class, key): a class of its own ("XULK"), apart from the audit chains'.
LOCK_CLASS = 0x58554C4B


class LookupKind(enum.StrEnum):
    REGISTRATION = "registration"  # a registration refused: the ID number is held elsewhere
    TRANSFER = "transfer"  # a transfer's look-up by student number and name


class LookupOutcome(enum.StrEnum):
    SCHOOL_NAMED = "school_named"  # the name typed is the record's: the school was named
    REGISTERED_ELSEWHERE = "registered_elsewhere"  # it is not: only "registered elsewhere"
    FOUND = "found"
    NOT_FOUND = "not_found"


class LookupLimitReached(ServiceError):
    """The user has used up the look-ups of the hour: the answer is withheld."""

    status = 429


def lookup_limit_per_hour() -> int:
    return int(getattr(settings, "XUEJI_LOOKUP_LIMIT_PER_HOUR", DEFAULT_LIMIT_PER_HOUR))


def _lock_user(user: Any) -> None:
    """Serialise one user's look-ups until the transaction ends (PostgreSQL; SQLite's write lock
    already serialises every transaction)."""
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return
    digest = hashlib.sha256(f"user:{user.pk}".encode()).digest()
    key = int.from_bytes(digest[:4], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, key])


def lookup_answer(
    *,
    actor: Any,
    kind: LookupKind,
    outcome: LookupOutcome,
    object_id: uuid.UUID | str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Count one answer against the actor's look-ups of the hour and audit it, in a transaction
    of its own (call it after the asking action's transaction has ended: a refused registration
    rolls its own back). Raises LookupLimitReached, after auditing the refusal, when the hour's
    look-ups are used up; the caller then withholds the answer.

    `object_id` is the student the answer is about (the auditors of the student's area see the
    entry); `detail` must hold no plaintext number (the trail masks resident ID numbers anyway).
    """
    limit = lookup_limit_per_hour()
    object_type = "student" if object_id else ""
    retry_at: datetime.datetime | None = None
    with transaction.atomic():
        _lock_user(actor)
        now = timezone.now()
        answered = AuditEntry.objects.filter(actor=actor, action=LOOKUP_ACTION, at__gt=now - WINDOW)
        used = answered.count()
        if used >= limit:
            oldest = answered.order_by("at").values_list("at", flat=True).first()
            retry_at = (oldest or now) + WINDOW
            audit_record(
                actor=actor,
                action=LOOKUP_REFUSED_ACTION,
                object_type=object_type,
                object_id=object_id,
                detail={"kind": str(kind), "limit": limit, "answered_in_the_hour": used},
            )
        else:
            audit_record(
                actor=actor,
                action=LOOKUP_ACTION,
                object_type=object_type,
                object_id=object_id,
                detail={"kind": str(kind), "outcome": str(outcome), **(detail or {})},
            )
    if retry_at is not None:
        raise _limit_reached(limit, retry_at)


def _limit_reached(limit: int, retry_at: datetime.datetime) -> LookupLimitReached:
    wait = max(1, math.ceil((retry_at - timezone.now()).total_seconds()))
    return LookupLimitReached(
        "lookup_limit_reached",
        translated(
            _(
                "Too many look-ups of children registered at other schools: each user may make "
                "%(limit)d in an hour. Try again after %(time)s. Every refusal is reported to "
                "the auditors."
            ),
            {"limit": limit, "time": timezone.localtime(retry_at).strftime("%H:%M")},
        ),
        limit=limit,
        retry_after_seconds=wait,
    )
