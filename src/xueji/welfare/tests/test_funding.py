"""Per-student funding: rates with history, the census from the placement history reconciled
with an independent census in raw SQL for several past dates, a past census unchanged by later
writes, and the money that follows transferred children."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection

from xueji.core.errors import FieldErrors, NotFound
from xueji.students.models import Student
from xueji.welfare import funding
from xueji.welfare.models import RateComponent, Stage

pytestmark = pytest.mark.django_db


def raw_census(on: datetime.date) -> dict[int, int]:
    """Pupils of grades 1-12 placed on `on`, per school: bare SQL on the placement table, not
    through the code under test."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT school_id, COUNT(*) FROM students_placement "
            "WHERE start_date <= %s AND (end_date IS NULL OR end_date > %s) "
            "AND grade BETWEEN 1 AND 12 GROUP BY school_id",
            [on, on],
        )
        return {school_id: count for school_id, count in cursor.fetchall()}


def set_rates(registry: Any) -> None:
    nation = registry.scope(registry.nation_approver)
    province = registry.scope(registry.province_approver)
    funding.rate_set(
        actor=registry.nation_approver, scope=nation, province_code=None, stage=Stage.PRIMARY,
        component=RateComponent.BENCHMARK, yearly_fen=72000, valid_from=datetime.date(2020, 1, 1),
    )  # fmt: skip
    funding.rate_set(
        actor=registry.province_approver, scope=province, province_code="440000",
        stage=Stage.PRIMARY, component=RateComponent.TOPUP, yearly_fen=8000,
        valid_from=datetime.date(2020, 1, 1),
    )  # fmt: skip
    funding.rate_set(
        actor=registry.nation_approver, scope=nation, province_code=None, stage=Stage.PRIMARY,
        component=RateComponent.BOARDING, yearly_fen=20000, valid_from=datetime.date(2020, 1, 1),
    )  # fmt: skip
    funding.rate_set(
        actor=registry.nation_approver, scope=nation, province_code=None, stage=Stage.PRIMARY,
        component=RateComponent.SPECIAL, yearly_fen=600000, valid_from=datetime.date(2020, 1, 1),
    )  # fmt: skip


def test_allocation_is_pupils_times_rates_for_half_a_year(registry: Any) -> None:
    set_rates(registry)
    registry.register("a", 3)
    registry.register("s", 1)
    boarder = registry.register("b", 2)[0]
    Student.objects.filter(pk=boarder.pk).update(attendance_mode="2")
    result = funding.allocation(registry.autumn, None)
    by_code = {s.code: s for s in result.schools}
    # 福田 (广东): 720 + 80 yuan a year → 400 yuan a term a pupil.
    assert by_code[registry.schools["a"].code].amount_fen == 3 * 40000
    # A boarding pupil brings 100 yuan more a term.
    assert by_code[registry.schools["b"].code].amount_fen == 2 * 40000 + 10000
    # A pupil of a special school brings the special-education extra (3,000 a term).
    assert by_code[registry.schools["s"].code].amount_fen == 40000 + 300000
    assert result.census_on == datetime.date(2026, 9, 30)
    assert isinstance(result.amount_fen, int)


def test_a_rate_change_keeps_the_history_and_old_censuses(registry: Any) -> None:
    set_rates(registry)
    registry.register("a", 2)
    before = funding.allocation(registry.autumn, None).amount_fen
    nation = registry.scope(registry.nation_approver)
    funding.rate_set(
        actor=registry.nation_approver, scope=nation, province_code=None, stage=Stage.PRIMARY,
        component=RateComponent.BENCHMARK, yearly_fen=100000, valid_from=datetime.date(2027, 1, 1),
    )  # fmt: skip
    assert funding.allocation(registry.autumn, None).amount_fen == before
    # The spring census (31 March 2027) takes the new benchmark: 1,000 + 80 yuan a year.
    assert funding.allocation(registry.spring, None).amount_fen == 2 * 54000


def test_rates_are_set_within_the_area(registry: Any) -> None:
    province = registry.scope(registry.province_approver)
    with pytest.raises(FieldErrors):
        funding.rate_set(
            actor=registry.province_approver, scope=province, province_code="440000",
            stage=Stage.PRIMARY, component=RateComponent.BENCHMARK, yearly_fen=1,
            valid_from=datetime.date(2026, 1, 1),
        )  # fmt: skip
    with pytest.raises(NotFound):
        funding.rate_set(
            actor=registry.province_approver, scope=province, province_code="110000",
            stage=Stage.PRIMARY, component=RateComponent.TOPUP, yearly_fen=1,
            valid_from=datetime.date(2026, 1, 1),
        )  # fmt: skip


def test_the_census_reconciles_with_raw_sql_on_several_past_dates(registry: Any) -> None:
    registry.register("a", 3)
    registry.register("c", 2, on=datetime.date(2026, 10, 8))
    moved = registry.register("b", 2)
    registry.transfer(moved[0], "c", datetime.date(2026, 11, 2))
    registry.transfer(moved[1], "e", datetime.date(2027, 3, 1))
    days = [
        datetime.date(2026, 9, 1),
        datetime.date(2026, 9, 30),
        datetime.date(2026, 10, 8),
        datetime.date(2026, 11, 1),
        datetime.date(2026, 11, 2),
        datetime.date(2027, 3, 31),
    ]
    for day in days:
        ours: dict[int, int] = {}
        for row in funding.census_rows(day):
            ours[row["school_id"]] = ours.get(row["school_id"], 0) + row["pupils"]
        assert ours == raw_census(day), day


def test_a_past_census_does_not_change_after_later_writes(registry: Any) -> None:
    children = registry.register("a", 3)
    census = datetime.date(2026, 9, 30)
    before = funding.census_rows(census)
    registry.transfer(children[0], "c", datetime.date(2026, 10, 15))
    registry.register("a", 2, on=datetime.date(2026, 10, 20))
    assert funding.census_rows(census) == before
    assert funding.census_rows(datetime.date(2026, 10, 31)) != before


def test_census_dates_are_settings_within_the_term(registry: Any) -> None:
    funding.census_date_set(
        actor=registry.nation_approver,
        term_id=registry.autumn.pk,
        census_on=datetime.date(2026, 10, 15),
    )
    assert funding.census_date_of(registry.autumn) == datetime.date(2026, 10, 15)
    with pytest.raises(FieldErrors):
        funding.census_date_set(
            actor=registry.nation_approver,
            term_id=registry.autumn.pk,
            census_on=datetime.date(2027, 5, 1),
        )


def test_money_follows_children_transferred_between_censuses(registry: Any) -> None:
    set_rates(registry)
    nation = registry.scope(registry.nation_approver)
    funding.rate_set(
        actor=registry.nation_approver, scope=nation, province_code="110000",
        stage=Stage.PRIMARY, component=RateComponent.TOPUP, yearly_fen=40000,
        valid_from=datetime.date(2020, 1, 1),
    )  # fmt: skip
    children = registry.register("a", 4)
    registry.transfer(children[0], "c", datetime.date(2026, 11, 2))  # 福田 → 南山 (same city)
    registry.transfer(children[1], "e", datetime.date(2027, 3, 1))  # 广东 → 北京
    registry.transfer(children[2], "b", datetime.date(2026, 12, 1))  # within 福田: no flow
    found = funding.portability(registry.spring, None)
    counties = {(e["from"], e["to"]): e for e in found["counties"]}
    assert counties[("440304", "440305")]["children"] == 1
    assert counties[("440304", "440305")]["amount_fen"] == 40000
    # Beijing's rate: 720 + 400 a year → 560 yuan for the term.
    assert counties[("440304", "110105")]["amount_fen"] == 56000
    assert [(e["from"], e["to"], e["children"]) for e in found["provinces"]] == [
        ("440000", "110000", 1)
    ]
    assert len(found["counties"]) == 2
    # 南山's approver sees only the flows touching 南山.
    nanshan = funding.portability(registry.spring, registry.scope(registry.nanshan_approver))
    assert [(e["from"], e["to"]) for e in nanshan["counties"]] == [("440304", "440305")]
