"""The windows page for bureaus and schools, and the class teacher's check sheet."""

import datetime
import re

import pytest

from xueji.access.models import Role
from xueji.access.tests.fixtures import FIRST
from xueji.geo.models import Division
from xueji.students.services import student_register
from xueji.students.tests.views.conftest import client_as
from xueji.testing.factories import member, student_data
from xueji.verification.models import StudentCheck, VerificationWindow

pytestmark = pytest.mark.django_db


def test_a_county_approver_opens_a_window_from_the_page(school):
    client = client_as(school["approver"])
    page = client.get("/verification/windows/").content.decode()
    assert "Open a window for the county" in page
    response = client.post(
        "/verification/windows/open/", {"opens_on": "2026-10-12", "closes_on": "2026-10-16"}
    )
    assert response.status_code == 302
    assert VerificationWindow.objects.filter(opens_on="2026-10-12", county_id="440304").exists()


def test_a_refused_window_is_explained_next_to_the_field(school):
    response = client_as(school["approver"]).post(
        "/verification/windows/open/", {"opens_on": "2026-10-16", "closes_on": "2026-10-12"}
    )
    assert response.status_code == 400
    assert "The last day cannot come before the first day." in response.content.decode()


def test_viewers_see_the_windows_of_their_area_without_the_form(school):
    shenzhen = member(Role.BUREAU_VIEWER, division=Division.objects.get(code="440300"))
    page = client_as(shenzhen).get("/verification/windows/").content.decode()
    assert "福田区" in page
    assert "Open a window for the county" not in page
    guangzhou = member(Role.BUREAU_VIEWER, division=Division.objects.get(code="440100"))
    page = client_as(guangzhou).get("/verification/windows/").content.decode()
    assert "福田区" not in page
    assert client_as(shenzhen).post("/verification/windows/open/", {}).status_code == 403


def test_the_registrar_sees_the_county_s_windows(school):
    page = client_as(school["registrar"]).get("/verification/windows/").content.decode()
    assert "2026-09-07" in page or "Sept. 7, 2026" in page


def test_the_approver_closes_a_window_after_a_confirmation_naming_it(school, today):
    today(FIRST)
    client = client_as(school["teacher"])
    client.post(f"/verification/students/{school['pupil'].pk}/confirm/", {})
    approver = client_as(school["approver"])
    listing = approver.get("/verification/windows/").content.decode()
    close_url = f"/verification/windows/{school['window'].pk}/close/"
    # The list links to the confirmation; it carries no form that closes at once.
    assert f'href="{close_url}"' in listing and f'action="{close_url}"' not in listing
    page = approver.get(close_url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "福田区" in text and "2026-09-07" in text and "2026-09-11" in text
    assert "1 record is still unchecked." in text  # 李小红; 张春铭 is confirmed
    assert "can no longer see their classes, confirm a record or report an error" in text
    # A POST without the confirmation closes nothing: it shows the page again.
    assert approver.post(close_url).status_code == 200
    school["window"].refresh_from_db()
    assert school["window"].closed_at is None
    response = approver.post(close_url, {"confirmed": "yes"})
    assert response.status_code == 302
    school["window"].refresh_from_db()
    assert school["window"].closed_at is not None
    # Closed: no confirmation page any more, and class teachers may not look.
    assert approver.get(close_url).status_code == 404
    assert client.get(f"/verification/classes/{school['mine'].pk}/").status_code == 404


def test_only_the_county_s_approver_may_close_its_window(school, today):
    today(FIRST)
    close_url = f"/verification/windows/{school['window'].pk}/close/"
    for user in (school["registrar"], school["teacher"]):
        assert client_as(user).get(close_url).status_code == 403
        assert client_as(user).post(close_url, {"confirmed": "yes"}).status_code == 403
    nanshan = member(Role.BUREAU_APPROVER, division=Division.objects.get(code="440305"))
    assert client_as(nanshan).get(close_url).status_code == 404
    assert client_as(nanshan).post(close_url, {"confirmed": "yes"}).status_code == 404
    school["window"].refresh_from_db()
    assert school["window"].closed_at is None


def test_the_check_sheet_confirms_and_reports(school, today):
    today(FIRST)
    client = client_as(school["teacher"])
    sheet = client.get(f"/verification/classes/{school['mine'].pk}/").content.decode()
    assert school["pupil"].name in sheet and school["other"].name not in sheet
    response = client.post(
        f"/verification/students/{school['pupil'].pk}/report/",
        {"class_id": school["mine"].pk, "note": "民族应为回族"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/verification/classes/{school['mine'].pk}/"
    check = StudentCheck.objects.get(student=school["pupil"])
    assert check.correction.report_note == "民族应为回族"
    sheet = client.get(f"/verification/classes/{school['mine'].pk}/").content.decode()
    assert "Error reported" in sheet


def test_a_report_without_a_note_is_explained(school, today):
    today(FIRST)
    client = client_as(school["teacher"])
    response = client.post(
        f"/verification/students/{school['pupil'].pk}/report/",
        {"class_id": school["mine"].pk, "note": ""},
        follow=True,
    )
    assert "Say what is wrong in the record." in response.content.decode()
    assert not StudentCheck.objects.exists()


def test_confirming_another_class_s_student_is_404(school, today):
    today(FIRST)
    response = client_as(school["teacher"]).post(
        f"/verification/students/{school['other'].pk}/confirm/"
    )
    assert response.status_code == 404
    assert not StudentCheck.objects.exists()


def _second_pupil(school):
    return student_register(
        actor=school["registrar"],
        school_class_id=school["mine"].pk,
        data=student_data(name="王一凡"),
        start_date=datetime.date(2026, 9, 1),
    ).student


def test_each_row_s_note_has_its_own_id_and_its_label_points_to_it(school, today):
    today(FIRST)
    second = _second_pupil(school)
    page = client_as(school["teacher"]).get(f"/verification/classes/{school['mine'].pk}/")
    text = page.content.decode()
    ids = re.findall(r'\sid="([^"]+)"', text)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for child in (school["pupil"], second):
        note_id = f"report-{child.pk}-note"
        assert f'id="{note_id}"' in text and f'for="{note_id}"' in text
    for target in re.findall(r'\sfor="([^"]+)"', text):
        assert target in ids


def test_correct_answers_with_the_row_alone_swapped_in_place(school, today):
    today(FIRST)
    second = _second_pupil(school)
    client = client_as(school["teacher"])
    sheet = client.get(f"/verification/classes/{school['mine'].pk}/").content.decode()
    row = f'hx-target="#student-{school["pupil"].pk}" hx-swap="outerHTML"'
    assert row in sheet
    response = client.post(
        f"/verification/students/{school['pupil'].pk}/confirm/",
        {"class_id": school["mine"].pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert text.lstrip().startswith(f'<tr id="student-{school["pupil"].pk}">')
    assert "<html" not in text and second.name not in text
    assert "Confirmed correct" in text and "confirmed correct." in text
    assert 'id="sheet-stats" hx-swap-oob="true"' in text
    assert StudentCheck.objects.get(student=school["pupil"]).outcome == "confirmed"
    # A report without a note answers in the row, the note's error beside its own field.
    response = client.post(
        f"/verification/students/{second.pk}/report/",
        {"class_id": school["mine"].pk, "note": ""},
        HTTP_HX_REQUEST="true",
    )
    text = response.content.decode()
    assert text.lstrip().startswith(f'<tr id="student-{second.pk}">')
    assert f'id="report-{second.pk}-note_error"' in text
    assert "Say what is wrong in the record." in text
    assert not StudentCheck.objects.filter(student=second).exists()
    # Another class's child is still 404 in place.
    response = client.post(
        f"/verification/students/{school['other'].pk}/confirm/",
        {"class_id": school["mine"].pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 404
