"""Nutrition meals: programme schools by county and urban–rural code, who ate defaulting to the
children present, the lookup of one child and day, the week's menu and the monthly claim."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from xueji.core.errors import Conflict, FieldErrors
from xueji.welfare import meals
from xueji.welfare.models import MealServed

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 9, 7)


def in_programme(registry: Any) -> None:
    province = registry.scope(registry.province_approver)
    meals.meal_county_set(
        actor=registry.province_approver, scope=province, county_code="440304",
        since=datetime.date(2026, 9, 1), urban_rural=[],
    )  # fmt: skip
    meals.meal_rate_set(
        actor=registry.nation_approver, daily_fen=500, valid_from=datetime.date(2021, 9, 1)
    )


def record(registry: Any, key: str, day: datetime.date, **extra: Any) -> Any:
    registrar = registry.registrars[key]
    return meals.meal_day_record(
        actor=registrar, scope=registry.scope(registrar), day=day, menu="米饭、番茄炒蛋、青菜汤",
        companions="王老师、李校长", **extra,
    )  # fmt: skip


def test_programme_schools_are_compulsory_schools_of_listed_codes(registry: Any) -> None:
    in_programme(registry)
    chosen = set(
        type(registry.schools["a"])
        .objects.filter(meals.programme_schools(MONDAY))
        .values_list("pk", flat=True)
    )
    # 福田第一小学 is rural (220); 福田第二小学 urban (111); 南山 is not a listed county.
    assert chosen == {registry.schools["a"].pk}
    with pytest.raises(FieldErrors) as refused:
        record(registry, "b", MONDAY)
    assert "day" in refused.value.errors
    # Another province's county is not the province approver's to list.
    with pytest.raises(FieldErrors):
        meals.meal_county_set(
            actor=registry.province_approver, scope=registry.scope(registry.province_approver),
            county_code="110105", since=MONDAY, urban_rural=[],
        )  # fmt: skip


def test_who_ate_defaults_to_the_children_present(registry: Any, attendance: Any) -> None:
    in_programme(registry)
    here, absent, also = registry.register("a", 3)
    attendance.absent[(registry.classes["a"].pk, MONDAY)] = {absent.pk}
    meal_day = record(registry, "a", MONDAY)
    assert set(
        MealServed.objects.filter(meal_day=meal_day).values_list("student_id", flat=True)
    ) == {
        here.pk,
        also.pk,
    }
    # A class that took no roll that day: nobody of it is counted by default.
    attendance.no_roll.add((registry.classes["a"].pk, MONDAY + datetime.timedelta(days=1)))
    empty = record(registry, "a", MONDAY + datetime.timedelta(days=1))
    assert not MealServed.objects.filter(meal_day=empty).exists()
    # Once a day.
    with pytest.raises(Conflict):
        record(registry, "a", MONDAY)
    # Not on a day without school.
    attendance.closed.add((registry.schools["a"].pk, MONDAY + datetime.timedelta(days=2)))
    with pytest.raises(FieldErrors):
        record(registry, "a", MONDAY + datetime.timedelta(days=2))


def test_the_lookup_answers_ate_or_not_and_what(registry: Any, attendance: Any) -> None:
    in_programme(registry)
    here, absent = registry.register("a", 2)
    attendance.absent[(registry.classes["a"].pk, MONDAY)] = {absent.pk}
    record(registry, "a", MONDAY)
    assert meals.meal_lookup(here.pk, MONDAY) == {
        "ate": True,
        "day": MONDAY,
        "school": "福田第一小学",
        "menu": "米饭、番茄炒蛋、青菜汤",
    }
    answer = meals.meal_lookup(absent.pk, MONDAY)
    assert answer["ate"] is False and answer["menu"] == "米饭、番茄炒蛋、青菜汤"


def test_a_listed_child_must_be_at_the_school(registry: Any, attendance: Any) -> None:
    in_programme(registry)
    registry.register("a", 1)
    elsewhere = registry.register("b", 1)[0]
    with pytest.raises(FieldErrors):
        record(registry, "a", MONDAY, student_ids=[elsewhere.pk])


def test_the_monthly_claim_is_meals_times_the_days_rate(registry: Any, attendance: Any) -> None:
    in_programme(registry)
    children = registry.register("a", 3)
    for offset in range(3):
        record(registry, "a", MONDAY + datetime.timedelta(days=offset))
    attendance.absent[(registry.classes["a"].pk, MONDAY + datetime.timedelta(days=3))] = {
        children[0].pk
    }
    record(registry, "a", MONDAY + datetime.timedelta(days=3))
    claim = meals.monthly_claim(registry.schools["a"], 2026, 9, with_children=True)
    assert [d["meals"] for d in claim.days] == [3, 3, 3, 2]
    assert claim.meals == 11 and claim.amount_fen == 11 * 500 and claim.children == 3
    assert (
        meals.week_menu(registry.schools["a"].pk, MONDAY + datetime.timedelta(days=4))[0].day
        == MONDAY
    )
