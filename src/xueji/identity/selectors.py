"""Reads of the identity app, each limited to the user's area by the permission matrix.

The roll is read only by bureau staff (identity.roll_view) and every read of its entries is
audited. The selectors other capabilities use (interfaces.md): students_in_open_duplicate_pairs,
identity_status_counts.
"""

from __future__ import annotations

import datetime
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Q, QuerySet

from xueji.access.policy import Action
from xueji.access.scope import Scope, may, require, scope_of, students_visible
from xueji.audit.services import audit_record
from xueji.identity.models import (
    OPEN_PAIR_STATES,
    DuplicatePair,
    IdentityState,
    IdentityStatus,
    PairEvidence,
    PairState,
    RollEntry,
    RollLoad,
    UnrecordedChild,
    UnrecordedState,
)
from xueji.identity.services import UNDO_DAYS, area_prefix, may_decide
from xueji.students.models import (
    ON_ROLL_STATES,
    FamilyMember,
    Placement,
    RegistrationReview,
    ReviewState,
    Student,
)

PAGE_SIZE = 50


def _scope(user: Any, action: str) -> Scope | None:
    """The user's scope for `action`: None for a signed-in user without a membership (who is
    shown nothing); PermissionRefused when the role may not."""
    if scope_of(user) is None:
        return None
    return require(user, action)


# ---- for other capabilities (interfaces.md) ----------------------------------------------------


def students_in_open_duplicate_pairs() -> set[uuid.UUID]:
    """Every record in a pair not yet decided (proposed or escalated)."""
    found: set[uuid.UUID] = set()
    for a, b in DuplicatePair.objects.filter(state__in=OPEN_PAIR_STATES).values_list(
        "student_a_id", "student_b_id"
    ):
        found.update((a, b))
    return found


def identity_status_counts(*, county_code: str) -> dict[str, int]:
    """The county's records by identity status (confirmed, disagrees, not_in_roll,
    not_checked), its open pairs and its open 有人无籍 children."""
    on_roll = Student.objects.filter(school__county_id=county_code, state__in=ON_ROLL_STATES)
    counts = Counter(
        IdentityStatus.objects.filter(student__in=on_roll).values_list("status", flat=True)
    )
    total = on_roll.count()
    result = {state.value: counts.get(state.value, 0) for state in IdentityState}
    result[IdentityState.NOT_CHECKED.value] = total - sum(
        counts.get(state.value, 0) for state in IdentityState if state != IdentityState.NOT_CHECKED
    )
    result["open_pairs"] = (
        DuplicatePair.objects.filter(state__in=OPEN_PAIR_STATES)
        .filter(Q(county_a=county_code) | Q(county_b=county_code))
        .count()
    )
    result["unrecorded_open"] = UnrecordedChild.objects.filter(
        county_code=county_code, state=UnrecordedState.OPEN
    ).count()
    # 县级审核: the county's new registrations waiting for its review.
    result["registrations_waiting"] = RegistrationReview.objects.filter(
        county_code=county_code, state=ReviewState.WAITING
    ).count()
    return result


def status_counts_in_area(user: Any) -> dict[str, int]:
    """The same counts as identity_status_counts for the records the user sees (a school's, an
    area's), its open pairs and its open 有人无籍 children."""
    scope = _scope(user, Action.IDENTITY_STATUS_VIEW)
    on_roll = Student.objects.filter(
        students_visible(scope, Action.STUDENT_VIEW), state__in=ON_ROLL_STATES
    )
    counts = Counter(
        IdentityStatus.objects.filter(student__in=on_roll).values_list("status", flat=True)
    )
    result = {state.value: counts.get(state.value, 0) for state in IdentityState}
    result[IdentityState.NOT_CHECKED.value] = on_roll.count() - sum(
        counts.get(state.value, 0) for state in IdentityState if state != IdentityState.NOT_CHECKED
    )
    result["open_pairs"] = (
        DuplicatePair.objects.filter(state__in=OPEN_PAIR_STATES)
        .filter(Q(student_a__in=on_roll) | Q(student_b__in=on_roll))
        .count()
    )
    prefix = area_prefix(scope)
    result["unrecorded_open"] = (
        0
        if prefix is None
        else UnrecordedChild.objects.filter(
            county_code__startswith=prefix, state=UnrecordedState.OPEN
        ).count()
    )
    return result


# ---- the roll ----------------------------------------------------------------------------------


def roll_loads(user: Any) -> QuerySet[RollLoad]:
    scope = _scope(user, Action.IDENTITY_ROLL_VIEW)
    prefix = area_prefix(scope)
    if prefix is None:
        return RollLoad.objects.none()
    return RollLoad.objects.filter(province_code__startswith=prefix[:2]).select_related("loaded_by")


def roll_search(user: Any, *, q: str = "", page: int = 1) -> Page[RollEntry]:
    """Children of the roll in the user's area, by name (or the masked number's tail); the
    read is audited (who looked at the roll, for what)."""
    scope = _scope(user, Action.IDENTITY_ROLL_VIEW)
    prefix = area_prefix(scope)
    if prefix is None:
        return Paginator(RollEntry.objects.none(), PAGE_SIZE).get_page(1)
    entries = RollEntry.objects.filter(household_division__startswith=prefix).order_by("pk")
    q = q.strip()
    if q:
        entries = entries.filter(Q(name__contains=q) | Q(id_number_masked__endswith=q))
    found = Paginator(entries, PAGE_SIZE).get_page(page)
    with transaction.atomic():
        audit_record(
            actor=user,
            action="identity.roll_view",
            object_type="roll",
            detail={"q": q, "page": found.number, "rows": len(found.object_list)},
        )
    return found


# ---- identity status ---------------------------------------------------------------------------


def status_list(user: Any, *, status: str = "", page: int = 1) -> Page[IdentityStatus]:
    """The records of the user's area (a registrar: the school's) with their identity status;
    `status` filters (disagrees: the registrar's work list)."""
    scope = _scope(user, Action.IDENTITY_STATUS_VIEW)
    visible = Student.objects.filter(students_visible(scope, Action.STUDENT_VIEW))
    rows = (
        IdentityStatus.objects.filter(student__in=visible)
        .select_related("student", "student__school", "roll_entry")
        .order_by("student__name_pinyin", "student_id")
    )
    if status in IdentityState.values:
        rows = rows.filter(status=status)
    return Paginator(rows, PAGE_SIZE).get_page(page)


def status_of(student_id: Any) -> IdentityStatus | None:
    return IdentityStatus.objects.filter(student_id=student_id).first()


# ---- duplicate pairs ---------------------------------------------------------------------------


def _pairs_in_area(scope: Scope) -> QuerySet[DuplicatePair]:
    prefix = area_prefix(scope)
    if prefix is None:
        return DuplicatePair.objects.none()
    return DuplicatePair.objects.filter(
        Q(county_a__startswith=prefix) | Q(county_b__startswith=prefix)
    )


def pair_list(user: Any, *, state: str = "", page: int = 1) -> Page[DuplicatePair]:
    scope = _scope(user, Action.DUPLICATE_VIEW)
    if scope is None:
        return Paginator(DuplicatePair.objects.none(), PAGE_SIZE).get_page(1)
    pairs = _pairs_in_area(scope).select_related(
        "student_a", "student_b", "student_a__school", "student_b__school"
    )
    pairs = pairs.filter(state=state) if state in PairState.values else pairs
    return Paginator(pairs.order_by("-score", "proposed_at"), PAGE_SIZE).get_page(page)


@dataclass(frozen=True)
class Side:
    student: Student
    placement: Placement | None
    family: list[FamilyMember]
    status: IdentityStatus | None


@dataclass(frozen=True)
class PairView:
    pair: DuplicatePair
    a: Side
    b: Side
    rows: list[tuple[str, str, str, bool, float | None]]  # label, a, b, agree, contribution
    may_decide: bool
    may_undo: bool
    evidence: list[PairEvidence]


def _side(student: Student) -> Side:
    return Side(
        student=student,
        placement=Placement.objects.select_related("school", "school_class")
        .filter(student=student, end_date__isnull=True)
        .first(),
        family=list(student.family.all()),
        status=status_of(student.pk),
    )


def _parents(side: Side) -> str:
    return "、".join(member.name for member in side.family if member.name)


def pair_detail(user: Any, pair_id: Any) -> PairView | None:
    """The two records side by side, what agrees and what differs, each field's contribution
    to the score; whether the user may decide or undo now."""
    scope = _scope(user, Action.DUPLICATE_VIEW)
    if scope is None:
        return None
    pair = (
        _pairs_in_area(scope)
        .select_related("student_a__school", "student_b__school", "student_a", "student_b")
        .filter(pk=pair_id)
        .first()
    )
    if pair is None:
        return None
    a, b = _side(pair.student_a), _side(pair.student_b)
    c = pair.contributions

    def row(label: str, field: str, left: Any, right: Any) -> tuple[str, str, str, bool, Any]:
        return (label, str(left or "—"), str(right or "—"), left == right, c.get(field))

    sa, sb = a.student, b.student
    rows = [
        row("name", "name", sa.name, sb.name),
        row("sex", "sex", sa.get_sex_display(), sb.get_sex_display()),
        row("birth_date", "birth_date", sa.birth_date, sb.birth_date),
        row("id_number", "id_number", sa.id_number_masked, sb.id_number_masked),
        row("student_number", "", sa.number_masked, sb.number_masked),
        row("birthplace", "birthplace", sa.birthplace_id, sb.birthplace_id),
        row("ethnicity", "ethnicity", sa.get_ethnicity_display(), sb.get_ethnicity_display()),
        row("parents", "parent_names", _parents(a), _parents(b)),
        row("school", "", sa.school.name, sb.school.name),
    ]
    if "parent_ids" in c:
        rows.append(("parent_ids", "", "", c["parent_ids"] > 0, c["parent_ids"]))
    decided_recently = (
        pair.decided_at is not None
        and (datetime.datetime.now(tz=pair.decided_at.tzinfo) - pair.decided_at).days < UNDO_DAYS
    )
    return PairView(
        pair=pair,
        a=a,
        b=b,
        rows=rows,
        may_decide=may(scope, Action.DUPLICATE_DECIDE) and may_decide(scope, pair),
        may_undo=(
            may(scope, Action.DUPLICATE_DECIDE)
            and pair.state == PairState.SAME
            and scope.division_code == pair.decided_county
            and decided_recently
        ),
        evidence=list(pair.evidence.all()),
    )


# ---- 有人无籍 and 人籍分离 --------------------------------------------------------------------


def unrecorded_list(user: Any, *, state: str = "", page: int = 1) -> Page[UnrecordedChild]:
    prefix = area_prefix(_scope(user, Action.UNRECORDED_VIEW))
    if prefix is None:
        return Paginator(UnrecordedChild.objects.none(), PAGE_SIZE).get_page(1)
    rows = UnrecordedChild.objects.filter(county_code__startswith=prefix).select_related(
        "roll_entry"
    )
    rows = rows.filter(state=state) if state in UnrecordedState.values else rows
    return Paginator(rows.order_by("county_code", "roll_entry__birth_date"), PAGE_SIZE).get_page(
        page
    )


ANOMALY_KINDS = ("household_other_county_undeclared", "declared_migrant_local", "hollow")


@dataclass(frozen=True)
class Anomaly:
    kind: str
    student: Student
    household: str


def anomalies(user: Any, *, kind: str = "", on: datetime.date | None = None) -> dict[str, Any]:
    """人籍分离 in the user's area: records whose household (the roll's, else the record's) lies
    outside the school's county while the school declared no 随迁子女, records declared 随迁
    whose household is in the county, and records flagged hollow (空挂) by attendance. Counts
    by kind, and the rows of one kind (at most 500)."""
    prefix = area_prefix(_scope(user, Action.UNRECORDED_VIEW))
    if prefix is None:
        return {"counts": dict.fromkeys(ANOMALY_KINDS, 0), "kind": ANOMALY_KINDS[0], "rows": []}
    on_roll = Student.objects.filter(
        school__county__code__startswith=prefix, state__in=ON_ROLL_STATES
    ).select_related("school", "identity_status__roll_entry")
    found: dict[str, list[Anomaly]] = {name: [] for name in ANOMALY_KINDS}
    rows = on_roll.values_list(
        "pk",
        "school__county_id",
        "hukou_division_id",
        "identity_status__roll_entry__household_division",
        "migrant_child",
    )
    ids: dict[str, list[Any]] = {name: [] for name in ANOMALY_KINDS}
    households: dict[Any, str] = {}
    for pk, county, hukou, roll_household, migrant in rows.iterator(chunk_size=5000):
        household = roll_household or hukou or ""
        households[pk] = household
        if household and household != county and not migrant:
            ids["household_other_county_undeclared"].append(pk)
        elif household and household == county and migrant:
            ids["declared_migrant_local"].append(pk)
    try:
        from xueji.attendance.selectors import hollow_student_ids

        hollow = hollow_student_ids(on=on or datetime.date.today())
        ids["hollow"] = list(on_roll.filter(pk__in=list(hollow)).values_list("pk", flat=True))
    except ImportError:  # attendance not in the tree: no hollow records to show
        ids["hollow"] = []
    counts = {name: len(values) for name, values in ids.items()}
    shown = kind if kind in ANOMALY_KINDS else ANOMALY_KINDS[0]
    students = Student.objects.select_related("school").filter(pk__in=ids[shown][:500])
    found[shown] = [
        Anomaly(kind=shown, student=student, household=households.get(student.pk, ""))
        for student in students.order_by("school__name", "name_pinyin")
    ]
    return {"counts": counts, "kind": shown, "rows": found[shown]}
