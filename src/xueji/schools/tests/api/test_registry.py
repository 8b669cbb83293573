"""The API of the registry of schools: register, read, edit, close, merge (issue 19), and a
school in a city without counties (东莞, issue 18 item 2)."""

from __future__ import annotations

import datetime

import pytest

from xueji.access.models import Role
from xueji.geo.models import Division
from xueji.schools.models import School, SchoolKind
from xueji.students.models import Placement, PlacementReason
from xueji.students.services import student_register
from xueji.testing.api import api_as
from xueji.testing.factories import (
    SchoolClassFactory,
    SchoolFactory,
    member,
    resident_id,
    student_data,
)

pytestmark = pytest.mark.django_db


def approver(code: str, level: str | None = None):
    return member(Role.BUREAU_APPROVER, division=Division.objects.get(code=code), level=level)


def body(**overrides):
    values = {
        "code": "2144040201",
        "name": "珠海市香洲区第一小学",
        "kind": "primary",
        "county_code": "440402",  # 香洲区, 珠海
        "address": "珠海市香洲区人民东路1号",
        "urban_rural": "111",
    }
    values.update(overrides)
    return values


def test_a_province_registers_a_school_in_zhuhai():
    response = api_as(approver("440000")).post("/api/schools", body(boarding=True))
    assert response.status_code == 201, response.json()
    record = response.json()
    assert record["code"] == "2144040201"
    assert (record["county_code"], record["city_code"], record["province_code"]) == (
        "440402",
        "440400",
        "440000",
    )
    assert (record["first_grade"], record["last_grade"]) == (1, 6)
    assert (record["ownership"], record["urban_rural"], record["boarding"]) == (
        "public",
        "111",
        True,
    )
    assert record["closed_on"] is None and record["central_school_code"] is None


def test_who_may_not_register_a_school_is_refused():
    registrar = member(Role.REGISTRAR, school=SchoolFactory())
    assert api_as(registrar).post("/api/schools", body()).status_code == 403
    viewer = member(Role.BUREAU_VIEWER, division=Division.objects.get(code="440000"))
    assert api_as(viewer).post("/api/schools", body()).status_code == 403
    # A county registers only in its own county.
    refused = api_as(approver("440304")).post("/api/schools", body())
    assert refused.status_code == 404 and refused.json()["code"] == "county_not_found"
    assert not School.objects.filter(code="2144040201").exists()


def test_every_bad_field_is_named_in_one_answer():
    refused = api_as(approver("440000"), language="en").post(
        "/api/schools",
        body(kind="teaching_point", first_grade=3, last_grade=2),
    )
    assert refused.status_code == 400
    fields = refused.json()["fields"]
    assert set(fields) == {"central_school_code", "last_grade"}
    assert fields["central_school_code"][0]["code"] == "required"
    malformed = api_as(approver("440000")).post(
        "/api/schools", body(code="21440", urban_rural="999", address="")
    )
    assert malformed.status_code == 422
    assert {"code", "urban_rural", "address"} <= set(malformed.json()["fields"])


def test_a_school_and_a_child_in_dongguan_a_city_without_counties():
    """东莞 (441900) has no counties: a school belongs to it, its children's ID numbers carry
    its code, and a bureau scoped to it as a county sees both."""
    province = api_as(approver("440000"))
    response = province.post(
        "/api/schools",
        body(code="2144190001", name="东莞市第一小学", county_code="441900", address="东莞市"),
    )
    assert response.status_code == 201, response.json()
    school = School.objects.get(code="2144190001")
    assert (school.county_id, school.city_id, school.province_id) == ("441900", "441900", "440000")
    school_class = SchoolClassFactory(school=school, grade=1)
    registrar = member(Role.REGISTRAR, school=school)
    number = resident_id(area_code="441900")
    child = student_register(
        actor=registrar,
        school_class_id=school_class.pk,
        data=student_data(
            name="陈东莞", id_number=number, birthplace_code="441900", hukou_division_code="441900"
        ),
    ).student
    assert child.reveal_student_number() == "G" + number

    dongguan = Division.objects.get(code="441900")
    for level in ("county", "city"):
        bureau = api_as(member(Role.BUREAU_VIEWER, division=dongguan, level=level))
        assert [s["code"] for s in bureau.get("/api/schools").json()] == ["2144190001"]
        assert bureau.get(f"/api/schools/{school.pk}").status_code == 200
    county = api_as(approver("441900", level="county"))
    assert county.get(f"/api/schools/{school.pk}/registry").status_code == 200
    # Its bureau registers the next one itself, as a county does.
    second = county.post(
        "/api/schools", body(code="2144190002", name="东莞市第二小学", county_code="441900")
    )
    assert second.status_code == 201, second.json()
    # A neighbour county's bureau sees neither.
    futian = api_as(approver("440304"))
    assert futian.get(f"/api/schools/{school.pk}/registry").status_code == 404


def test_an_edit_reads_back_and_a_closed_school_answers_with_its_date():
    county = api_as(approver("440304"))
    school = SchoolFactory(address="旧地址")
    changed = county.client.patch(
        f"/api/schools/{school.pk}/registry",
        {"name": "福田区新名小学", "urban_rural": "112", "ownership": "private"},
        content_type="application/json",
        headers=county._headers(),
    )
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["name"], changed.json()["ownership"]) == ("福田区新名小学", "private")
    closed = county.post(f"/api/schools/{school.pk}/close", {})
    assert closed.status_code == 200
    assert closed.json()["closed_on"] == datetime.date.today().isoformat()
    again = county.post(f"/api/schools/{school.pk}/close", {})
    assert again.status_code == 409 and again.json()["code"] == "school_closed"


def test_a_school_with_children_does_not_close_and_says_how_many():
    school = SchoolFactory()
    school_class = SchoolClassFactory(school=school, grade=1)
    student_register(
        actor=member(Role.REGISTRAR, school=school),
        school_class_id=school_class.pk,
        data=student_data(),
    )
    refused = api_as(approver("440304")).post(f"/api/schools/{school.pk}/close", {})
    assert refused.status_code == 409
    assert refused.json()["code"] == "school_has_pupils"
    assert refused.json()["details"] == {"pupils": 1}


def test_a_county_previews_and_confirms_a_merge():
    central = SchoolFactory(name="福田中心小学")
    point = SchoolFactory(
        name="福田村教学点", kind=SchoolKind.TEACHING_POINT, central_school=central
    )
    school_class = SchoolClassFactory(school=point, grade=2, name="复式班")
    child = student_register(
        actor=member(Role.REGISTRAR, school=point),
        school_class_id=school_class.pk,
        data=student_data(birth_date=datetime.date(2019, 3, 5)),
    ).student
    county = api_as(approver("440304"))
    preview = county.get(f"/api/schools/{point.pk}/merge", {"into_school_id": central.pk})
    assert preview.status_code == 200
    assert (preview.json()["pupils"], preview.json()["possible"]) == (1, True)
    # The city may register schools, not merge them.
    city = api_as(approver("440300"))
    assert (
        city.post(
            f"/api/schools/{point.pk}/merge", {"into_school_id": central.pk, "pupils": 1}
        ).status_code
        == 403
    )
    stale = county.post(
        f"/api/schools/{point.pk}/merge", {"into_school_id": central.pk, "pupils": 2}
    )
    assert stale.status_code == 409 and stale.json()["code"] == "pupil_count_changed"
    done = county.post(
        f"/api/schools/{point.pk}/merge", {"into_school_id": central.pk, "pupils": 1}
    )
    assert done.status_code == 200, done.json()
    assert done.json()["school"]["merged_into_code"] == central.code
    moved = Placement.objects.get(student=child, end_date__isnull=True)
    assert (moved.school_id, moved.reason, moved.grade) == (
        central.pk,
        PlacementReason.SCHOOL_MERGE,
        2,
    )
