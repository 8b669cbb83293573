"""POST /api/students with another school's child's ID number: the school is named only when the
name sent is the record's; else 409 `registered_elsewhere` with the address where a transfer is
filed. Every such answer is an audited look-up; over the hourly limit, 429."""

import pytest

from xueji.access.lookups import LOOKUP_ACTION, LOOKUP_REFUSED_ACTION
from xueji.audit.models import AuditEntry
from xueji.testing.api import World, api_as

from .test_register import URL, body

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return World()


def _again(world, name, language="en"):
    """Registrar C (Nanshan) sends the ID number of student A (Futian) under `name`."""
    sent = body(world.class_c, name=name, id_number=world.student_a.reveal_id_number())
    return api_as(world.registrar_c, language=language).post(URL, sent)


def test_another_name_gets_registered_elsewhere_and_a_transfer_link(world):
    response = _again(world, "王小明")
    assert response.status_code == 409
    error = response.json()
    assert error["code"] == "registered_elsewhere"
    assert error["details"]["transfer_url"] == "http://testserver/changes/transfer/"
    assert error["fields"]["id_number"][0]["code"] == "registered_elsewhere"
    assert "already registered at another school" in error["message"]
    text = response.content.decode()
    assert "福田第一小学" not in text and world.student_a.number_masked not in text
    assert "school" not in error["details"]
    [entry] = AuditEntry.objects.filter(actor=world.registrar_c, action=LOOKUP_ACTION)
    assert entry.detail["outcome"] == "registered_elsewhere"


def test_in_chinese_it_says_registered_at_another_school(world):
    response = _again(world, "王小明", language="zh-hans")
    assert "已在其他学校注册学籍" in response.json()["message"]


def test_the_records_name_in_traditional_characters_names_the_school(world):
    response = _again(world, "張春銘")
    assert response.status_code == 409
    error = response.json()
    assert error["code"] == "id_number_registered"
    assert error["details"]["school"] == "福田第一小学"
    [entry] = AuditEntry.objects.filter(actor=world.registrar_c, action=LOOKUP_ACTION)
    assert entry.detail["outcome"] == "school_named"


def test_over_the_limit_429_with_a_message_in_the_callers_language(world, settings):
    settings.XUEJI_LOOKUP_LIMIT_PER_HOUR = 1
    assert _again(world, "王小明").status_code == 409
    english = _again(world, "张春铭")
    assert english.status_code == 429
    error = english.json()
    assert error["code"] == "lookup_limit_reached"
    assert "Too many look-ups" in error["message"] and "1 in an hour" in error["message"]
    assert error["details"]["limit"] == 1 and error["details"]["retry_after_seconds"] > 0
    assert "福田第一小学" not in english.content.decode()
    chinese = _again(world, "张春铭", language="zh-hans")
    assert chinese.status_code == 429 and "每小时最多查询 1 次" in chinese.json()["message"]
    assert AuditEntry.objects.filter(actor=world.registrar_c, action=LOOKUP_ACTION).count() == 1
    assert (
        AuditEntry.objects.filter(actor=world.registrar_c, action=LOOKUP_REFUSED_ACTION).count()
        == 2
    )


def test_the_openapi_document_lists_the_refusals(world):
    operation = api_as(world.nation).get("/api/openapi.json").json()["paths"]["/api/students"]
    assert {"409", "429"} <= set(operation["post"]["responses"])
