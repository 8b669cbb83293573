"""In a real headless Chromium (xueji.testing.browser): a county bureau merges a teaching point
(教学点) into its central school (中心校) through the pages, seeing both schools and the number
of children before it confirms; the children then sit in the same grade and class name at the
central school, and the teaching point is closed, merged (issue 19)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest

from xueji.access.models import Role
from xueji.geo.models import Division
from xueji.schools.models import School, SchoolKind
from xueji.students.models import Placement, PlacementReason
from xueji.students.services import student_register
from xueji.testing.browser import chromium_context, sign_in_session
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member, student_data

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def page(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with chromium_context(monkeypatch, locale="zh-CN") as context:
        yield context.new_page()


def test_a_county_merges_a_teaching_point_into_its_central_school(page, live_server):
    from playwright.sync_api import expect

    futian = Division.objects.get(code="440304")
    central = SchoolFactory(name="福田中心小学", county=futian, urban_rural="121")
    SchoolClassFactory(school=central, grade=1, number=1, name="1班")
    point = SchoolFactory(
        name="福田村教学点",
        county=futian,
        kind=SchoolKind.TEACHING_POINT,
        central_school=central,
        urban_rural="220",
    )
    first = SchoolClassFactory(school=point, grade=1, number=1, name="1班")
    mixed = SchoolClassFactory(school=point, grade=2, number=1, name="复式班")
    registrar = member(Role.REGISTRAR, school=point)
    children = [
        student_register(
            actor=registrar,
            school_class_id=school_class.pk,
            data=student_data(name=name, birth_date=born),
        ).student
        for name, school_class, born in (
            ("张春明", first, datetime.date(2020, 3, 5)),
            ("李小红", first, datetime.date(2020, 6, 1)),
            ("王大山", mixed, datetime.date(2019, 4, 2)),
        )
    ]
    county = member(Role.BUREAU_APPROVER, division=futian)

    sign_in_session(page.context, live_server, county)
    page.goto(f"{live_server.url}/schools/{point.pk}/")
    expect(page.locator("h1")).to_contain_text("福田村教学点")
    expect(page.locator("#pupils")).to_have_text("3")
    page.click("#merge-school")
    expect(page.locator("h1")).to_contain_text("整体并入")
    page.get_by_label("并入学校").select_option(str(central.pk))
    page.get_by_role("button", name="继续").click()

    # The confirmation names both schools and the number of children; nothing moved yet.
    expect(page.locator("h1")).to_have_text("确认整体并入")
    expect(page.locator("#merge-from")).to_contain_text("福田村教学点")
    expect(page.locator("#merge-into")).to_contain_text("福田中心小学")
    expect(page.locator("#merge-pupils")).to_have_text("3")
    assert not Placement.objects.filter(school=central).exists()
    page.get_by_role("button", name="确认并入").click()

    expect(page.locator(".message.success")).to_contain_text("已整体并入")
    expect(page.locator("h1")).to_contain_text("福田中心小学")
    expect(page.locator("#pupils")).to_have_text("3")
    expect(page.locator("#merged-schools")).to_contain_text("福田村教学点")
    moved = {p.student_id: p for p in Placement.objects.filter(end_date__isnull=True)}
    for child, school_class in zip(children, (first, first, mixed), strict=True):
        placement = moved[child.pk]
        assert placement.school_id == central.pk
        assert placement.reason == PlacementReason.SCHOOL_MERGE
        assert (placement.grade, placement.school_class.name) == (
            school_class.grade,
            school_class.name,
        )
    point = School.objects.get(pk=point.pk)
    assert point.merged_into_id == central.pk and point.closed_on is not None

    # The teaching point's page now says where it went, and offers no merge.
    page.goto(f"{live_server.url}/schools/{point.pk}/")
    expect(page.locator("h1")).to_contain_text("已并入")
    expect(page.locator("#merge-school")).to_have_count(0)
