"""The county review of new registrations (县级审核), identity's side.

Where the province requires it (ProvinceIdentityRule.county_review), students' registration
creates the record without a number and waits (xueji.students.review writes every state and
number). Identity answers whether a school's registrations wait (the policy it registers), runs
the duplicate check of a registration under review (its record against the records of the
school's province, through the national interface, as the scan does; the nightly scan covers the
nation), and reads the county's queue and the registrar's list with each record's identity status
and the duplicate pairs it is in.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from xueji.access.models import ScopeLevel
from xueji.access.policy import Action
from xueji.access.scope import Scope, may_register_at, require, scope_of
from xueji.core.errors import FieldErrors
from xueji.identity.matching import find_against
from xueji.identity.models import OPEN_PAIR_STATES, DuplicatePair, IdentityStatus
from xueji.identity.services import pairs_propose
from xueji.students.models import (
    RecordEvent,
    RecordState,
    RegistrationReview,
    ReviewState,
    Student,
)
from xueji.students.national import national_index

PAGE_SIZE = 50


def registration_duplicate_check(student: Student) -> None:
    """After a registration under county review is made or resent (its transaction): pairs of
    the record with records of the school's province that may be the same child, proposed as
    the scan proposes them, for the county to see beside the registration."""
    if student.state != RecordState.PENDING_REVIEW:
        return
    from xueji.identity.scan import _person

    province = student.school.county_id[:2]
    rows = [_person(row) for row in national_index().match_rows(area_prefix=province)]
    mine = [person for person in rows if person.key == str(student.pk)]
    if not mine:
        return
    matches = find_against(mine, rows)
    if matches:
        pairs_propose(matches, {person.key: person.county for person in rows})


# The fields of the correction form of a returned registration (blank ID number: unchanged).
RESUBMIT_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "id_doc_type",
    "id_number",
    "birthplace_code",
    "ethnicity",
    "hukou_division_code",
)


def resubmitted_changes(posted: Any) -> dict[str, Any]:
    """The corrections a form (or the API) sends: the fields given, the birth date read as a
    date (a bad one refused naming the field)."""
    changes: dict[str, Any] = {}
    for name in RESUBMIT_FIELDS:
        value = (posted.get(name) or "").strip()
        if not value:
            continue
        if name == "birth_date":
            try:
                changes[name] = datetime.date.fromisoformat(value)
            except ValueError:
                raise FieldErrors(
                    {
                        "birth_date": [
                            ValidationError(_("Enter a date as YYYY-MM-DD."), code="invalid")
                        ]
                    }
                ) from None
        else:
            changes[name] = value
    return changes


# ---- reads -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewRow:
    review: RegistrationReview
    student: Student
    identity: IdentityStatus | None
    pairs: list[DuplicatePair]


def _reviews_for(scope: Scope | None) -> QuerySet[RegistrationReview]:
    """The reviews the scope sees: a county approver its county's; a registrar its school's."""
    reviews = RegistrationReview.objects.select_related("student__school", "school_class")
    if scope is None:
        return reviews.none()
    if scope.level == ScopeLevel.COUNTY and scope.role == "bureau_approver":
        return reviews.filter(county_code=scope.division_code or "-")
    if scope.is_school and scope.school_id is not None and may_register_at(scope, scope.school_id):
        return reviews.filter(student__school_id=scope.school_id)
    return reviews.none()


def _rows(reviews: list[RegistrationReview]) -> list[ReviewRow]:
    ids = [review.student_id for review in reviews]
    statuses = {row.student_id: row for row in IdentityStatus.objects.filter(student_id__in=ids)}
    pairs: dict[uuid.UUID, list[DuplicatePair]] = {}
    for pair in DuplicatePair.objects.select_related(
        "student_a__school", "student_b__school"
    ).filter(Q(student_a_id__in=ids) | Q(student_b_id__in=ids), state__in=OPEN_PAIR_STATES):
        for side in (pair.student_a_id, pair.student_b_id):
            if side in ids:
                pairs.setdefault(side, []).append(pair)
    return [
        ReviewRow(
            review=review,
            student=review.student,
            identity=statuses.get(review.student_id),
            pairs=pairs.get(review.student_id, []),
        )
        for review in reviews
    ]


def review_list(
    user: Any,
    *,
    action: str = Action.REGISTRATION_REVIEW,
    state: str = ReviewState.WAITING,
    school_id: int | None = None,
    q: str = "",
    page: int = 1,
) -> tuple[Page[RegistrationReview], list[ReviewRow]]:
    """The county's review queue (a registrar: the school's registrations under review), oldest
    first, filtered by state ("" or "all": any), school and name; a page and its rows."""
    scope = require(user, action) if scope_of(user) is not None else None
    reviews = _reviews_for(scope)
    if state and state != "all":
        reviews = reviews.filter(state=state)
    if school_id:
        reviews = reviews.filter(student__school_id=school_id)
    if q.strip():
        text = q.strip()
        reviews = reviews.filter(
            Q(student__name__startswith=text) | Q(student__name_pinyin__startswith=text.lower())
        )
    found = Paginator(reviews.order_by("submitted_at", "student_id"), PAGE_SIZE).get_page(page)
    return found, _rows(list(found.object_list))


def review_detail(
    user: Any, registration_id: Any, *, action: str = Action.REGISTRATION_REVIEW
) -> tuple[ReviewRow, list[RecordEvent]] | None:
    """One registration under review with its identity status, its open pairs and its history;
    None outside the user's county (or school)."""
    scope = require(user, action) if scope_of(user) is not None else None
    review = _reviews_for(scope).filter(student_id=registration_id).first()
    if review is None:
        return None
    events = list(RecordEvent.objects.filter(student_id=review.student_id).order_by("recorded_at"))
    return _rows([review])[0], events


def review_schools(user: Any) -> list[tuple[int, str]]:
    """The schools with registrations in the user's queue (the filter's choices)."""
    scope = scope_of(user)
    found = (
        _reviews_for(scope)
        .values_list("student__school_id", "student__school__name")
        .distinct()
        .order_by("student__school__name")
    )
    return list(found)


def setting_history(user: Any, *, limit: int = 20) -> list[Any]:
    """The province's identity settings as they changed (from the audit trail, which keeps each
    change with its before and after): the latest first."""
    from xueji.audit.models import AuditEntry

    scope = require(user, Action.IDENTITY_SETTINGS)
    province = (scope.division_code or "")[:2] + "0000"
    return list(
        AuditEntry.objects.filter(action="identity.settings", detail__province=province).order_by(
            "-at"
        )[:limit]
    )
