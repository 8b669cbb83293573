"""With the real attendance capability behind xueji.welfare.presence: the day's roll and its
absences decide who ate by default, and an absent child fed anyway is found."""

from __future__ import annotations

from typing import Any

import pytest

from xueji.attendance.models import Absence, RollCall
from xueji.welfare import checks
from xueji.welfare.models import Finding, FindingKind, MealServed
from xueji.welfare.tests.test_meals import MONDAY, in_programme, record

pytestmark = pytest.mark.django_db


def test_the_real_roll_decides_who_ate_and_the_checks_read_it(registry: Any) -> None:
    in_programme(registry)
    here, absent = registry.register("a", 2)
    school_class = registry.classes["a"]
    RollCall.objects.create(
        school_class=school_class, school=registry.schools["a"], day=MONDAY, enrolled=2, absent=1
    )
    Absence.objects.create(
        student=absent, school_class=school_class, school=registry.schools["a"], day=MONDAY,
        portion="full", reason="personal",
    )  # fmt: skip
    meal_day = record(registry, "a", MONDAY)
    assert list(
        MealServed.objects.filter(meal_day=meal_day).values_list("student_id", flat=True)
    ) == [here.pk]
    MealServed.objects.create(
        meal_day=meal_day, student=absent, school=registry.schools["a"],
        school_class_id=school_class.pk, day=MONDAY,
    )  # fmt: skip
    checks.checks_run(
        actor=registry.approver, scope=registry.scope(registry.approver), term=registry.autumn
    )
    assert Finding.objects.get().kind == FindingKind.MEAL_ABSENT
    assert Finding.objects.get().student_ids == [str(absent.pk)]
