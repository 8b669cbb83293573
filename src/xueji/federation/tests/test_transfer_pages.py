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


@override_settings(XUEJI_NODE="province:44")
def test_the_sending_parties_open_the_filing_s_documents_on_their_node() -> None:
    from xueji.audit.models import AuditEntry
    from xueji.corrections.tests.files import PDF

    from .matrix_objects import evidence

    place = _Place()
    document = evidence(place)
    url = f"/federation/transfers/{document.transfer_id}/evidence/{document.pk}/"
    for user in (
        member(Role.REGISTRAR, school=place.school),
        member(Role.BUREAU_APPROVER, division=place.county),
    ):
        client = Client()
        client.force_login(user)
        page = client.get(f"/federation/transfers/{document.transfer_id}/")
        assert url in page.content.decode()
        opened = client.get(url)
        assert opened.status_code == 200 and opened.content == PDF
        assert opened["Content-Disposition"].startswith("attachment;")
    assert AuditEntry.objects.filter(action="federation.transfer_evidence_open").count() == 2
    other = Client()
    other.force_login(member(Role.REGISTRAR, school=SchoolClassFactory().school))
    assert other.get(url).status_code == 404
    api = api_as(member(Role.REGISTRAR, school=place.school), language="en")
    listed = api.get(f"/api/federation/transfers/{document.transfer_id}").json()
    assert [d["file_name"] for d in listed["evidence"]] == ["监护人申请.pdf"]
    assert "sealed" not in listed["evidence"][0]


@override_settings(XUEJI_NODE="province:11")
def test_the_receiving_school_withdraws_on_the_page_after_confirming() -> None:
    from .matrix_objects import receiving_transfer

    school_class = SchoolClassFactory(grade=3)
    transfer = receiving_transfer(school_class)
    url = f"/federation/transfers/{transfer.pk}/withdraw/"
    client = Client()
    client.force_login(member(Role.REGISTRAR, school=school_class.school))
    page = client.get(f"/federation/transfers/{transfer.pk}/")
    assert 'id="withdrawal"' in page.content.decode()
    assert client.get(url).status_code == 302
    asked = client.post(url, {"reason": "家长改变主意"})
    assert asked.status_code == 200 and 'name="confirmed"' in asked.content.decode()
    transfer.refresh_from_db()
    assert transfer.state == CrossState.PENDING  # not yet: asked first
    other = Client()
    other.force_login(member(Role.REGISTRAR, school=SchoolClassFactory().school))
    assert other.post(url, {"reason": "x", "confirmed": "yes"}).status_code == 404
    done = client.post(url, {"reason": "家长改变主意", "confirmed": "yes"})
    assert done.status_code == 302
    transfer.refresh_from_db()
    assert (transfer.state, transfer.refusal) == (CrossState.WITHDRAWING, "家长改变主意")
    assert Outbox.objects.filter(topic="transfer.withdraw").count() == 1
    after = client.get(f"/federation/transfers/{transfer.pk}/").content.decode()
    assert 'id="withdrawal"' not in after


@override_settings(XUEJI_NODE="province:11")
def test_the_api_withdraws_once_and_the_sending_side_cannot() -> None:
    from .matrix_objects import receiving_transfer

    school_class = SchoolClassFactory(grade=3)
    transfer = receiving_transfer(school_class)
    api = api_as(member(Role.REGISTRAR, school=school_class.school), language="en")
    assert api.get(f"/api/federation/transfers/{transfer.pk}").json()["may_withdraw"] is True
    url = f"/api/federation/transfers/{transfer.pk}/withdraw"
    answer = api.post(url, {"reason": "家长改变主意"})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["state"], answer.json()["may_withdraw"]) == ("withdrawing", False)
    again = api.post(url, {})
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    # On the sending node the transfer is not the school's to withdraw.
    place = _Place()
    sending = a_transfer(place)
    answer = api_as(member(Role.REGISTRAR, school=place.school), language="en").post(
        f"/api/federation/transfers/{sending.pk}/withdraw", {}
    )
    assert answer.status_code == 409 and answer.json()["code"] == "not_receiving"
