"""Look-ups of records outside the user's scope: every answer audited, a limit per user and hour.

Several answers tell a user something about a child they do not hold: a registration refused
because another school holds the ID number (the school is named only when the name typed is the
record's), an import's row refused so, a transfer's look-up by student number and name, and a
transfer filed by number and name and refused (or not found). Each is a question someone could ask
of numbers by the hundred, so each answer is an audit entry (`student.lookup`, with its kind and
outcome, numbers masked), and a user gets XUEJI_LOOKUP_LIMIT_PER_HOUR of them (default 20) in
any 60 minutes. Beyond it the answer is withheld (429, LookupLimitReached) and the refusal is an
entry of its own (`student.lookup_refused`), which the auditors' page lists as an alert
(xueji.trail.selectors.lookup_alerts).

An import asks many at once (lookup_answers): each answer it gives is an entry of its own, as
one asked alone would be, so the count stays a count of entries; the answers beyond the hour's
allowance are withheld, and the refusal is one entry saying how many were.

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
from collections.abc import Sequence
from dataclasses import dataclass, field
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
    TRANSFER_FILING = "transfer_filing"  # a transfer filed by number and name, not filed
    IMPORT = "import"  # an import's row refused: the ID number is held by another school


class LookupOutcome(enum.StrEnum):
    SCHOOL_NAMED = "school_named"  # the name typed is the record's: the school was named
    REGISTERED_ELSEWHERE = "registered_elsewhere"  # it is not: only "registered elsewhere"
    FOUND = "found"
    NOT_FOUND = "not_found"
    REFUSED = "refused"  # found, and the filing refused for the child's state (the code kept)


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


@dataclass(frozen=True)
class LookupAsked:
    """One answer about a child outside the user's scope: its outcome, the student it is about
    (the auditors of the student's area then see the entry) and what the entry says besides
    (no plaintext number; the trail masks resident ID numbers anyway)."""

    outcome: LookupOutcome
    object_id: uuid.UUID | str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LookupsCounted:
    """How many of the answers asked, in their order, may be given; the rest are withheld, and
    `refused` (429) says until when."""

    answered: int
    refused: LookupLimitReached | None = None
    retry_at: datetime.datetime | None = None


def lookup_answers(
    *,
    actor: Any,
    kind: LookupKind,
    asked: Sequence[LookupAsked],
    refusal_detail: dict[str, Any] | None = None,
) -> LookupsCounted:
    """Count answers against the actor's look-ups of the hour and audit them, one entry each, in
    a transaction of its own (call it after the asking action's transaction has ended: a refused
    registration or import rolls its own back). The first answers, as many as the hour has left,
    are given; if some are left over, they are withheld and the refusal is one entry (with
    `withheld`, how many, when several were asked, and `refusal_detail`)."""
    if not asked:
        return LookupsCounted(answered=0)
    limit = lookup_limit_per_hour()
    retry_at: datetime.datetime | None = None
    with transaction.atomic():
        _lock_user(actor)
        now = timezone.now()
        in_the_hour = AuditEntry.objects.filter(
            actor=actor, action=LOOKUP_ACTION, at__gt=now - WINDOW
        )
        used = in_the_hour.count()
        answered = max(0, min(len(asked), limit - used))
        for each in asked[:answered]:
            audit_record(
                actor=actor,
                action=LOOKUP_ACTION,
                object_type="student" if each.object_id else "",
                object_id=each.object_id,
                detail={"kind": str(kind), "outcome": str(each.outcome), **each.detail},
            )
        if answered < len(asked):
            # The hour's first answer leaves it first: then one more may be given.
            oldest = in_the_hour.order_by("at").values_list("at", flat=True).first()
            retry_at = (oldest or now) + WINDOW
            # One child withheld is named, as its answer would have; a batch's refusal is the
            # file's, about no one child.
            about = asked[answered].object_id if len(asked) == 1 else None
            detail: dict[str, Any] = {
                "kind": str(kind),
                "limit": limit,
                "answered_in_the_hour": used + answered,
            }
            if len(asked) > 1:
                detail["withheld"] = len(asked) - answered
            audit_record(
                actor=actor,
                action=LOOKUP_REFUSED_ACTION,
                object_type="student" if about else "",
                object_id=about,
                detail={**detail, **(refusal_detail or {})},
            )
    if retry_at is None:
        return LookupsCounted(answered=answered)
    return LookupsCounted(
        answered=answered, refused=_limit_reached(limit, retry_at), retry_at=retry_at
    )


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
    counted = lookup_answers(
        actor=actor,
        kind=kind,
        asked=[LookupAsked(outcome=outcome, object_id=object_id, detail=detail or {})],
    )
    if counted.refused is not None:
        raise counted.refused


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
