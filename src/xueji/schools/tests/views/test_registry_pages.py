"""The registry's pages: registration with ordinary labelled fields (a 珠海 school by the
province), every error at once, who may not, the list's filters and pages, closing, editing,
and the merge's confirmation naming both schools and the number of children."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client

from xueji.access.models import Role
from xueji.audit.models import AuditEntry
from xueji.geo.models import Division
from xueji.schools.models import School, SchoolKind
from xueji.students.models import Placement, PlacementReason
from xueji.students.services import student_register
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member, student_data

pytestmark = pytest.mark.django_db

FIELDS = [
    "code",
    "name",
    "kind",
    "county",
    "first_grade",
    "last_grade",
    "address",
    "urban_rural",
    "boarding",
    "central_school_code",
]


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def approver(code: str) -> Any:
    return member(Role.BUREAU_APPROVER, division=Division.objects.get(code=code))


def zhuhai_school(**overrides: Any) -> dict[str, str]:
    values = {
        "code": "2144040299",
        "name": "珠海市香洲区实验小学",
        "kind": "primary",
        "county": "440402",
        "address": "珠海市香洲区凤凰路8号",
        "ownership": "public",
        "urban_rural": "111",
        "boarding": "on",
    }
    values.update(overrides)
    return values


def test_the_province_registers_a_zhuhai_school_on_a_page_of_labelled_fields():
    client = signed_in(approver("440000"))
    page = client.get("/schools/new/")
    assert page.status_code == 200
    html = page.content.decode()
    for name in FIELDS:
        assert f'<label for="id_{name}"' in html or f'for="id_{name}"' in html, name
    assert 'value="440402"' in html  # 香洲区, 珠海: a county of the province's area
    assert 'value="441900"' in html  # 东莞, a city without counties, is one too

    response = client.post("/schools/new/", zhuhai_school())
    school = School.objects.get(code="2144040299")
    assert response.status_code == 302 and response.url == f"/schools/{school.pk}/"
    assert (school.county_id, school.city_id, school.province_id) == ("440402", "440400", "440000")
    assert (school.urban_rural, school.boarding, school.first_grade, school.last_grade) == (
        "111",
        True,
        1,
        6,
    )
    detail = client.get(response.url)
    assert "珠海市香洲区实验小学" in detail.content.decode()
    assert AuditEntry.objects.filter(action="school.create").count() == 1


def test_every_missing_or_wrong_field_is_named_at_once():
    SchoolFactory(code="2144040298")
    client = signed_in(approver("440000"))
    response = client.post(
        "/schools/new/",
        {"code": "2144040298", "kind": "teaching_point", "county": "440402", "ownership": "public"},
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"code", "name", "address", "urban_rural", "central_school_code"}
    assert "2144040298" in errors["code"][0]
    assert not School.objects.filter(name="").exists()


def test_who_may_not_register_a_school():
    registrar = member(Role.REGISTRAR, school=SchoolFactory())
    assert signed_in(registrar).get("/schools/new/").status_code == 403
    assert signed_in(registrar).post("/schools/new/", zhuhai_school()).status_code == 403
    viewer = member(Role.BUREAU_VIEWER, division=Division.objects.get(code="440000"))
    assert signed_in(viewer).post("/schools/new/", zhuhai_school()).status_code == 403
    # A county registers in its own county only: another is not among its choices.
    futian = signed_in(approver("440304"))
    page = futian.get("/schools/new/").content.decode()
    assert 'value="440304"' in page and 'value="440402"' not in page
    refused = futian.post("/schools/new/", zhuhai_school())
    assert refused.status_code == 400 and "county" in refused.context["form"].errors
    assert not School.objects.filter(code="2144040299").exists()


def test_the_list_filters_by_kind_and_state_and_pages_by_fifty():
    futian = Division.objects.get(code="440304")
    for _ in range(52):
        SchoolFactory(county=futian)
    junior = SchoolFactory(county=futian, kind=SchoolKind.JUNIOR, name="福田初级中学")
    closed = SchoolFactory(county=futian, name="已撤销小学", closed_on=datetime.date(2026, 1, 5))
    SchoolFactory(county=Division.objects.get(code="440305"), name="南山小学")
    client = signed_in(member(Role.BUREAU_VIEWER, division=futian))
    first = client.get("/schools/")
    assert first.status_code == 200
    assert first.context["page"].paginator.count == 53  # open schools of Futian only
    assert len(first.context["page"].object_list) == 50
    assert "南山小学" not in first.content.decode()
    second = client.get("/schools/", {"state": "open", "page": 2})
    assert len(second.context["page"].object_list) == 3
    kind = client.get("/schools/", {"kind": "junior", "state": "open"})
    assert [s.pk for s in kind.context["page"].object_list] == [junior.pk]
    gone = client.get("/schools/", {"state": "closed"})
    assert [s.pk for s in gone.context["page"].object_list] == [closed.pk]
    assert "2026-01-05" in gone.content.decode()


def test_an_edit_page_keeps_the_code_and_the_county():
    school = SchoolFactory(name="旧名小学")
    client = signed_in(approver("440304"))
    form = client.get(f"/schools/{school.pk}/edit/")
    assert form.status_code == 200
    assert "id_code" not in form.content.decode() and 'value="旧名小学"' in form.content.decode()
    response = client.post(
        f"/schools/{school.pk}/edit/",
        {
            "name": "新名小学",
            "kind": "primary",
            "address": "福田区",
            "ownership": "private",
            "urban_rural": "112",
        },
    )
    assert response.status_code == 302
    school.refresh_from_db()
    assert (school.name, school.ownership, school.county_id) == ("新名小学", "private", "440304")
    assert signed_in(approver("440305")).get(f"/schools/{school.pk}/edit/").status_code == 404


def test_the_close_page_says_how_many_children_keep_the_school_open():
    school = SchoolFactory(name="仍有学生小学")
    school_class = SchoolClassFactory(school=school, grade=1)
    student_register(
        actor=member(Role.REGISTRAR, school=school),
        school_class_id=school_class.pk,
        data=student_data(),
    )
    client = signed_in(approver("440304"))
    page = client.get(f"/schools/{school.pk}/close/")
    assert page.status_code == 200 and 'id="close-pupils"' in page.content.decode()
    refused = client.post(f"/schools/{school.pk}/close/")
    assert refused.status_code == 409
    assert "1" in refused.context["problem"]
    school.refresh_from_db()
    assert school.closed_on is None

    empty = SchoolFactory(name="空校")
    done = client.post(f"/schools/{empty.pk}/close/")
    assert done.status_code == 302
    empty.refresh_from_db()
    assert empty.closed_on is not None


def test_a_merge_is_confirmed_on_a_page_naming_both_schools_and_the_children():
    central = SchoolFactory(name="福田中心小学")
    point = SchoolFactory(
        name="福田村教学点", kind=SchoolKind.TEACHING_POINT, central_school=central
    )
    school_class = SchoolClassFactory(school=point, grade=1, name="1班")
    registrar = member(Role.REGISTRAR, school=point)
    for name in ("张春明", "李小红"):
        student_register(
            actor=registrar, school_class_id=school_class.pk, data=student_data(name=name)
        )
    client = signed_in(approver("440304"))
    choose = client.get(f"/schools/{point.pk}/merge/")
    assert choose.status_code == 200 and "福田中心小学" in choose.content.decode()
    confirm = client.post(f"/schools/{point.pk}/merge/", {"into_school": central.pk})
    html = confirm.content.decode()
    assert confirm.status_code == 200
    assert "福田村教学点" in html and "福田中心小学" in html
    assert confirm.context["plan"].pupils == 2
    assert Placement.objects.filter(school=central).count() == 0  # nothing moved yet
    done = client.post(
        f"/schools/{point.pk}/merge/",
        {"into_school": central.pk, "pupils": 2, "confirm": "on"},
    )
    assert done.status_code == 302 and done.url == f"/schools/{central.pk}/"
    moved = Placement.objects.filter(school=central, end_date__isnull=True)
    assert moved.count() == 2 and {p.reason for p in moved} == {PlacementReason.SCHOOL_MERGE}
    point.refresh_from_db()
    assert point.merged_into == central
    # The city registers schools but does not merge them.
    assert signed_in(approver("440300")).get(f"/schools/{central.pk}/merge/").status_code == 403
