"""L numbers (临时学籍号) and their change to G once the identity is confirmed (DOMAIN §2).

Where a province checks identities against the population roll (xueji.identity), a child whose
identity the roll has not confirmed at registration gets an L number: the school's county code,
the birth date and four digits from a locked counter ("L" + area + date in NumberSequence, at
most 9999), unique as every student number is (one_record_per_number). Once the roll confirms
the identity the record takes its G number; the L number becomes a former number and resolves
to the same record for ever.

The students app does not know the roll: xueji.identity registers, at start-up, the policy that
says whether a registration gets an L number (`register_temporary_number_policy`) and what to do
once the record exists (`register_after_registration`).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.core import codes
from xueji.core.errors import ServiceError
from xueji.core.idnumbers import g_number
from xueji.students.identity import STUDENT_ID_NUMBER, student_number_fields, unseal
from xueji.students.models import EventKind, NumberKind, RecordEvent, Student, StudentNumberAlias
from xueji.students.record import _in_transaction

TemporaryNumberPolicy = Callable[[Any, Any], bool]
AfterRegistration = Callable[[Student], None]

ReviewPolicy = Callable[[Any], bool]
AfterWithdrawal = Callable[[Student], None]

_POLICIES: list[TemporaryNumberPolicy] = []
_AFTER: list[AfterRegistration] = []
_REVIEW: list[ReviewPolicy] = []
_AFTER_WITHDRAWAL: list[AfterWithdrawal] = []


def register_review_policy(policy: ReviewPolicy) -> None:
    """`policy(school)` answers True when a new registration at the school waits for the county's
    review (县级审核) before its number is issued (xueji.students.review)."""
    if policy not in _REVIEW:
        _REVIEW.append(policy)


def register_after_withdrawal(hook: AfterWithdrawal) -> None:
    """`hook(student)` runs inside the withdrawal of a registration under review."""
    if hook not in _AFTER_WITHDRAWAL:
        _AFTER_WITHDRAWAL.append(hook)


def review_required(school: Any) -> bool:
    return any(policy(school) for policy in _REVIEW)


def after_withdrawal(student: Student) -> None:
    for hook in _AFTER_WITHDRAWAL:
        hook(student)


def register_temporary_number_policy(policy: TemporaryNumberPolicy) -> None:
    """`policy(school, data)` answers True when the registration must get an L number."""
    if policy not in _POLICIES:
        _POLICIES.append(policy)


def register_after_registration(hook: AfterRegistration) -> None:
    """`hook(student)` runs inside the registration's transaction once the record exists."""
    if hook not in _AFTER:
        _AFTER.append(hook)


def temporary_number_required(school: Any, data: Any) -> bool:
    return data.id_doc_type == codes.IdDocType.RESIDENT_ID and any(
        policy(school, data) for policy in _POLICIES
    )


def after_registration(student: Student) -> None:
    for hook in _AFTER:
        hook(student)


def l_number(area_code: str, birth_date: datetime.date, sequence: int) -> str:
    """An L number: area code, birth date and a 4-digit sequence."""
    if not 0 < sequence < 10000:
        raise ValueError("sequence must be 1..9999")
    return f"L{area_code}{birth_date:%Y%m%d}{sequence:04d}"


def student_number_allocate_l(area_code: str, birth_date: datetime.date) -> str:
    """The next L number of the area and birth date, from its locked counter (held until the
    caller's transaction ends)."""
    from xueji.students.services import number_sequence_take

    taken = number_sequence_take(f"L{area_code}{birth_date:%Y%m%d}", limit=9999)
    if taken is None:
        raise ServiceError(
            "l_numbers_exhausted",
            _("No L number is left for this area and birth date; ask the county bureau."),
        )
    return l_number(area_code, birth_date, taken)


def records_confirm_identity(*, actor: Any, student_ids: Iterable[Any]) -> int:
    """L-numbered records whose identity the roll confirmed take their G number; the L number
    stays a former number of the same record. Set-based: one read, bulk writes. Returns how many
    changed."""
    _in_transaction()
    students = list(
        Student.objects.select_for_update()
        .filter(pk__in=list(student_ids), number_kind=NumberKind.L)
        .exclude(id_number_sealed="")
    )
    if not students:
        return 0
    today = timezone.localdate()
    aliases, events = [], []
    for student in students:
        aliases.append(
            StudentNumberAlias(
                number_index=student.number_index,
                number_sealed=student.number_sealed,
                number_masked=student.number_masked,
                kind=NumberKind.L,
                student=student,
            )
        )
        old_masked = student.number_masked
        for field, value in student_number_fields(
            g_number(unseal(student.id_number_sealed, context=STUDENT_ID_NUMBER))
        ).items():
            setattr(student, field, value)
        student.number_kind = NumberKind.G
        student.updated_at = timezone.now()
        events.append(
            RecordEvent(
                student=student,
                kind=EventKind.NUMBER_CHANGED,
                occurred_on=today,
                actor=actor if getattr(actor, "pk", None) else None,
                detail={"from": old_masked, "to": student.number_masked, "reason": "identity"},
            )
        )
    StudentNumberAlias.objects.bulk_create(aliases)
    Student.objects.bulk_update(
        students,
        ["number_masked", "number_sealed", "number_index", "number_kind", "updated_at"],
        batch_size=500,
    )
    RecordEvent.objects.bulk_create(events)
    return len(students)
