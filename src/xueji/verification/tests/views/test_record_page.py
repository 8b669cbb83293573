"""The record page opened from the check sheet: 无误, 报告错误 and 下一位 (the next child of the
sheet not checked yet), only for the teacher's own class while the window is open."""

import datetime

import pytest

from xueji.access.tests.fixtures import FIRST
from xueji.students.models import Student
from xueji.students.services import student_register
from xueji.students.tests.views.conftest import client_as
from xueji.testing.factories import student_data
from xueji.verification.models import CheckOutcome, StudentCheck

pytestmark = pytest.mark.django_db


def _record_url(class_id, student_id):
    return f"/verification/classes/{class_id}/students/{student_id}/"


@pytest.fixture
def three(school):
    """The teacher's class with three children: 张春铭 (the fixture's), 陈一 and 王二; the sheet
    lists them by pinyin: chen, wang, zhang."""
    for name in ("陈一", "王二"):
        student_register(
            actor=school["registrar"],
            school_class_id=school["mine"].pk,
            data=student_data(name=name),
        )
    return school


def _children(school):
    return {
        student.name: student
        for student in Student.objects.filter(placements__school_class=school["mine"])
    }


def test_the_sheet_opens_each_child_on_the_record_page_with_the_three_answers(three, today):
    today(FIRST)
    client = client_as(three["teacher"])
    mine = three["mine"].pk
    sheet = client.get(f"/verification/classes/{mine}/").content.decode()
    pupil = three["pupil"]
    assert f'href="{_record_url(mine, pupil.pk)}"' in sheet
    page = client.get(_record_url(mine, pupil.pk))
    assert page.status_code == 200
    text = page.content.decode()
    # The whole record (the record page's sections) with the check's bar on top.
    assert 'id="basic"' in text and 'id="family"' in text
    assert 'id="check-confirm"' in text and 'id="check-report"' in text
    # 张春铭 is last on the sheet: the next unchecked child goes round to the first, 陈一.
    assert "Next: 陈一" in text
    assert "(3 of 3)" in text


def test_confirming_on_the_record_page_goes_to_the_next_unchecked_child(three, today):
    today(FIRST)
    client = client_as(three["teacher"])
    mine = three["mine"].pk
    children = _children(three)
    chen, wang, zhang = children["陈一"], children["王二"], children["张春铭"]
    response = client.post(
        f"/verification/students/{chen.pk}/confirm/", {"class_id": mine, "then": "next"}
    )
    assert response.status_code == 302
    assert response["Location"] == _record_url(mine, wang.pk)
    assert StudentCheck.objects.get(student=chen).outcome == CheckOutcome.CONFIRMED
    # 下一位 skips the checked child: from 张春铭 it goes round past 陈一 to 王二.
    text = client.get(_record_url(mine, zhang.pk)).content.decode()
    assert "Next: 王二" in text and "Next: 陈一" not in text
    # A checked child's page shows what was found, and offers no answer again.
    text = client.get(_record_url(mine, chen.pk)).content.decode()
    assert 'id="check-confirm"' not in text and "Confirmed" in text


def test_a_report_from_the_record_page_without_a_note_stays_on_it_with_the_error(three, today):
    today(FIRST)
    client = client_as(three["teacher"])
    mine, pupil = three["mine"].pk, three["pupil"]
    response = client.post(
        f"/verification/students/{pupil.pk}/report/",
        {"class_id": mine, "then": "next", "note": ""},
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert 'id="check-report"' in text and '<details class="inline-details" open' in text
    assert not StudentCheck.objects.filter(student=pupil).exists()


def test_the_last_answer_returns_to_the_sheet_saying_the_class_is_done(school, today):
    today(FIRST)
    client = client_as(school["teacher"])
    mine, pupil = school["mine"].pk, school["pupil"]
    response = client.post(
        f"/verification/students/{pupil.pk}/report/",
        {"class_id": mine, "then": "next", "note": "民族应为回族"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/verification/classes/{mine}/"
    sheet = client.get(response["Location"]).content.decode()
    assert "Every child of the class is checked." in sheet


def test_only_the_teacher_s_own_class_while_the_window_is_open(school, today):
    mine, pupil, other = school["mine"].pk, school["pupil"], school["other"]
    today(FIRST)
    # A colleague's class, or a child who is not on the sheet: not found.
    assert client_as(school["colleague"]).get(_record_url(mine, pupil.pk)).status_code == 404
    assert client_as(school["teacher"]).get(_record_url(mine, other.pk)).status_code == 404
    # A registrar does not check records (class.verify is the class teacher's).
    assert client_as(school["registrar"]).get(_record_url(mine, pupil.pk)).status_code == 403
    # Before the window opens the page does not exist.
    today(FIRST - datetime.timedelta(days=30))
    assert client_as(school["teacher"]).get(_record_url(mine, pupil.pk)).status_code == 404
