"""The form that files a change from a record (issue 20, item 13): only the kinds possible for
the child are offered (复学 only for a suspended child, no 辍学 in compulsory education), and each
kind shows its own fields: 新班级 for a class change only, the first and last day for a
suspension; the kind's fields come by htmx when another kind is chosen. 辍学 of a child in grades
1–9 is refused by page and API alike (item 3)."""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from xueji.access.scope import today
from xueji.changes.models import ChangeRequest, ChangeState
from xueji.changes.services import change_decide
from xueji.changes.tests.views.scenario import client_as, enrol, file_suspension
from xueji.corrections.tests.files import PDF
from xueji.testing.api import api_as

pytestmark = pytest.mark.django_db


def form_of(scene, student, kind=""):
    url = f"/changes/students/{student.pk}/new/" + (f"?kind={kind}" if kind else "")
    response = client_as(scene.sender.registrar).get(url)
    assert response.status_code == 200
    return response.content.decode()


def offered(html):
    """The kinds the form's choice of kind offers."""
    select = html[html.index('name="kind"') : html.index("</select>", html.index('name="kind"'))]
    return [v for v in re.findall(r'<option value="([a-z_]*)"', select) if v]


def test_an_enrolled_child_of_grade_2_is_offered_neither_resume_nor_dropout(scene):
    html = form_of(scene, scene.child)
    kinds = offered(html)
    assert "resume" not in kinds and "dropout" not in kinds and "transfer" not in kinds
    assert {"suspend", "withdraw", "class_change", "death"} <= set(kinds)
    assert 'id="dropout-hint"' in html
    # The record page links the same kinds.
    record = client_as(scene.sender.registrar).get(f"/students/{scene.child.pk}/")
    links = record.content.decode()
    assert "?kind=suspend" in links and "?kind=resume" not in links
    assert "?kind=dropout" not in links


def test_a_suspended_child_is_offered_resume_and_not_another_suspension(scene):
    change = file_suspension(scene.sender, scene.child)
    change_decide(actor=scene.approvers["440304"], change_id=change.pk, approve=True)
    kinds = offered(form_of(scene, scene.child))
    assert "resume" in kinds and "suspend" not in kinds and "class_change" not in kinds
    record = client_as(scene.sender.registrar).get(f"/students/{scene.child.pk}/")
    assert "?kind=resume" in record.content.decode()


def fields_of(html):
    return set(re.findall(r'name="([a-z_]+)"', html[html.index("<form") :]))


def test_each_kind_shows_its_own_fields(scene):
    suspension = fields_of(form_of(scene, scene.child, "suspend"))
    assert {"suspended_from", "suspended_until", "initiator", "guardian_request"} <= suspension
    assert "to_class" not in suspension
    class_change = fields_of(form_of(scene, scene.child, "class_change"))
    assert "to_class" in class_change
    assert not {"suspended_from", "suspended_until", "guardian_request"} & class_change
    death = fields_of(form_of(scene, scene.child, "death"))
    assert not {"to_class", "suspended_from", "initiator", "guardian_request"} & death
    assert {"reason", "evidence"} <= death
    # No kind chosen yet: only the choice, the reason and the evidence.
    bare = fields_of(form_of(scene, scene.child))
    assert not {"to_class", "suspended_from", "initiator"} & bare
    # The new class is one of the child's grade, not the child's own class.
    html = form_of(scene, scene.child, "class_change")
    own, other = scene.klass(scene.sender), scene.klass(scene.sender, number=2)
    assert f'value="{other.pk}"' in html and f'value="{own.pk}"' not in html


def test_choosing_a_kind_fetches_its_fields_by_htmx_without_a_script(scene):
    html = form_of(scene, scene.child)
    select = re.search(r"<select [^>]*name=\"kind\"[^>]*>", html)[0]
    assert 'hx-get="/changes/students/' in select and 'hx-target="#kind-fields"' in select
    assert 'hx-select-oob="#kind-guardian"' in select
    assert "<script>" not in html[html.index("<main") :] and " onchange=" not in html
    fetched = client_as(scene.sender.registrar).get(
        f"/changes/students/{scene.child.pk}/new/?kind=suspend", headers={"HX-Request": "true"}
    )
    page = fetched.content.decode()
    assert 'id="kind-fields"' in page and 'name="suspended_until"' in page
    assert 'id="kind-guardian"' in page and 'name="guardian_request"' in page


def test_a_suspension_needs_its_days_in_order(scene):
    client = client_as(scene.sender.registrar)
    url = f"/changes/students/{scene.child.pk}/new/"
    base = {
        "kind": "suspend",
        "initiator": "guardian",
        "reason": "病休",
        "guardian_request": SimpleUploadedFile("申请书.pdf", PDF, "application/pdf"),
    }
    missing = client.post(url, base)
    assert missing.status_code == 400
    html = missing.content.decode()
    assert 'id="id_suspended_from_error"' in html and 'id="id_suspended_until_error"' in html
    start = today()
    backwards = client.post(
        url,
        {
            **base,
            "guardian_request": SimpleUploadedFile("申请书.pdf", PDF, "application/pdf"),
            "evidence": [SimpleUploadedFile("诊断.pdf", PDF, "application/pdf")],
            "suspended_from": start.isoformat(),
            "suspended_until": (start - datetime.timedelta(days=1)).isoformat(),
        },
    )
    assert backwards.status_code == 400
    assert "comes after its first day" in backwards.content.decode()
    assert not ChangeRequest.objects.exists()


def test_the_days_of_a_suspension_are_shown_and_go_through_the_api(scene):
    other = enrol(scene.nanshan, "王大山")
    first, last = today(), today() + datetime.timedelta(days=90)
    api = api_as(scene.nanshan.registrar)
    body = {
        "student_id": str(other.pk),
        "kind": "suspend",
        "reason": "病休",
        "suspended_from": first.isoformat(),
        "suspended_until": last.isoformat(),
        "guardian_request": {"name": "申请书.pdf", "content_base64": _b64(PDF)},
        "evidence": [{"name": "诊断.pdf", "content_base64": _b64(PDF)}],
    }
    filed = api.post("/api/changes", body)
    assert filed.status_code == 201, filed.content
    assert filed.json()["suspended_until"] == last.isoformat()
    detail = client_as(scene.nanshan.registrar).get(f"/changes/{filed.json()['id']}/")
    assert 'id="suspension-days"' in detail.content.decode()
    # Days for another kind are refused, named by their field.
    ChangeRequest.objects.filter(pk=filed.json()["id"]).update(state=ChangeState.WITHDRAWN)
    wrong = api.post("/api/changes", {**body, "kind": "withdraw"})
    assert wrong.status_code == 400
    assert wrong.json()["fields"]["suspended_from"][0]["code"] == "not_a_suspension"


def _b64(content: bytes) -> str:
    import base64

    return base64.b64encode(content).decode()


def test_a_dropout_in_grade_2_is_refused_by_the_page_and_the_api_with_the_reason(scene):
    url = f"/changes/students/{scene.child.pk}/new/"
    page = client_as(scene.sender.registrar).post(
        url,
        {
            "kind": "dropout",
            "reason": "长期未到校",
            "evidence": [SimpleUploadedFile("说明.pdf", PDF, "application/pdf")],
        },
    )
    # Not offered; posted all the same (a form left open), refused with the reason by its field.
    assert page.status_code == 400 and not ChangeRequest.objects.exists()
    html = page.content.decode()
    assert 'id="id_kind_error"' in html and "county education bureau" in html
    answer = api_as(scene.sender.registrar).post(
        "/api/changes",
        {
            "student_id": str(scene.child.pk),
            "kind": "dropout",
            "initiator": "school",
            "reason": "长期未到校",
            "evidence": [{"name": "说明.pdf", "content_base64": _b64(PDF)}],
        },
    )
    assert answer.status_code == 400
    (error,) = answer.json()["fields"]["kind"]
    assert error["code"] == "dropout_in_compulsory_education" and "区县教育局" in error["message"]
    assert not ChangeRequest.objects.exists()
