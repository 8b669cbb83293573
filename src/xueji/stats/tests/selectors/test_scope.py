"""Figures only for areas inside the caller's scope; everything else does not exist."""

from __future__ import annotations

import datetime

import pytest

from xueji.access.scope import PermissionRefused
from xueji.core.errors import NotFound
from xueji.stats.selectors import (
    age_report,
    annual_report,
    breakdown_report,
    dashboard_report,
    mobility_report,
    stats_target,
)
from xueji.stats.targets import TargetSpec
from xueji.testing.factories import UserFactory

pytestmark = pytest.mark.django_db

ON = datetime.date(2026, 10, 1)
REPORTS = [age_report, breakdown_report, dashboard_report, mobility_report, annual_report]


def specs(small):
    return {
        "nation": TargetSpec("nation"),
        "guangdong": TargetSpec("province", code="440000"),
        "guangxi": TargetSpec("province", code="450000"),
        "shenzhen": TargetSpec("city", code="440300"),
        "guangzhou": TargetSpec("city", code="440100"),
        "futian": TargetSpec("county", code="440304"),
        "nanshan": TargetSpec("county", code="440305"),
        "school_futian": TargetSpec("school", school_id=small.futian.pk),
        "school_nanshan": TargetSpec("school", school_id=small.nanshan.pk),
        "grade_futian": TargetSpec("grade", school_id=small.futian.pk, grade=1),
        "class_futian": TargetSpec("class", class_id=small.class_futian.pk),
        "class_nanshan": TargetSpec("class", class_id=small.class_nanshan.pk),
    }


VISIBLE = {
    "futian_viewer": {"futian", "school_futian", "grade_futian", "class_futian"},
    "shenzhen_viewer": {
        "shenzhen",
        "futian",
        "nanshan",
        "school_futian",
        "school_nanshan",
        "grade_futian",
        "class_futian",
        "class_nanshan",
    },
    "principal_futian": {"school_futian", "grade_futian", "class_futian"},
}


@pytest.mark.parametrize("user", sorted(VISIBLE))
def test_each_user_gets_the_areas_inside_the_scope_and_404_for_the_others(small, user):
    caller = small.users[user]
    for name, spec in specs(small).items():
        if name in VISIBLE[user]:
            assert stats_target(caller, spec).spec == spec
            continue
        for report in REPORTS:
            with pytest.raises(NotFound):
                report(caller, spec)


def test_a_county_user_cannot_get_another_countys_figures(small):
    small.register(small.class_nanshan)
    futian = small.users["futian_viewer"]
    nanshan = TargetSpec("county", code="440305")
    with pytest.raises(NotFound):
        age_report(futian, nanshan, ON)
    with pytest.raises(NotFound):
        age_report(futian, TargetSpec("school", school_id=small.nanshan.pk), ON)
    with pytest.raises(NotFound):
        age_report(futian, TargetSpec("province", code="440000"), ON)
    # Its own county holds none of Nanshan's children.
    assert age_report(futian, None, ON).cube.total == 0
    assert age_report(small.users["nanshan_viewer"], None, ON).cube.total == 1


def test_the_default_area_is_the_callers_own(small):
    assert stats_target(small.users["futian_viewer"]).spec == TargetSpec("county", code="440304")
    assert stats_target(small.users["principal_futian"]).spec == TargetSpec(
        "school", school_id=small.futian.pk
    )
    assert stats_target(small.users["nation_viewer"]).spec == TargetSpec("nation")
    # The path starts at the caller's own area.
    target = stats_target(small.users["shenzhen_viewer"], TargetSpec("county", code="440304"))
    assert [label for label, _spec in target.breadcrumbs] == ["深圳市", "福田区"]


def test_a_division_of_another_level_under_the_same_code_does_not_exist(small):
    with pytest.raises(NotFound):
        stats_target(small.users["nation_viewer"], TargetSpec("county", code="440300"))


def test_without_a_role_nothing_exists_and_roles_without_head_counts_are_refused(small):
    with pytest.raises(NotFound):
        stats_target(UserFactory())
    with pytest.raises(PermissionRefused):
        stats_target(small.users["subject_teacher"])
    with pytest.raises(PermissionRefused):
        stats_target(small.users["auditor"])
