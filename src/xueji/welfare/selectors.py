"""Reads of the welfare app, each within the caller's scope."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.db.models import QuerySet

from xueji.access.scope import Scope, area_q, today
from xueji.schools.models import Term
from xueji.welfare.models import (
    AidApplication,
    AidAward,
    AidPayment,
    Finding,
    NeedAssessment,
)


def aid_received(*, student_id: uuid.UUID) -> list[dict[str, Any]]:
    """The aid a child received (for the archive's growth record): programme name, term,
    amount in fen and state (the payment's, or `awarded` before a payment list)."""
    payments = {
        award_id: state
        for award_id, state in AidPayment.objects.filter(student_id=student_id)
        .order_by("created_at")
        .values_list("award_id", "state")
    }
    return [
        {
            "programme": award.programme.name,
            "term": str(award.term),
            "term_start": award.term.start_date,
            "amount_fen": award.amount_fen,
            "state": payments.get(award.pk, "awarded"),
        }
        for award in AidAward.objects.filter(student_id=student_id)
        .select_related("programme", "term__academic_year")
        .order_by("term__start_date", "programme__name")
    ]


def terms() -> QuerySet[Term]:
    return Term.objects.select_related("academic_year").order_by("-start_date")


def current_term(on: datetime.date | None = None) -> Term | None:
    on = on or today()
    found = terms().filter(start_date__lte=on, end_date__gte=on).first()
    return found or terms().filter(start_date__lte=on).first() or terms().last()


def term_of(term_id: Any) -> Term | None:
    if term_id in (None, ""):
        return current_term()
    try:
        return terms().filter(pk=int(term_id)).first()
    except (TypeError, ValueError):
        return None


def needs_visible(scope: Scope | None) -> QuerySet[NeedAssessment]:
    return NeedAssessment.objects.filter(area_q(scope, "school__")).select_related(
        "student", "school"
    )


def applications_visible(scope: Scope | None) -> QuerySet[AidApplication]:
    return AidApplication.objects.filter(area_q(scope, "school__")).select_related(
        "student", "school", "programme", "term__academic_year", "payee"
    )


def awards_visible(scope: Scope | None) -> QuerySet[AidAward]:
    return AidAward.objects.filter(area_q(scope, "school__")).select_related(
        "student", "school", "programme", "term__academic_year"
    )


def payments_visible(scope: Scope | None) -> QuerySet[AidPayment]:
    return AidPayment.objects.filter(area_q(scope, "award__school__")).select_related(
        "student", "programme", "award__school"
    )


def findings_visible(scope: Scope | None) -> QuerySet[Finding]:
    return Finding.objects.filter(area_q(scope, "school__")).select_related(
        "school", "county", "term"
    )


def masked_name(name: str) -> str:
    """张春铭 → 张*铭; 李娜 → 李*."""
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
