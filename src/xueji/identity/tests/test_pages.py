"""The identity pages as each role uses them: the registrar's work list of disagreements with
the link to the key-data correction, the roll (bureau staff only, every search audited), the
pairs and their review, 有人无籍 and 人籍分离; and the API's statuses and counts."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from xueji.access.models import Role, ScopeLevel
from xueji.audit.models import AuditEntry
from xueji.geo.models import Division
from xueji.identity.scan import duplicate_scan
from xueji.identity.services import roll_load
from xueji.testing.api import api_as
from xueji.testing.factories import SchoolClassFactory, member, resident_id

from .helpers import county_approver, province_approver, register, roll_csv

pytestmark = pytest.mark.django_db

BORN = datetime.date(2020, 3, 5)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_registrar_sees_the_disagreements_of_the_school_with_a_correction_link():
    school_class = SchoolClassFactory(grade=1)
    registrar = member(Role.REGISTRAR, school=school_class.school)
    id_number = resident_id(birth_date=BORN)
    student = register(school_class=school_class, registrar=registrar, id_number=id_number)
    roll_load(
        actor=province_approver(),
        file_name="roll.csv",
        content=roll_csv((id_number, "张春明", "M", BORN, "440304")),
    )
    page = _client(registrar).get("/identity/")
    assert page.status_code == 200
    body = page.content.decode()
    assert student.number_masked in body
    assert f"/corrections/new/{student.pk}/" in body
    answer = api_as(registrar).get("/api/identity/statuses?status=disagrees")
    assert answer.status_code == 200
    assert answer.json()[0]["differing"] == ["name"]
    # The roll is not the registrar's to see.
    assert _client(registrar).get("/identity/roll/").status_code == 403


def test_the_roll_is_seen_by_bureau_staff_and_every_search_is_audited():
    approver = province_approver()
    roll_load(
        actor=approver,
        file_name="roll.csv",
        content=roll_csv((resident_id(birth_date=BORN), "张春铭", "M", BORN, "440304")),
    )
    viewer = member(
        Role.BUREAU_VIEWER, division=Division.objects.get(code="440304"), level=ScopeLevel.COUNTY
    )
    page = _client(viewer).get("/identity/roll/?q=张春铭")
    assert page.status_code == 200
    assert "张春铭" in page.content.decode()
    assert AuditEntry.objects.filter(action="identity.roll_view").exists()


def test_the_county_pages_and_the_counts():
    register(name="张春铭")
    register(name="张春铭", id_doc_type="Z", id_number="")
    duplicate_scan(actor=None)
    approver = county_approver()
    client = _client(approver)
    for url in ("/identity/", "/identity/pairs/", "/identity/unrecorded/", "/identity/anomalies/"):
        assert client.get(url).status_code == 200, url
    pairs = api_as(approver).get("/api/identity/pairs").json()
    assert len(pairs) == 1
    detail = client.get(f"/identity/pairs/{pairs[0]['id']}/")
    assert detail.status_code == 200
    assert "Same child" in detail.content.decode() or "同一人" in detail.content.decode()
    counts = api_as(approver).get("/api/identity/counts?county=440304").json()
    assert counts["open_pairs"] == 1 and counts["not_checked"] == 2
    assert api_as(approver).get("/api/identity/counts?county=110105").status_code == 404
