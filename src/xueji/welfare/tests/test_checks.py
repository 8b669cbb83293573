"""The consistency checks: each finding made to happen, then found; explained by the county
with a reason (audited) and the explanation kept across refreshes."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import transaction

from xueji.audit.models import AuditEntry
from xueji.core.errors import NotFound
from xueji.students.models import EventKind, FamilyMember, Placement, RecordState, Student
from xueji.students.record import record_leave, record_state_set
from xueji.welfare import aid, checks
from xueji.welfare.models import AidPayment, Finding, FindingKind, MealDay, MealServed, PaymentState
from xueji.welfare.tests.test_aid import apply, approve, approved_need, programme
from xueji.welfare.tests.test_funding import set_rates
from xueji.welfare.tests.test_meals import MONDAY, in_programme, record

pytestmark = pytest.mark.django_db


def run(registry: Any) -> dict[str, Finding]:
    checks.checks_run(
        actor=registry.approver, scope=registry.scope(registry.approver), term=registry.autumn
    )
    return {f.kind: f for f in Finding.objects.filter(still_found=True)}


def pay(
    registry: Any, children: list[Any], paid_on: datetime.date = datetime.date(2026, 10, 20)
) -> Any:
    found = programme(registry)
    for child in children:
        approved_need(registry, "a", child)
        approve(registry, apply(registry, "a", child, found))
    county = registry.scope(registry.approver)
    aid.payments_make(
        actor=registry.approver, scope=county, programme_id=found.pk, term_id=registry.autumn.pk
    )
    AidPayment.objects.update(state=PaymentState.PAID, paid_on=paid_on)
    return found


def test_a_clean_term_has_no_findings(registry: Any, attendance: Any) -> None:
    in_programme(registry)
    children = registry.register("a", 2)
    pay(registry, children)
    record(registry, "a", MONDAY)
    assert run(registry) == {}


def test_finance_figures_that_differ_from_the_census_are_found(
    registry: Any, attendance: Any
) -> None:
    set_rates(registry)
    registry.register("a", 3)
    registry.register("b", 2)
    county = registry.scope(registry.approver)
    a, b = registry.schools["a"], registry.schools["b"]
    data = (
        f"学校代码,拨款人数,拨款金额(元)\r\n{a.code},3,1200.00\r\n{b.code},5,2000.00\r\n".encode()
    )
    assert (
        checks.finance_figures_load(
            actor=registry.approver, scope=county, term=registry.autumn, data=data
        )
        == 2
    )
    found = Finding.objects.filter(kind=FindingKind.FINANCE_MISMATCH)
    run(registry)
    assert [f.school_id for f in found] == [b.pk]
    detail = found.get().detail
    assert detail["funded_pupils"] == 5 and detail["registry_pupils"] == 2
    assert detail["registry_fen"] == 2 * 40000 and detail["funded_fen"] == 200000


def test_aid_to_a_child_not_on_the_roll_or_suspended_is_found(
    registry: Any, attendance: Any
) -> None:
    left, suspended, fine = registry.register("a", 3)
    pay(registry, [left, suspended, fine])
    with transaction.atomic():
        student = Student.objects.select_for_update().get(pk=left.pk)
        record_leave(
            actor=registry.registrars["a"], student=student,
            placement=Placement.objects.get(student=student, end_date__isnull=True),
            on=datetime.date(2026, 10, 1), state=RecordState.WITHDRAWN, event=EventKind.WITHDRAWN,
        )  # fmt: skip
        student = Student.objects.select_for_update().get(pk=suspended.pk)
        record_state_set(
            actor=registry.registrars["a"], student=student, state=RecordState.SUSPENDED,
            on=datetime.date(2026, 10, 10), event=EventKind.SUSPENDED,
        )  # fmt: skip
    finding = run(registry)[FindingKind.AID_NOT_ON_ROLL]
    assert set(finding.student_ids) == {str(left.pk), str(suspended.pk)}


def test_the_same_programme_paid_twice_is_found(registry: Any, attendance: Any) -> None:
    children = registry.register("a", 2)
    pay(registry, children)
    first = AidPayment.objects.filter(student=children[0]).get()
    first.pk = None
    first.id = None
    first.save()  # the bank was sent the payment twice and paid both
    assert FindingKind.AID_TWICE in run(registry)
    assert run(registry)[FindingKind.AID_TWICE].student_ids == [str(children[0].pk)]


def test_a_payee_who_is_not_a_guardian_is_found(registry: Any, attendance: Any) -> None:
    children = registry.register("a", 2)
    pay(registry, children)
    FamilyMember.objects.filter(student=children[1], is_guardian=True).update(is_guardian=False)
    assert run(registry)[FindingKind.PAYEE_NOT_GUARDIAN].student_ids == [str(children[1].pk)]


def test_meals_for_absent_not_enrolled_children_and_days_off_are_found(
    registry: Any, attendance: Any
) -> None:
    in_programme(registry)
    present, absent = registry.register("a", 2)
    outsider = registry.register("b", 1)[0]
    meal_day = record(registry, "a", MONDAY, student_ids=[present.pk, absent.pk])
    attendance.absent[(registry.classes["a"].pk, MONDAY)] = {absent.pk}
    # A canteen record written around the service: a child of another school, and a Sunday.
    MealServed.objects.create(
        meal_day=meal_day, student=outsider, school=registry.schools["a"],
        school_class_id=registry.classes["a"].pk, day=MONDAY,
    )  # fmt: skip
    sunday = MealDay.objects.create(
        school=registry.schools["a"], day=MONDAY - datetime.timedelta(days=1), menu="面条",
        companions="王老师", daily_fen=500, recorded_by=registry.registrars["a"],
    )  # fmt: skip
    MealServed.objects.create(
        meal_day=sunday, student=present, school=registry.schools["a"],
        school_class_id=registry.classes["a"].pk, day=sunday.day,
    )  # fmt: skip
    found = run(registry)
    assert found[FindingKind.MEAL_ABSENT].student_ids == [str(absent.pk)]
    assert found[FindingKind.MEAL_NOT_ENROLLED].student_ids == [str(outsider.pk)]
    assert found[FindingKind.MEAL_NO_SCHOOL_DAY].detail["days"] == ["2026-09-06"]


def test_hollow_records_that_drew_money_are_found(registry: Any, attendance: Any) -> None:
    in_programme(registry)
    hollow, fine = registry.register("a", 2)
    attendance.hollow[hollow.pk] = [(datetime.date(2026, 9, 1), None)]
    record(registry, "a", MONDAY)
    pay(registry, [hollow, fine])
    finding = run(registry)[FindingKind.HOLLOW_DREW_MONEY]
    assert finding.student_ids == [str(hollow.pk)]
    assert finding.detail["funding"] and finding.detail["meals"] and finding.detail["aid"]


def test_the_county_explains_a_finding_and_the_explanation_stays(
    registry: Any, attendance: Any
) -> None:
    in_programme(registry)
    present, absent = registry.register("a", 2)
    record(registry, "a", MONDAY, student_ids=[present.pk, absent.pk])
    attendance.absent[(registry.classes["a"].pk, MONDAY)] = {absent.pk}
    finding = run(registry)[FindingKind.MEAL_ABSENT]
    with pytest.raises(NotFound):
        checks.finding_explain(
            actor=registry.nanshan_approver, scope=registry.scope(registry.nanshan_approver),
            finding_id=finding.pk, reason="不是我们的",
        )  # fmt: skip
    checks.finding_explain(
        actor=registry.approver, scope=registry.scope(registry.approver), finding_id=finding.pk,
        reason="学生上午到校用餐后因病离校，考勤记为全天缺勤有误",
    )  # fmt: skip
    assert AuditEntry.objects.filter(
        action="welfare.finding_explain", object_id=finding.pk
    ).exists()
    again = run(registry)[FindingKind.MEAL_ABSENT]
    assert again.pk == finding.pk and again.explanation.startswith("学生上午")
    # Once the roll is corrected the finding is no longer found, and keeps its explanation.
    attendance.absent.clear()
    assert FindingKind.MEAL_ABSENT not in run(registry)
    assert Finding.objects.get(pk=finding.pk).still_found is False
