"""Figures add up: the classes of a school, the grades of a school, the schools of a county, the
counties of a city, the cities of a province and the provinces of the nation sum to their total,
in every dimension, on random dates and random branches of the tree, over a generated registry
with transfers (across counties and provinces), dropouts and other departures. An oracle that
places each child one by one checks the school figures themselves."""

from __future__ import annotations

import datetime
import random
from collections import Counter
from typing import Any

import pytest

from xueji.access.models import Role
from xueji.stats.selectors import age_report, breakdown_report, stats_target
from xueji.stats.targets import TargetSpec
from xueji.stats.tests.world import START, counted_on, synthesize
from xueji.testing.factories import member

pytestmark = pytest.mark.django_db

SEED = 2026


def figures(user: Any, spec: TargetSpec, on: datetime.date) -> Counter[tuple[Any, ...]]:
    """Every figure of the grade × age × sex table and of each breakdown, by its coordinates."""
    found: Counter[tuple[Any, ...]] = Counter()
    tables = [age_report(user, spec, on).table, *breakdown_report(user, spec, on).tables]
    for table in tables:
        for row in table.rows:
            key = tuple(sorted(row.key.items()))
            for column, cell in zip(table.column_keys, row.cells, strict=True):
                assert cell.value is not None, "an approver sees exact figures"
                coordinate = (table.key, key, tuple(sorted(column.items())))
                found[coordinate] += cell.value
    return +found


def children(user: Any, spec: TargetSpec) -> list[TargetSpec]:
    target = stats_target(user, spec)
    return [TargetSpec.parse(unit.spec) for unit in target.children]


def check(user: Any, parent: TargetSpec, on: datetime.date, seed: int) -> int:
    total = figures(user, parent, on)
    parts: Counter[tuple[Any, ...]] = Counter()
    for child in children(user, parent):
        parts.update(figures(user, child, on))
    assert +parts == total, f"{parent} on {on} (seed {seed}) does not add up"
    return sum(v for k, v in total.items() if k[0] == "grade-age-sex" and not k[1] and not k[2])


def test_every_level_adds_up_to_the_one_above_in_every_dimension():
    world = synthesize(students=360, seed=SEED)
    user = member(Role.BUREAU_APPROVER)
    rng = random.Random(SEED)
    days = [START - datetime.timedelta(days=1), START, datetime.date(2026, 12, 31)]
    days += [START + datetime.timedelta(days=rng.randint(1, 100)) for _ in range(3)]
    schools = world.schools
    for on in days:
        nation = check(user, TargetSpec("nation"), on, SEED)
        province = rng.choice(["440000", "450000"])
        check(user, TargetSpec("province", code=province), on, SEED)
        in_province = [s for s in schools if s.province_id == province]
        school = rng.choice(in_province)
        check(user, TargetSpec("city", code=school.city_id), on, SEED)
        check(user, TargetSpec("county", code=school.county_id), on, SEED)
        check(user, TargetSpec("school", school_id=school.pk), on, SEED)
        grade = rng.randint(school.first_grade, school.last_grade)
        check(user, TargetSpec("grade", school_id=school.pk, grade=grade), on, SEED)
        if on < START:
            assert nation == 0
        else:
            assert nation > 0


def test_school_figures_agree_with_placing_each_child_one_by_one():
    world = synthesize(students=240, seed=SEED + 1)
    user = member(Role.BUREAU_APPROVER)
    rng = random.Random(SEED + 1)
    for on in [START + datetime.timedelta(days=rng.randint(0, 90)) for _ in range(3)]:
        expected: Counter[int] = Counter()
        for student in world.students:
            placement = counted_on(student, on)
            if placement is not None:
                expected[placement.school_id] += 1
        for school in world.schools:
            spec = TargetSpec("school", school_id=school.pk)
            assert age_report(user, spec, on).cube.total == expected[school.pk], (school, on)
        assert age_report(user, TargetSpec("nation"), on).cube.total == sum(expected.values())
