"""The correction pages: request with uploads, decisions, evidence download, other information."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from xueji.corrections.models import CorrectionRequest, Evidence
from xueji.corrections.workflow import State
from xueji.students.models import Student
from xueji.students.tests.views.conftest import client_as

from ..files import PDF, png

pytestmark = pytest.mark.django_db


def form_data(student, **changes):
    from xueji.corrections.basic import current_values

    data = {
        name: value for name, value in current_values(student).items() if not name.endswith("_code")
    }
    for name in ("birthplace_code", "native_place_code", "hukou_division_code"):
        code = current_values(student)[name]
        data[name] = code
        data[f"{name}__province"] = code[:2] + "0000" if code else ""
        data[f"{name}__city"] = code[:4] + "00" if code else ""
    data.update(changes)
    return data


def test_the_record_page_offers_the_registrar_a_correction_and_the_other_information(school):
    page = client_as(school["registrar"]).get(f"/students/{school['pupil'].pk}/").content.decode()
    assert f"/corrections/new/{school['pupil'].pk}/" in page
    assert f"/students/{school['pupil'].pk}/other-info/" in page
    page = client_as(school["principal"]).get(f"/students/{school['pupil'].pk}/").content.decode()
    assert "/corrections/new/" not in page and "/other-info/" not in page


def test_a_correction_is_requested_approved_twice_and_applied_through_the_pages(school):
    pupil = school["pupil"]
    client = client_as(school["registrar"])
    form = client.get(f"/corrections/new/{pupil.pk}/")
    assert form.status_code == 200 and 'value="张春铭"' in form.content.decode()
    data = form_data(pupil, name="张春明", reason="户口簿上是张春明")
    data["evidence"] = [
        SimpleUploadedFile("hukou.pdf", PDF, content_type="application/pdf"),
        SimpleUploadedFile("photo.jpg", png(), content_type="image/jpeg"),
    ]
    response = client.post(f"/corrections/new/{pupil.pk}/", data)
    assert response.status_code == 302, response.content.decode()[-6000:]
    correction = CorrectionRequest.objects.get()
    assert response["Location"] == f"/corrections/{correction.pk}/"
    assert sorted(Evidence.objects.values_list("content_type", flat=True)) == [
        "application/pdf",
        "image/png",  # sniffed from the content, whatever the browser said
    ]

    detail = client_as(school["principal"]).get(f"/corrections/{correction.pk}/")
    page = detail.content.decode()
    assert "张春铭" in page and "张春明" in page and "Approve for the school" in page
    client_as(school["principal"]).post(
        f"/corrections/{correction.pk}/school-decision/", {"decision": "approve"}
    )
    page = client_as(school["approver"]).get(f"/corrections/{correction.pk}/").content.decode()
    assert "Approve and change the record" in page
    client_as(school["approver"]).post(
        f"/corrections/{correction.pk}/county-decision/", {"decision": "approve"}
    )
    assert CorrectionRequest.objects.get().state == State.APPROVED
    assert Student.objects.get(pk=pupil.pk).name == "张春明"


def test_a_request_without_evidence_is_sent_back_with_the_reason(school):
    pupil = school["pupil"]
    response = client_as(school["registrar"]).post(
        f"/corrections/new/{pupil.pk}/", form_data(pupil, name="张春明", reason="户口簿")
    )
    assert response.status_code == 400
    assert "Attach the evidence" in response.content.decode()
    assert not CorrectionRequest.objects.exists()


def test_the_list_shows_what_waits_for_the_user(school):
    from xueji.corrections.evidence import Upload
    from xueji.corrections.services import correction_submit

    correction_submit(
        actor=school["registrar"],
        student_id=school["pupil"].pk,
        changes={"name": "张春明"},
        reason="户口簿",
        evidence=[Upload("a.pdf", PDF)],
    )
    page = client_as(school["principal"]).get("/corrections/").content.decode()
    waiting = page[page.index('id="waiting"') : page.index('id="others"')]
    assert "张春铭" in waiting
    page = client_as(school["approver"]).get("/corrections/").content.decode()
    waiting = page[page.index('id="waiting"') : page.index('id="others"')]
    assert "张春铭" not in waiting  # not yet the county's turn


def test_evidence_is_downloaded_never_shown_inline(school):
    from xueji.corrections.evidence import Upload
    from xueji.corrections.services import correction_submit

    correction = correction_submit(
        actor=school["registrar"],
        student_id=school["pupil"].pk,
        changes={"name": "张春明"},
        reason="户口簿",
        evidence=[Upload("户口簿.pdf", PDF)],
    )
    evidence = Evidence.objects.get()
    response = client_as(school["approver"]).get(
        f"/corrections/{correction.pk}/evidence/{evidence.pk}/"
    )
    assert response.status_code == 200 and response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "no-store"
    assert (
        client_as(school["teacher"])
        .get(f"/corrections/{correction.pk}/evidence/{evidence.pk}/")
        .status_code
        == 403
    )


def test_the_other_information_page_saves_and_refuses_bad_values(school):
    pupil = school["pupil"]
    client = client_as(school["registrar"])
    page = client.get(f"/students/{pupil.pk}/other-info/").content.decode()
    assert "Home address" in page and "Birth date" not in page
    data = {
        "former_name": "",
        "address": "莲花路1号",
        "phone": "not-a-phone",
        "attendance_mode": "1",
        "entry_method": "1",
        "left_behind": "0",
        "disability_type": "0",
        "attended_preschool": "on",
    }
    response = client.post(f"/students/{pupil.pk}/other-info/", data)
    assert response.status_code == 400
    assert "This is not a phone number." in response.content.decode()
    data["phone"] = "13800138000"
    response = client.post(f"/students/{pupil.pk}/other-info/", data)
    assert response.status_code == 302
    stored = Student.objects.get(pk=pupil.pk)
    assert (stored.address, stored.phone) == ("莲花路1号", "13800138000")


def test_a_refused_decision_is_told_on_the_request_s_page(school):
    pupil = school["pupil"]
    data = form_data(pupil, name="张春明", reason="户口簿上是张春明")
    data["evidence"] = [SimpleUploadedFile("hukou.pdf", PDF, content_type="application/pdf")]
    client_as(school["registrar"]).post(f"/corrections/new/{pupil.pk}/", data)
    correction = CorrectionRequest.objects.get()
    principal = client_as(school["principal"])
    url = f"/corrections/{correction.pk}/school-decision/"
    # A rejection needs its reason (a field error of the service, shown as a message).
    response = principal.post(url, {"decision": "reject", "note": ""}, follow=True)
    assert response.redirect_chain == [(f"/corrections/{correction.pk}/", 302)]
    assert "Give the reason." in response.content.decode()
    assert CorrectionRequest.objects.get().state == State.PENDING_SCHOOL
    principal.post(url, {"decision": "approve"})
    # Not the principal's step any more: refused as a whole, with the request's state.
    response = principal.post(url, {"decision": "approve"}, follow=True)
    assert "This request is not waiting for this decision" in response.content.decode()
    assert CorrectionRequest.objects.get().state == State.PENDING_COUNTY
