"""The records export narrowed by the search page's criteria (?q=&grade=&class=, read by the
same form as the page): exactly the matching rows, a file named after them, the criteria in the
audit entry; criteria the form refuses answer 400 with its errors, never an unfiltered file, and
a class of another school cannot be asked for."""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import quote

import pytest
from python_calamine import CalamineWorkbook

from xueji.access.models import Role
from xueji.audit.models import AuditEntry
from xueji.exports.tests.conftest import class_of
from xueji.geo.models import Division
from xueji.students.models import Student
from xueji.students.services import student_register
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member, student_data
from xueji.testing.pages import client_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def pupils(school: Any, registrar: Any) -> dict[str, Student]:
    """Two 张 in class 1-1, a 张 and a 李 in class 1-2, a 王 in grade 2."""
    placed = {
        "张春铭": class_of(school, 1, 1),
        "张春雨": class_of(school, 1, 1),
        "张小明": class_of(school, 1, 2),
        "李华": class_of(school, 1, 2),
        "王芳": class_of(school, 2, 1),
    }
    return {
        name: student_register(
            actor=registrar,
            school_class_id=school_class.pk,
            data=student_data(name=name),
            age_confirmation="入学前在外地上过一年级。",
        ).student
        for name, school_class in placed.items()
    }


def _names(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][:2] == ["全国学籍号", "姓名"]
    return sorted(line[1] for line in lines[1:])


def test_the_search_criteria_choose_exactly_the_matching_rows(pupils, school, registrar):
    client = client_as(registrar)
    class_1_2 = class_of(school, 1, 2)
    assert _names(client.get("/exports/students.csv")) == sorted(pupils)
    assert _names(client.get("/exports/students.csv", {"q": "张"})) == [
        "张小明",
        "张春铭",
        "张春雨",
    ]
    assert _names(client.get("/exports/students.csv", {"q": "zc"})) == ["张春铭", "张春雨"]
    assert _names(client.get("/exports/students.csv", {"grade": 2})) == ["王芳"]
    assert _names(client.get("/exports/students.csv", {"class": class_1_2.pk})) == [
        "张小明",
        "李华",
    ]
    both = {"q": "zh", "grade": 1, "class": class_1_2.pk}
    assert _names(client.get("/exports/students.csv", both)) == ["张小明"]
    # Nothing matches: a file with the header alone, not the whole school.
    assert _names(client.get("/exports/students.csv", {"q": "zz"})) == []


def test_the_xlsx_holds_the_same_rows(pupils, school, registrar):
    response = client_as(registrar).get(
        "/exports/students.xlsx", {"class": class_of(school, 1, 1).pk}
    )
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    lines = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert sorted(line[1] for line in lines[1:]) == ["张春铭", "张春雨"]


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_full_number_exports_that_student_and_is_written_down_masked(pupils, registrar, method):
    """The search page's export buttons post the criteria (the address is the bare export's,
    with nothing of the number); a link with the criteria in its query is read alike."""
    number = pupils["李华"].reveal_id_number()
    response = getattr(client_as(registrar), method)("/exports/students.csv", {"q": number})
    assert _names(response) == ["李华"]
    disposition = response["Content-Disposition"]
    assert number not in disposition and quote(number) not in disposition
    entry = AuditEntry.objects.get(action="export")
    assert number not in str(entry.detail)
    assert entry.detail["filters"] == {"q": number[:6] + "********" + number[-4:]}


def test_posted_criteria_are_read_by_the_same_form(pupils, school, registrar):
    client = client_as(registrar)
    both = {"q": "zh", "grade": 1, "class": class_of(school, 1, 2).pk}
    assert _names(client.post("/exports/students.csv", both)) == ["张小明"]
    # A small Excel file comes at once, as for a GET.
    response = client.post("/exports/students.xlsx", {"class": class_of(school, 1, 1).pk})
    assert response.status_code == 200 and response.streaming
    data = b"".join(response.streaming_content)
    lines = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert sorted(line[1] for line in lines[1:]) == ["张春铭", "张春雨"]


def test_posted_criteria_the_form_refuses_answer_400(pupils, registrar):
    response = client_as(registrar, "en").post("/exports/students.csv", {"grade": "99"})
    assert response.status_code == 400 and not response.streaming
    assert response.content.decode().startswith("Grade: ")
    assert not AuditEntry.objects.filter(action="export").exists()


def test_a_posted_unknown_school_answers_404(pupils, registrar):
    response = client_as(registrar, "en").post("/exports/students.csv", {"school": "9999999999"})
    assert response.status_code == 404 and not response.streaming
    assert not AuditEntry.objects.filter(action="export").exists()


def test_the_file_is_named_after_the_criteria_and_the_audit_records_them(pupils, school, registrar):
    class_1_2 = class_of(school, 1, 2)
    response = client_as(registrar).get(
        "/exports/students.xlsx", {"grade": 1, "class": class_1_2.pk}
    )
    assert response.status_code == 200
    assert quote("学籍名单-一年级-2班.xlsx") in response["Content-Disposition"]
    entry = AuditEntry.objects.get(action="export")
    assert entry.detail["filters"] == {"grade": 1, "class_id": class_1_2.pk}
    assert entry.detail["rows"] == 2

    response = client_as(registrar).get("/exports/students.csv", {"q": "张"})
    assert quote("学籍名单-张.csv") in response["Content-Disposition"]


def test_the_school_and_the_criteria_together(pupils, school):
    county = member(Role.BUREAU_VIEWER, division=school.county)
    other = SchoolFactory(county=school.county)
    other_class = SchoolClassFactory(school=other, grade=2, number=1)
    student_register(
        actor=member(Role.REGISTRAR, school=other),
        school_class_id=other_class.pk,
        data=student_data(name="王小二"),
        age_confirmation="入学前在外地上过一年级。",
    )
    client = client_as(county)
    assert _names(client.get("/exports/students.csv", {"grade": 2})) == ["王小二", "王芳"]
    response = client.get("/exports/students.csv", {"grade": 2, "school": school.code})
    assert _names(response) == ["王芳"]
    assert quote(f"{school.name}-学籍名单-二年级.csv") in response["Content-Disposition"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("grade", ["99", "abc", "7"])  # 7: not a grade of this primary school
def test_an_invalid_grade_answers_400_with_the_reason_and_no_file(pupils, registrar, fmt, grade):
    response = client_as(registrar, "en").get(f"/exports/students.{fmt}", {"grade": grade})
    assert response.status_code == 400
    assert not response.streaming and not response.has_header("Content-Disposition")
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert text.startswith("Grade: ") and "valid choice" in text
    assert "张春铭" not in text
    assert not AuditEntry.objects.filter(action="export").exists()


def test_the_reason_is_in_the_readers_language(pupils, registrar):
    response = client_as(registrar).get("/exports/students.csv", {"grade": "99"})
    assert response.status_code == 400
    assert response.content.decode().startswith("年级: ")


def test_a_class_of_another_school_cannot_be_exported(pupils, school, registrar):
    other = SchoolFactory(county=school.county)
    other_class = SchoolClassFactory(school=other, grade=1, number=1)
    student_register(
        actor=member(Role.REGISTRAR, school=other),
        school_class_id=other_class.pk,
        data=student_data(name="赵敏"),
    )
    response = client_as(registrar, "en").get("/exports/students.csv", {"class": other_class.pk})
    assert response.status_code == 400
    assert not response.streaming and "赵敏" not in response.content.decode()
    assert response.content.decode().startswith("Class: ")
    assert not AuditEntry.objects.filter(action="export").exists()


def test_a_bureau_asking_for_a_class_gets_the_class_never_the_whole_area(pupils, school):
    """A bureau searches a class of its area from the class's roster (issue 20, item 16): the
    export holds that class; a class outside its area is refused, not answered with the area."""
    county = member(Role.BUREAU_VIEWER, division=school.county)
    wanted = {"class": class_of(school, 1, 1).pk}
    assert _names(client_as(county).get("/exports/students.csv", wanted)) == [
        "张春铭",
        "张春雨",
    ]
    elsewhere = member(Role.BUREAU_VIEWER, division=Division.objects.get(code="440305"))
    response = client_as(elsewhere, "en").get("/exports/students.csv", wanted)
    assert response.status_code == 400
    assert not response.streaming and "李华" not in response.content.decode()
    assert AuditEntry.objects.filter(action="export").count() == 1
