"""A class teacher's statistics: the head counts of the own classes only, exact while the
county's verification window opens the class's records, small cells suppressed otherwise."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from xueji.access.models import Role
from xueji.access.scope import PermissionRefused
from xueji.access.tests.world import window_open_today
from xueji.core import codes
from xueji.core.errors import NotFound
from xueji.stats.selectors import (
    age_report,
    annual_report,
    breakdown_report,
    dashboard_report,
    mobility_report,
)
from xueji.stats.targets import TargetSpec
from xueji.testing.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def teacher(small: Any) -> Any:
    """The class teacher of 福田一小 grade 1 class 1: three boys there, two in class 2."""
    user = member(Role.CLASS_TEACHER, school=small.futian)
    small.class_futian.class_teacher = user
    small.class_futian.save(update_fields=["class_teacher"])
    for _ in range(3):
        small.register(small.class_futian)
    for _ in range(2):
        small.register(small.class_futian_b, sex=codes.Sex.FEMALE)
    return user


def hidden(table: Any) -> list[str]:
    return [cell.display for row in table.rows for cell in row.cells if cell.suppressed]


def values(table: Any) -> set[int | None]:
    return {cell.value for row in table.rows for cell in row.cells}


def test_the_home_area_is_the_own_class_with_its_counts_only(small, teacher):
    report = age_report(teacher, None)
    assert report.target.spec == TargetSpec("class", class_id=small.class_futian.pk)
    assert report.cube.total == 3
    assert [label for label, _spec in report.target.breadcrumbs] == [report.target.label]
    dashboard = dashboard_report(teacher, None)
    assert dashboard.target.school_class == small.class_futian
    assert breakdown_report(teacher, None).target.spec == report.target.spec


@pytest.mark.parametrize(
    "spec",
    [
        "class_futian_b",  # another class of the same school
        "school",
        "grade",
        "county",
        "nation",
    ],
)
def test_nothing_but_the_own_classes_exists(small, teacher, spec):
    specs = {
        "class_futian_b": TargetSpec("class", class_id=small.class_futian_b.pk),
        "school": TargetSpec("school", school_id=small.futian.pk),
        "grade": TargetSpec("grade", school_id=small.futian.pk, grade=1),
        "county": TargetSpec("county", code="440304"),
        "nation": TargetSpec("nation"),
    }
    with pytest.raises(NotFound):
        age_report(teacher, specs[spec])


def test_moves_between_schools_are_not_a_class_teachers_figures(small, teacher):
    with pytest.raises(PermissionRefused):
        annual_report(teacher, None)
    with pytest.raises(PermissionRefused):
        mobility_report(teacher, None)


def test_small_cells_hidden_outside_the_window_exact_inside(small, teacher):
    closed = age_report(teacher, None)
    assert not closed.target.exact and closed.table.suppressed
    assert hidden(closed.table) and 3 not in values(closed.table)  # 3 boys: "<5"
    window = window_open_today(small.futian.county_id, small.users["futian_viewer"])
    opened = age_report(teacher, None)
    assert opened.target.exact and not opened.table.suppressed
    assert not hidden(opened.table) and 3 in values(opened.table)
    window.closed_at = timezone.now()
    window.closed_by = small.users["futian_viewer"]
    window.save(update_fields=["closed_at", "closed_by"])
    assert not age_report(teacher, None).target.exact


def test_a_teacher_without_a_class_finds_nothing(small):
    idle = member(Role.CLASS_TEACHER, school=small.futian)
    with pytest.raises(NotFound):
        age_report(idle, None)


def test_a_subject_teacher_and_an_auditor_get_no_statistics(small):
    for user in (small.users["subject_teacher"], small.users["auditor"]):
        with pytest.raises(PermissionRefused):
            age_report(user, None)


def test_the_pages_a_class_teacher_opens(small, teacher):
    from xueji.students.tests.views.conftest import client_as

    client = client_as(teacher)
    for url in ("/stats/", "/stats/grade-age-sex/", "/stats/breakdown/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert small.class_futian.name in response.content.decode()
    page = client.get("/stats/").content.decode()
    assert "/stats/annual/" not in page and "/stats/mobility/" not in page
    assert client.get("/stats/annual/").status_code == 403
    assert client.get("/stats/mobility/").status_code == 403
    other = f"/stats/grade-age-sex/?scope=class:{small.class_futian_b.pk}"
    assert client.get(other).status_code == 404
    assert client.get(f"/stats/?scope=school:{small.futian.pk}").status_code == 404
