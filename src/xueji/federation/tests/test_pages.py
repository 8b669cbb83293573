"""The national pages and the health endpoints."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.test import Client

from xueji.access.models import Role
from xueji.audit.models import AuditEntry
from xueji.federation.models import NationalMove
from xueji.geo.models import Division
from xueji.students.services import student_register
from xueji.testing.factories import SchoolClassFactory, member, student_data

pytestmark = pytest.mark.django_db


def test_health_and_readiness_are_public_and_say_nothing_of_the_data() -> None:
    client = Client()
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_a_national_bureau_finds_the_province_of_a_number_and_it_is_audited() -> None:
    school_class = SchoolClassFactory(grade=1)
    registrar = member(Role.REGISTRAR, school=school_class.school)
    data = student_data()
    student_register(actor=registrar, school_class_id=school_class.pk, data=data)
    client = Client()
    client.force_login(member(Role.BUREAU_VIEWER))
    page = client.post("/national/lookup/", {"number": data.id_number})
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="result"' in text, text[text.find("<main") :][:3000]
    assert "广东" in text and "(44)" in text
    assert data.id_number not in text  # masked
    assert AuditEntry.objects.filter(action="federation.lookup").count() == 1
    missing = client.post("/national/lookup/", {"number": "G110101201001010011"})
    assert "没有省份持有此号码" in missing.content.decode()


def test_a_county_bureau_may_not_open_the_national_pages() -> None:
    school_class = SchoolClassFactory(grade=1)
    client = Client()
    client.force_login(
        member(Role.BUREAU_VIEWER, division=school_class.school.county, level="county")
    )
    assert client.get("/national/lookup/").status_code == 403
    assert client.get("/national/statistics/").status_code == 403


def test_the_national_statistics_show_the_moves_between_provinces_to_a_national_bureau() -> None:
    NationalMove.objects.create(
        transfer=uuid.uuid4(),
        record=uuid.uuid4(),
        from_province="44",
        to_province="11",
        moved_on=datetime.date(2026, 10, 12),
    )
    NationalMove.objects.create(
        transfer=uuid.uuid4(),
        record=uuid.uuid4(),
        from_province="44",
        to_province="11",
        moved_on=datetime.date(2026, 11, 3),
    )
    client = Client()
    client.force_login(member(Role.BUREAU_VIEWER))
    page = client.get("/national/statistics/")
    assert page.status_code == 200
    text = page.content.decode()
    flows = text[text.index('id="flows"') :]
    assert "<td>广东省</td><td>北京市</td><td>2</td><td>2026-10-12</td><td>2026-11-03</td>" in flows
    province = Division.objects.get(code="440000")
    refused = Client()
    refused.force_login(member(Role.BUREAU_VIEWER, division=province, level="province"))
    assert refused.get("/national/statistics/").status_code == 403


def test_the_ministry_operators_see_the_nodes_page() -> None:
    client = Client()
    client.force_login(member(Role.ADMIN))
    page = client.get("/national/nodes/")
    assert page.status_code == 200
    assert "全国数据在同一数据库中" in page.content.decode()
