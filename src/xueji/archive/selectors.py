"""Reads of the archive: the children a user reaches, one child's growth record (the parts the
user may see), the school's certificates."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet

from xueji.access.policy import Action
from xueji.access.scope import NOTHING, may, scope_of
from xueji.archive.access import archive_students, former_school_students
from xueji.archive.models import (
    Certificate,
    Conduct,
    FactualRecord,
    FitnessResult,
    HealthCheck,
    TermReport,
    Vaccination,
)
from xueji.scores.models import Score
from xueji.students.models import Placement, Student

PAGE_SIZE = 50


def students_reached(user: Any, action: str = Action.ARCHIVE_VIEW) -> QuerySet[Student]:
    scope = scope_of(user)
    if scope is None or not may(scope, action):
        return Student.objects.filter(NOTHING)
    now, before = archive_students(scope, action), former_school_students(scope, action)
    # Q() | Q(…) is Q(…) in Django: an unlimited area (the nation) must stay unlimited.
    either = now if not now or before == NOTHING else now | before
    ids = Student.objects.filter(either).values("pk")
    return Student.objects.filter(pk__in=ids).select_related("school")


def students_page(user: Any, *, q: str = "", page: int = 1) -> Page[Student]:
    found = students_reached(user)
    q = q.strip()
    if q:
        found = found.filter(Q(name__startswith=q) | Q(name_pinyin__startswith=q.lower()))
    return Paginator(found.order_by("name_pinyin", "id"), PAGE_SIZE).get_page(page)


@dataclass
class Archive:
    """One child's archive as the reader may see it."""

    student: Student
    whole: bool  # the reader sees every school's parts (else only the own school's)
    placements: list[Placement]
    term_reports: list[TermReport]
    factual_records: list[FactualRecord]
    conduct: list[Conduct]
    health_checks: list[HealthCheck]
    vaccinations: list[Vaccination]
    scores: list[Score]
    fitness: list[FitnessResult]
    certificates: list[Certificate]
    aid: list[dict[str, Any]] = field(default_factory=list)
    aid_available: bool = False


def aid_received(student_id: Any) -> tuple[bool, list[dict[str, Any]]]:
    """The aid the child received (the welfare capability's), when that app provides it."""
    try:
        module = importlib.import_module("xueji.welfare.selectors")
    except ImportError:
        return False, []
    source = getattr(module, "aid_received", None)
    if not callable(source):
        return False, []
    return True, list(source(student_id=student_id))


def archive_of(user: Any, student_id: Any) -> Archive | None:
    """The child's archive, or None when the user reaches no part of it."""
    scope = scope_of(user)
    if scope is None or not may(scope, Action.ARCHIVE_VIEW):
        return None
    student = (
        Student.objects.filter(archive_students(scope, Action.ARCHIVE_VIEW), pk=student_id)
        .select_related("school")
        .first()
    )
    whole = student is not None
    if student is None:
        student = (
            Student.objects.filter(
                pk__in=Student.objects.filter(
                    former_school_students(scope, Action.ARCHIVE_VIEW), pk=student_id
                ).values("pk")
            )
            .select_related("school")
            .first()
        )
    if student is None:
        return None
    own = Q() if whole else Q(school_id=scope.school_id)
    # A lifted sanction is shown only to the school that decided it.
    conduct = Conduct.objects.filter(own, student=student).exclude(
        Q(lifted_on__isnull=False) & ~Q(school_id=scope.school_id)
    )
    score_filter = Q() if whole else Q(school_class__school_id=scope.school_id)
    aid_available, aid = aid_received(student.pk) if whole else (False, [])
    return Archive(
        student=student,
        whole=whole,
        placements=list(
            Placement.objects.filter(student=student)
            .select_related("school", "school_class")
            .order_by("start_date")
        ),
        term_reports=list(
            TermReport.objects.filter(own, student=student).select_related(
                "term", "term__academic_year", "school", "school_class"
            )
        ),
        factual_records=list(
            FactualRecord.objects.filter(own, student=student, withdrawn_at__isnull=True)
        ),
        conduct=list(conduct.select_related("school")),
        health_checks=list(HealthCheck.objects.filter(own, student=student)),
        vaccinations=list(Vaccination.objects.filter(own, student=student)),
        scores=list(
            Score.objects.filter(score_filter, student=student)
            .select_related("term", "term__academic_year")
            .order_by("term__start_date", "subject")
        ),
        fitness=list(FitnessResult.objects.filter(own, student=student)),
        certificates=list(
            Certificate.objects.filter(
                student=student, **({} if whole else {"school_id": scope.school_id})
            )
        ),
        aid=aid,
        aid_available=aid_available,
    )


def certificates_page(user: Any, *, page: int = 1, student_id: Any = None) -> Page[Certificate]:
    """The certificates issued by the user's school (the registrar's list), newest first."""
    scope = scope_of(user)
    if (
        scope is None
        or not may(scope, Action.CERTIFICATE_ISSUE)
        or not scope.is_school
        or scope.school_id is None
    ):
        found = Certificate.objects.filter(NOTHING)
    else:
        found = Certificate.objects.filter(school_id=scope.school_id)
        if student_id is not None:
            found = found.filter(student_id=student_id)
    return Paginator(
        found.select_related("student", "key").order_by("-issued_at"), PAGE_SIZE
    ).get_page(page)


def certificate_of_school(user: Any, certificate_id: Any) -> Certificate | None:
    scope = scope_of(user)
    if (
        scope is None
        or not may(scope, Action.CERTIFICATE_ISSUE)
        or not scope.is_school
        or scope.school_id is None
    ):
        return None
    return (
        Certificate.objects.filter(pk=certificate_id, school_id=scope.school_id)
        .select_related("student", "key")
        .first()
    )
