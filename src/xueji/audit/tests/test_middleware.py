"""Every refused request leaves an entry, in a transaction of its own; the rest leave none."""

import uuid

import pytest
from django.test import Client

from xueji.access.models import Role
from xueji.audit.integrity import chain_verify
from xueji.audit.middleware import client_address
from xueji.audit.models import AuditEntry
from xueji.testing.api import World, api_as
from xueji.testing.factories import member

pytestmark = [pytest.mark.django_db, pytest.mark.urls("xueji.audit.tests.urls")]


def denials() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action="access.denied").order_by("seq"))


@pytest.fixture
def user():
    return member(Role.BUREAU_VIEWER, username="viewer-t")


@pytest.fixture
def client(user):
    client = Client(REMOTE_ADDR="192.0.2.7")
    client.force_login(user)
    return client


def test_a_permission_denied_view_is_recorded_with_who_where_and_what(client, user):
    student = uuid.uuid4()
    response = client.get(f"/t/denied/{student}/")
    assert response.status_code == 403
    [entry] = denials()
    assert entry.actor == user
    assert entry.actor_username == "viewer-t"
    assert entry.ip_address == "192.0.2.7"
    assert (entry.object_type, entry.object_id) == ("student", student)
    assert entry.detail["code"] == "permission_denied"
    assert entry.detail["reason"] == "not your class"
    assert entry.detail["status"] == 403
    assert entry.detail["method"] == "GET"
    assert entry.detail["path"] == f"/t/denied/{student}/"


def test_a_view_answering_404_is_recorded(client):
    student = uuid.uuid4()
    assert client.get(f"/t/missing/{student}/").status_code == 404
    [entry] = denials()
    assert entry.detail["code"] == "http_404"
    assert entry.object_id == student


def test_a_raised_404_is_recorded(client):
    assert client.get("/t/raise404/").status_code == 404
    [entry] = denials()
    assert entry.detail["code"] == "not_found"


def test_a_refusal_inside_a_rolled_back_action_survives_it(client):
    response = client.get("/t/service/")
    assert response.status_code == 200
    assert not AuditEntry.objects.filter(action="test.half_done").exists()
    [entry] = denials()
    assert entry.detail["code"] == "class_not_found"
    assert entry.detail["reason"] == "No such class at your school."
    assert entry.detail["status"] == 200
    assert chain_verify().ok


def test_requests_that_are_not_refused_leave_no_entry(client):
    assert client.get("/t/fine/").status_code == 200
    assert client.get("/no/such/page/").status_code == 404  # no view: nothing was refused
    assert denials() == []


def test_an_out_of_scope_student_page_is_recorded():
    world = World()
    client = Client()
    client.force_login(world.futian_bureau)
    response = client.get(f"/students/{world.student_c.pk}/")
    assert response.status_code == 404
    [entry] = denials()
    assert entry.actor == world.futian_bureau
    assert entry.object_id == world.student_c.pk


def test_an_out_of_scope_api_read_is_recorded_with_the_refusal_code():
    world = World()
    api = api_as(world.futian_bureau)
    response = api.get(f"/api/students/{world.student_c.pk}")
    assert response.status_code == 404
    [entry] = denials()
    assert entry.actor == world.futian_bureau
    assert entry.object_id == world.student_c.pk
    assert entry.detail["code"] == response.json()["code"]


def test_the_client_address_behind_trusted_proxies(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    settings.XUEJI_TRUSTED_PROXIES = 0
    assert client_address(request) == "10.0.0.1"
    settings.XUEJI_TRUSTED_PROXIES = 1
    assert client_address(request) == "203.0.113.9"
    settings.XUEJI_TRUSTED_PROXIES = 2
    assert client_address(request) == "6.6.6.6"
    settings.XUEJI_TRUSTED_PROXIES = 3
    assert client_address(request) == "10.0.0.1"
