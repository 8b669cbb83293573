"""On PostgreSQL, with real threads: two counties approving at once an application each for the
same child, programme and term (the child moved between the counties, both schools applied)
end with one award, the other refused by the unique constraint or the national claim."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from xueji.students.models import NationalClaim
from xueji.testing.concurrency import race
from xueji.welfare import aid
from xueji.welfare.models import AidApplication, AidAward, ApplicationState
from xueji.welfare.tests.test_aid import ACCOUNT, apply, approved_need, guardian, programme

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_counties_approving_the_same_child_at_once_award_once(registry: Any) -> None:
    found = programme(registry)
    child = registry.register("a")[0]
    approved_need(registry, "a", child)
    first = apply(registry, "a", child, found)
    registry.transfer(child, "c", datetime.date(2026, 10, 12))
    nanshan_registrar = registry.registrars["c"]
    second = aid.aid_apply(
        actor=nanshan_registrar, scope=registry.scope(nanshan_registrar), student_id=child.pk,
        programme_id=found.pk, term_id=registry.autumn.pk, evidence="低保证",
        payee_id=guardian(child).pk, account=ACCOUNT,
    )  # fmt: skip
    futian, nanshan = registry.scope(registry.approver), registry.scope(registry.nanshan_approver)
    outcomes = race(
        lambda: aid.aid_decide(
            actor=registry.approver, scope=futian, application_id=first.pk, decision="approve"
        ),
        lambda: aid.aid_decide(
            actor=registry.nanshan_approver,
            scope=nanshan,
            application_id=second.pk,
            decision="approve",
        ),
    )
    assert outcomes[0] == "aid_already_awarded" or outcomes[0] == "aid_already_awarded_nationally"
    assert outcomes[1] == "done"
    assert AidAward.objects.filter(student=child).count() == 1
    assert NationalClaim.objects.filter(purpose=aid.NATIONAL_PURPOSE).count() == 1
    states = sorted(AidApplication.objects.values_list("state", flat=True))
    assert states == sorted([ApplicationState.APPROVED, ApplicationState.FILED])


def test_eight_approvals_of_one_application_at_once_award_once(registry: Any) -> None:
    found = programme(registry)
    child = registry.register("a")[0]
    approved_need(registry, "a", child)
    application = apply(registry, "a", child, found)
    county = registry.scope(registry.approver)
    outcomes = race(
        *[
            lambda: aid.aid_decide(
                actor=registry.approver,
                scope=county,
                application_id=application.pk,
                decision="approve",
            )
            for _ in range(8)
        ]
    )
    assert outcomes == ["done"] + ["invalid_transition"] * 7
    assert AidAward.objects.filter(student=child).count() == 1
