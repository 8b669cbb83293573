"""The pages and the API of transfers between provinces on a province's node: the list with its
filters, a transfer and its chain, the decision asked to confirm, the filing's field errors."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from xueji.access.models import Role
from xueji.changes.models import StepState
from xueji.federation.models import CrossState, Outbox
from xueji.geo.models import Division
from xueji.students.services import student_register
from xueji.testing.api import api_as
from xueji.testing.factories import SchoolClassFactory, member, student_data

from .matrix_objects import transfer as a_transfer

pytestmark = pytest.mark.django_db


class _Place:
    def __init__(self) -> None:
        self.school_class = SchoolClassFactory(grade=3)
        self.school = self.school_class.school
        self.county = Division.objects.get(code=self.school.county_id)
        registrar = member(Role.REGISTRAR, school=self.school)
        self.student = student_register(
            actor=registrar,
            school_class_id=self.school_class.pk,
            data=student_data(),
            age_confirmation="测试",
        ).student


@override_settings(XUEJI_NODE="province:44")
def test_the_sending_school_sees_the_transfer_and_approves_after_confirming() -> None:
    place = _Place()
    transfer = a_transfer(place)
    client = Client()
    client.force_login(member(Role.REGISTRAR, school=place.school))
    listing = client.get("/federation/transfers/", {"state": "pending"})
    assert listing.status_code == 200
    assert f"/federation/transfers/{transfer.pk}/" in listing.content.decode()
    assert (
        str(transfer.pk)
        not in client.get("/federation/transfers/", {"state": "completed"}).content.decode()
    )
    page = client.get(f"/federation/transfers/{transfer.pk}/")
    assert page.status_code == 200 and 'id="decision"' in page.content.decode()
    url = f"/federation/transfers/{transfer.pk}/school-decision/"
    asked = client.post(url, {"step": 4, "approve": "1"})
    assert asked.status_code == 200 and 'name="confirmed"' in asked.content.decode()
    assert transfer.steps.get(ordinal=4).state == StepState.PENDING  # not yet: asked first
    done = client.post(url, {"step": 4, "approve": "1", "confirmed": "yes"})
    assert done.status_code == 302
    assert transfer.steps.get(ordinal=4).state == StepState.APPROVED
    assert Outbox.objects.filter(topic="transfer.step").count() == 1
    # Another school sees nothing of it.
    other = Client()
    other.force_login(member(Role.REGISTRAR, school=SchoolClassFactory().school))
    assert other.get(f"/federation/transfers/{transfer.pk}/").status_code == 404


@override_settings(XUEJI_NODE="province:44")
def test_the_api_lists_and_decides_and_a_rejection_needs_a_reason() -> None:
    place = _Place()
    transfer = a_transfer(place)
    api = api_as(member(Role.REGISTRAR, school=place.school), language="en")
    listed = api.get("/api/federation/transfers?state=pending")
    assert listed.status_code == 200 and [t["id"] for t in listed.json()] == [str(transfer.pk)]
    url = f"/api/federation/transfers/{transfer.pk}/school-decision"
    refused = api.post(url, {"decision": "reject"})
    assert refused.status_code == 400 and "reason" in refused.text
    rejected = api.post(url, {"decision": "reject", "reason": "学位已满"})
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["state"] == CrossState.REJECTED


@override_settings(XUEJI_NODE="province:11")
def test_the_filing_page_names_the_field_and_the_reason() -> None:
    school_class = SchoolClassFactory(grade=3)
    client = Client()
    client.force_login(member(Role.REGISTRAR, school=school_class.school))
    assert client.get("/federation/transfers/new/").status_code == 200
    answer = client.post(
        "/federation/transfers/new/",
        {"student_number": "", "name": "", "to_class_id": school_class.pk, "reason": "x"},
    )
    assert answer.status_code == 400
    assert "student_number" in answer.content.decode()
