"""Reads of the school year: the scope a run covers, the clearing's unfinished business, runs
in a user's area, notices to a school, and graduates admitted nowhere (possible dropouts)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xueji.access.policy import Action
from xueji.access.scope import area_q, division_in_area, may, school_in_area, scope_of
from xueji.changes.models import ACTIVE_STATES, ChangeKind, ChangeRequest, ChangeState
from xueji.core.errors import NotFound
from xueji.corrections.models import CorrectionRequest
from xueji.corrections.workflow import OPEN_STATES
from xueji.geo.models import Division
from xueji.schools.models import School, academic_start_year
from xueji.schools.stages import ends_stage_q
from xueji.students.models import Placement, RecordState, Student
from xueji.yearend.models import Notice, Outcome, OutcomeOverride, RunKind, YearEndRun

# Blockers listed on the page and in the refusal (the total is counted).
BLOCKER_LIST_LIMIT = 200


@dataclass(frozen=True)
class Target:
    """What a run covers: a school, a county, city or province, or the nation."""

    level: str
    code: str
    label: str
    school: School | None = None

    def q(self, prefix: str = "") -> Q:
        """Filter on a model reaching School through `prefix` ("" for School itself)."""
        if self.level == "nation":
            return Q()
        if self.school is not None:
            return Q(**{f"{prefix}id": self.school.pk})
        return Q(**{f"{prefix}{self.level}_id": self.code})

    def sql(self) -> tuple[str, dict[str, Any]]:
        """The same filter on the school aliased `sc` in raw SQL."""
        if self.level == "nation":
            return "1 = 1", {}
        if self.school is not None:
            return "sc.id = %(scope_school)s", {"scope_school": self.school.pk}
        return f"sc.{self.level}_id = %(scope_code)s", {"scope_code": self.code}


def _not_found() -> NotFound:
    return NotFound("scope_not_found", _("No such school or division in your area."))


def resolve_target(text: str) -> Target:
    """A 10-digit school code, a division code (2 or 6 digits), or "" / "nation"."""
    code = (text or "").strip()
    if code in ("", "nation", "000000"):
        return Target("nation", "", str(_("Nation")))
    if len(code) == 10 and code.isdigit():
        school = School.objects.filter(code=code).first()
        if school is None:
            raise _not_found()
        return Target("school", code, f"{school.name} ({code})", school)
    if len(code) == 2 and code.isdigit():
        code += "0000"
    division = Division.objects.filter(code=code).first()
    if division is None:
        raise _not_found()
    return Target(str(division.level), code, f"{division.name} ({code})")


def target_in_area(user: Any, target: Target) -> bool:
    scope = scope_of(user)
    if scope is None:
        return False
    if target.school is not None:
        return school_in_area(scope, target.school)
    if target.level == "nation":
        return scope.level == "nation"
    return division_in_area(scope, target.code)


# ---- the clearing --------------------------------------------------------------------------


def _link(name: str, object_id: Any) -> str:
    try:
        return reverse(name, args=[object_id])
    except NoReverseMatch:
        return ""


def _final_grade_students(target: Target, from_year: int) -> QuerySet[Placement, Any]:
    return Placement.objects.filter(
        target.q("school__"),
        ends_stage_q("school__"),
        end_date__isnull=True,
        school_class__academic_year__start_year=from_year,
        grade=F("school__last_grade"),
    ).values("student_id")


def blockers_of(target: Target, kind: str, from_year: int) -> tuple[list[dict[str, Any]], int]:
    """The unfinished business that stops a run (the first BLOCKER_LIST_LIMIT, and the total):
    transfers under way out of the area's schools; for a graduation also every change of
    status and key-data correction still open for a student of a final grade; for a
    promotion approved skips that would pass the school's last grade."""
    changes = ChangeRequest.objects.filter(
        target.q("from_school__"),
        kind=ChangeKind.TRANSFER,
        state__in=[ChangeState.PENDING, ChangeState.HELD],
    )
    corrections = CorrectionRequest.objects.none()
    if kind == RunKind.GRADUATE:
        final = _final_grade_students(target, from_year)
        changes = changes | ChangeRequest.objects.filter(
            student_id__in=final, state__in=list(ACTIVE_STATES)
        ).exclude(kind=ChangeKind.REPEAT, state=ChangeState.APPROVED)
        corrections = CorrectionRequest.objects.filter(
            student_id__in=final, state__in=list(OPEN_STATES)
        )
    else:
        changes = changes | ChangeRequest.objects.filter(
            target.q("from_school__"),
            kind=ChangeKind.SKIP,
            state=ChangeState.APPROVED,
            from_grade__gte=F("from_school__last_grade") - 1,
        )
    items: list[dict[str, Any]] = []
    for change in changes.select_related("student", "from_school").order_by("filed_at")[
        :BLOCKER_LIST_LIMIT
    ]:
        items.append(
            {
                "type": "change",
                "id": str(change.pk),
                "what": f"{change.get_kind_display()}: {change.get_state_display()}",
                "student": change.student.number_masked,
                "student_id": str(change.student_id),
                "school": change.from_school.name,
                "school_id": change.from_school_id,
                "link": _link("changes:detail", change.pk),
            }
        )
    for correction in corrections.select_related("student", "school").order_by("created_at")[
        :BLOCKER_LIST_LIMIT
    ]:
        items.append(
            {
                "type": "correction",
                "id": str(correction.pk),
                "what": f"{_('Key-data correction')}: {correction.get_state_display()}",
                "student": correction.student.number_masked,
                "student_id": str(correction.student_id),
                "school": correction.school.name,
                "school_id": correction.school_id,
                "link": _link("corrections:detail", correction.pk),
            }
        )
    total = changes.count() + corrections.count()
    return items[:BLOCKER_LIST_LIMIT], total


# ---- runs ----------------------------------------------------------------------------------


def _runs_q(user: Any) -> Q:
    """Runs whose scope lies inside the user's area."""
    scope = scope_of(user)
    if scope is None or not may(scope, Action.YEAREND_VIEW):
        return Q(pk__in=[])
    if scope.level == "nation":
        return Q()
    if scope.level == "school":
        school = (
            School.objects.filter(pk=scope.school_id or 0).values_list("code", flat=True).first()
        )
        return Q(scope_level="school", scope_code=school or "-")
    digits = {"county": 6, "city": 4, "province": 2}[scope.level]
    prefix = (scope.division_code or "")[:digits]
    inside_divisions = Q(
        scope_level__in=["county", "city", "province"], scope_code__startswith=prefix
    )
    if scope.level != "province":
        inside_divisions &= ~Q(scope_level="province")
    if scope.level == "county":
        inside_divisions &= ~Q(scope_level="city")
    schools = School.objects.filter(area_q(scope)).values("code")
    return inside_divisions | Q(scope_level="school", scope_code__in=schools)


def runs_visible(user: Any, limit: int = 100) -> list[YearEndRun]:
    """The latest runs in the user's area."""
    return list(YearEndRun.objects.filter(_runs_q(user)).order_by("-created_at")[:limit])


def run_get(user: Any, run_id: Any) -> YearEndRun | None:
    """A run in the user's area, or None."""
    return YearEndRun.objects.filter(_runs_q(user), pk=run_id).first()


def notices_for(user: Any, limit: int = 50) -> list[Notice]:
    """The clearing's notices to the user's school (or schools of the area)."""
    scope = scope_of(user)
    if scope is None or not may(scope, Action.YEAREND_VIEW):
        return []
    return list(Notice.objects.filter(area_q(scope, "school__")).select_related("school")[:limit])


# ---- possible dropouts ---------------------------------------------------------------------


def intake_deadline(graduated_into: int) -> datetime.date:
    """The day by which graduates of the year before `graduated_into` should be admitted."""
    month, day = (int(part) for part in settings.XUEJI_INTAKE_DEADLINE.split("-"))
    return datetime.date(graduated_into, month, day)


@dataclass(frozen=True)
class DropoutCounty:
    code: str
    name: str
    count: int


@dataclass(frozen=True)
class Dropouts:
    deadline: datetime.date
    passed: bool
    counties: list[DropoutCounty]
    students: Sequence[Student]


def possible_dropouts(user: Any, *, from_year: int | None = None, limit: int = 500) -> Dropouts:
    """Graduates of compulsory-stage grades (below 9) of `from_year`'s end who are admitted
    nowhere: per county of their last school, and by name (masked on the page)."""
    scope = scope_of(user)
    start = (academic_start_year(timezone.localdate()) - 1) if from_year is None else from_year
    deadline = intake_deadline(start + 1)
    if scope is None or not may(scope, Action.DROPOUTS_VIEW):
        return Dropouts(deadline, False, [], [])
    last_grade = Subquery(
        Placement.objects.filter(student_id=OuterRef("pk"))
        .order_by("-start_date")
        .values("grade")[:1]
    )
    last_start = Subquery(
        Placement.objects.filter(student_id=OuterRef("pk"))
        .order_by("-start_date")
        .values("school_class__academic_year__start_year")[:1]
    )
    graduates = (
        Student.objects.filter(area_q(scope, "school__"), state=RecordState.GRADUATED)
        .annotate(last_grade=last_grade, last_year=last_start)
        .filter(last_grade__lt=9, last_year=start)
    )
    counties = [
        DropoutCounty(row["school__county_id"], row["school__county__name"], row["n"])
        for row in graduates.values("school__county_id", "school__county__name")
        .annotate(n=Count("pk"))
        .order_by("school__county_id")
    ]
    students = list(
        graduates.select_related("school").order_by("school__county_id", "name_pinyin")[:limit]
    )
    return Dropouts(deadline, timezone.localdate() > deadline, counties, students)


# ---- outcomes recorded before graduation ---------------------------------------------------


@dataclass(frozen=True)
class FinalGradeRow:
    student: Student
    outcome: str


def final_grade_students(user: Any, *, from_year: int | None = None) -> list[FinalGradeRow]:
    """The students of the user's school's final grade this year, with the outcome recorded;
    none at a school whose last grade ends no stage (they go on, they do not graduate)."""
    scope = scope_of(user)
    if scope is None or scope.school_id is None or not may(scope, Action.YEAREND_OUTCOME):
        return []
    start = academic_start_year(timezone.localdate()) if from_year is None else from_year
    students = list(
        Student.objects.filter(
            ends_stage_q("placements__school__"),
            placements__school_id=scope.school_id,
            placements__end_date__isnull=True,
            placements__grade=F("placements__school__last_grade"),
            placements__school_class__academic_year__start_year=start,
        ).order_by("name_pinyin", "pk")
    )
    chosen = dict(
        OutcomeOverride.objects.filter(
            student_id__in=[s.pk for s in students], from_year=start
        ).values_list("student_id", "outcome")
    )
    return [FinalGradeRow(s, chosen.get(s.pk, Outcome.GRADUATED)) for s in students]
