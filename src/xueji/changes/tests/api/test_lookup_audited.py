"""The transfer's look-up by student number and name is a question about a record anywhere in the
country: every answer, found or not, is an audited look-up (no plaintext number in the entry),
counted with the registrar's refused registrations against the limit of the hour (429 beyond)."""

import pytest

from xueji.access.lookups import LOOKUP_ACTION, LOOKUP_REFUSED_ACTION
from xueji.audit.models import AuditEntry
from xueji.testing.api import World, api_as

pytestmark = pytest.mark.django_db

URL = "/api/changes/transfers/lookup"


@pytest.fixture
def world():
    return World()


def _lookup(world, name, *, number=None, language="en"):
    number = number or world.student_a.reveal_student_number()
    return api_as(world.registrar_c, language=language).post(
        URL, {"student_number": number, "name": name}
    )


def _entries(user, action=LOOKUP_ACTION):
    return list(AuditEntry.objects.filter(actor=user, action=action).order_by("id"))


def test_a_child_found_is_an_audited_lookup_about_that_child(world):
    response = _lookup(world, "张春铭")
    assert response.status_code == 200 and response.json()["masked_name"] == "张*铭"
    [entry] = _entries(world.registrar_c)
    assert entry.object_type == "student" and entry.object_id == world.student_a.pk
    assert entry.detail["kind"] == "transfer" and entry.detail["outcome"] == "found"
    number = world.student_a.reveal_student_number()
    assert number not in str(entry.detail) and number[1:] not in str(entry.detail)
    assert entry.detail["student_number"] == world.student_a.number_masked


@pytest.mark.parametrize(
    ("name", "number"),
    [("张", None), ("张春铭", "G440304201003059999")],
)
def test_a_failed_lookup_is_audited_too(world, name, number):
    response = _lookup(world, name, number=number)
    assert response.status_code == 404
    [entry] = _entries(world.registrar_c)
    assert entry.detail["outcome"] == "not_found" and entry.object_id is None
    assert "*" in entry.detail["student_number"]


def test_lookups_and_refused_registrations_share_the_limit_then_429(world, settings):
    settings.XUEJI_LOOKUP_LIMIT_PER_HOUR = 2
    from xueji.students.tests.api.test_register import body

    sent = body(world.class_c, name="王小明", id_number=world.student_a.reveal_id_number())
    assert api_as(world.registrar_c).post("/api/students", sent).status_code == 409
    assert _lookup(world, "张").status_code == 404
    limited = _lookup(world, "张春铭")
    assert limited.status_code == 429
    error = limited.json()
    assert error["code"] == "lookup_limit_reached" and "Too many look-ups" in error["message"]
    assert "masked_name" not in error
    [refusal] = _entries(world.registrar_c, LOOKUP_REFUSED_ACTION)
    assert refusal.detail["kind"] == "transfer" and refusal.detail["limit"] == 2
    # Another registrar is not held back by this one's look-ups.
    other = api_as(world.registrar_b).post(
        URL, {"student_number": world.student_a.reveal_student_number(), "name": "张春铭"}
    )
    assert other.status_code == 200


def test_the_openapi_document_lists_the_429(world):
    paths = api_as(world.nation).get("/api/openapi.json").json()["paths"]
    assert "429" in paths[URL]["post"]["responses"]


def test_a_filing_with_a_made_up_class_does_not_tell_whether_the_child_exists(world):
    """Filing is no second door to the look-up: the form's problems are answered first, the
    same for a child who exists and for one who does not."""
    client = api_as(world.registrar_c)
    answers = []
    for number, name in (
        (world.student_a.reveal_student_number(), "张春铭"),
        ("G440304201003059999", "张春铭"),
    ):
        response = client.post(
            "/api/changes/transfers",
            {"student_number": number, "name": name, "to_class_id": 999999, "reason": "搬家"},
        )
        answers.append((response.status_code, sorted(response.json().get("fields", {}))))
    assert answers[0] == answers[1]
    assert answers[0][0] == 400 and "to_class" in answers[0][1]
