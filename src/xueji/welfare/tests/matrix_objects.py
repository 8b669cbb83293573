"""Objects of a permission-matrix place for the welfare routes (xueji.access.tests.test_matrix):
a need assessment and an aid application of the place's child, a finding of its school, and
the term and programme the bodies name. Made once per place."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone


def term() -> Any:
    from xueji.access.tests.world import ensure_terms
    from xueji.schools.models import Term

    ensure_terms(2026)
    return Term.objects.get(academic_year__start_year=2026, number=1)


def spring_term() -> Any:
    from xueji.schools.models import Term

    term()
    return Term.objects.get(academic_year__start_year=2026, number=2)


def programme() -> Any:
    from xueji.welfare.models import AidProgramme

    return AidProgramme.objects.get_or_create(
        province=None,
        name="矩阵测试补助",
        defaults={
            "stages": ["primary", "junior"],
            "categories": ["dibao", "orphan"],
            "term_fen": 62500,
            "payment_mode": "guardian_account",
        },
    )[0]


def need(place: Any) -> Any:
    from xueji.welfare.models import NeedAssessment

    return NeedAssessment.objects.get_or_create(
        student=place.student,
        start_year=2026,
        defaults={"school": place.school, "category": "dibao", "family_statement": "家庭困难"},
    )[0]


def application(place: Any) -> Any:
    from xueji.welfare.models import AidApplication

    found = AidApplication.objects.filter(student=place.student).first()
    return found or AidApplication.objects.create(
        student=place.student,
        school=place.school,
        programme=programme(),
        term=term(),
        need=need(place),
        evidence="低保证",
        filed_by=place.student.events.first().actor,
    )


def finding(place: Any) -> Any:
    from xueji.welfare.models import Finding

    found_term = term()
    return Finding.objects.get_or_create(
        key=f"meal_absent:{place.school.pk}:{found_term.pk}",
        defaults={
            "kind": "meal_absent",
            "school": place.school,
            "county_id": place.school.county_id,
            "term": found_term,
            "student_ids": [str(place.student.pk)],
            "found_at": timezone.now(),
        },
    )[0]


def bodies(target: Any) -> dict[str, Any]:
    """The API bodies of the welfare endpoints (the target place's objects)."""
    return {
        "create_rate": lambda: {
            "province_code": "440000",
            "stage": "primary",
            "component": "topup",
            "yearly_fen": 10000,
            "valid_from": "2026-09-01",
        },
        "set_census_date": lambda: {"term_id": term().pk, "census_on": "2026-09-30"},
        "create_programme": lambda: {
            "name": "矩阵省级补助",
            "province_code": "440000",
            "stages": ["primary"],
            "categories": ["dibao"],
            "term_fen": 50000,
            "payment_mode": "guardian_account",
        },
        "create_need": lambda: {
            "student_id": str(target.student.pk),
            "category": "dibao",
            "family_statement": "家庭困难",
        },
        "assess_need": lambda: {"event": "assess", "note": "评议小组认定"},
        "decide_need": lambda: {"decision": "reject"},
        "create_application": lambda: {
            "student_id": str(target.student.pk),
            "programme_id": programme().pk,
            "term_id": term().pk,
            "evidence": "低保证",
        },
        "decide_application": lambda: {"decision": "reject", "reason": "矩阵"},
        "carry_forward": lambda: {"term_id": spring_term().pk},
        "make_payments": lambda: {"programme_id": programme().pk, "term_id": term().pk},
        "bank_payment_file": lambda: {"programme_id": programme().pk, "term_id": term().pk},
        "bank_results": lambda: {},
        "family_lists": lambda: {"category": "dibao"},
        "record_meal_day": lambda: {
            "day": str(datetime.date(2026, 9, 7)),
            "menu": "米饭、番茄炒蛋",
            "companions": "王老师",
        },
        "set_meal_county": lambda: {"county_code": "440304", "since": "2026-09-01"},
        "set_meal_rate": lambda: {"daily_fen": 500, "valid_from": "2026-09-01"},
        "explain_finding": lambda: {"reason": "矩阵"},
        "run_checks": lambda: {"term_id": term().pk},
        "finance_figures": lambda: {"term_id": str(term().pk)},
    }


MULTIPART = {"bank_results", "family_lists", "finance_figures"}
BODY_OBJECTS = {"create_need", "create_application"}
