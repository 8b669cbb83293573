"""The records list and rosters as a registrar reads them: the national code lists' labels in
the interface language (男, 汉族, 居民身份证 …) instead of their codes, still masked and safe; and
`?school=` naming the school by its public 10-digit code, an unknown or foreign school answered
with a 404 that says so instead of an empty file."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from xueji.access.models import Role
from xueji.audit.models import AuditEntry
from xueji.core import codes
from xueji.geo.models import Division
from xueji.schools.models import SchoolClass
from xueji.students.models import RecordState, Student
from xueji.students.services import student_register
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member, student_data
from xueji.testing.pages import client_as

pytestmark = pytest.mark.django_db

# The registry's official column names, as a Chinese reader's file is headed.
HEADERS = [
    "全国学籍号", "姓名", "性别", "出生日期", "民族", "身份证件类型", "身份证件号",
    "学校标识码", "学校", "年级", "班级", "学籍状态",
]  # fmt: skip


def _register(registrar: Any, school_class: SchoolClass, **data: Any) -> Student:
    return student_register(
        actor=registrar, school_class_id=school_class.pk, data=student_data(**data)
    ).student


@pytest.fixture
def students(school: Any, registrar: Any) -> list[Student]:
    """A boy of the Han (01), a girl of the Zhuang (08), one suspended, all with resident IDs."""
    school_class = SchoolClass.objects.get(school=school, grade=1, number=1)
    boy = _register(registrar, school_class, name="张春铭", sex=codes.Sex.MALE, ethnicity="01")
    girl = _register(registrar, school_class, name="李华", sex=codes.Sex.FEMALE, ethnicity="08")
    Student.objects.filter(pk=girl.pk).update(state=RecordState.SUSPENDED)
    return [boy, girl]


def _xlsx(response: Any) -> list[list[Any]]:
    assert response.status_code == 200, response.content
    data = b"".join(response.streaming_content)
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.content
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def _by_name(lines: list[list[Any]]) -> dict[str, dict[str, Any]]:
    header = lines[0]
    return {line[1]: dict(zip(header, line, strict=True)) for line in lines[1:]}


def test_the_records_xlsx_holds_the_labels_of_the_code_lists_in_chinese(students, registrar):
    lines = _xlsx(client_as(registrar).get("/exports/students.xlsx"))
    assert lines[0] == HEADERS
    rows = _by_name(lines)
    boy, girl = rows["张春铭"], rows["李华"]
    assert (boy["性别"], boy["民族"], boy["身份证件类型"], boy["学籍状态"]) == (
        "男",
        "汉族",
        "居民身份证",
        "在籍",
    )
    assert (girl["性别"], girl["民族"], girl["学籍状态"]) == ("女", "壮族", "休学")
    assert boy["年级"] == "一年级"
    # Still masked by default.
    assert "********" in boy["全国学籍号"] and "********" in boy["身份证件号"]
    assert students[0].reveal_id_number() not in {str(v) for v in boy.values()}


def test_the_labels_and_headers_follow_the_interface_language(students, registrar):
    response = client_as(registrar, "en").get("/exports/students.csv")
    assert "Student%20records.csv" in response["Content-Disposition"]
    lines = _csv(response)
    assert lines[0][:3] == ["Student number", "Name", "Sex"]
    boy = _by_name(lines)["张春铭"]
    assert (boy["Sex"], boy["Identity document type"], boy["Record state"]) == (
        "Male",
        "Resident ID card",
        "Enrolled",
    )
    assert boy["Ethnicity"] == "汉族"  # GB 3304 names have no other language


def test_a_roster_export_holds_labels_too(students, school, registrar):
    school_class = SchoolClass.objects.get(school=school, grade=1, number=1)
    lines = _csv(client_as(registrar).get(f"/exports/classes/{school_class.pk}/roster.csv"))
    rows = _by_name(lines)
    assert rows["张春铭"]["性别"] == "男" and rows["李华"]["民族"] == "壮族"
    assert not {"1", "2", "01", "08", "enrolled", "suspended"} & {
        rows[name][key] for name in rows for key in ("性别", "民族", "学籍状态", "身份证件类型")
    }


def test_a_code_outside_its_list_is_written_as_it_is(students, registrar):
    Student.objects.filter(pk=students[0].pk).update(ethnicity="77")
    rows = _by_name(_csv(client_as(registrar).get("/exports/students.csv")))
    assert rows["张春铭"]["民族"] == "77"


def _two_schools(school: Any, registrar: Any) -> tuple[Any, Any]:
    """A second school in the same county with one student, and its registrar's class."""
    other = SchoolFactory(name="福田第二小学", county=school.county)
    other_class = SchoolClassFactory(school=other, grade=1, number=1)
    other_registrar = member(Role.REGISTRAR, school=other)
    _register(other_registrar, other_class, name="王芳")
    return other, other_registrar


def test_the_school_is_chosen_by_its_public_code(students, school, registrar):
    other, _other_registrar = _two_schools(school, registrar)
    county = member(Role.BUREAU_VIEWER, division=school.county)
    everything = _csv(client_as(county).get("/exports/students.csv"))
    assert len(everything) == 4
    by_code = _csv(client_as(county).get("/exports/students.csv", {"school": school.code}))
    assert len(school.code) == 10
    assert sorted(line[1] for line in by_code[1:]) == ["张春铭", "李华"]
    assert {line[7] for line in by_code[1:]} == {school.code}
    other_by_code = _xlsx(client_as(county).get("/exports/students.xlsx", {"school": other.code}))
    assert [line[1] for line in other_by_code[1:]] == ["王芳"]
    # Links written with the internal id keep working.
    by_id = _csv(client_as(county).get("/exports/students.csv", {"school": str(other.pk)}))
    assert [line[1] for line in by_id[1:]] == ["王芳"]


def test_the_file_is_named_after_the_school(students, school, registrar):
    county = member(Role.BUREAU_VIEWER, division=school.county)
    response = client_as(county).get("/exports/students.xlsx", {"school": school.code})
    assert response.status_code == 200
    from urllib.parse import quote

    assert quote(f"{school.name}-学籍名单") in response["Content-Disposition"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_unknown_school_answers_404_with_the_reason_not_an_empty_file(students, registrar, fmt):
    for wanted in ("2144999999", "999999", "no-such-school"):
        response = client_as(registrar, "en").get(f"/exports/students.{fmt}", {"school": wanted})
        assert response.status_code == 404
        assert not response.streaming and not response.has_header("Content-Disposition")
        text = response.content.decode()
        assert "There is no school with the code" in text and wanted in text
    assert not AuditEntry.objects.filter(action="export").exists()


def test_a_school_outside_the_area_answers_404_like_an_unknown_one(students, school, registrar):
    nanshan_school = SchoolFactory(name="南山海滨小学", county=Division.objects.get(code="440305"))
    assert nanshan_school.county_id != school.county_id
    county = member(Role.BUREAU_VIEWER, division=school.county)
    for user, wanted in (
        (county, nanshan_school.code),
        (county, str(nanshan_school.pk)),
        (registrar, _two_schools(school, registrar)[0].code),  # a neighbour school
    ):
        response = client_as(user, "en").get("/exports/students.csv", {"school": wanted})
        assert response.status_code == 404
        assert "There is no school with the code" in response.content.decode()
    assert not AuditEntry.objects.filter(action="export").exists()


def test_a_role_without_the_export_permission_gets_403(students, school):
    teacher = member(Role.CLASS_TEACHER, school=school)
    assert client_as(teacher).get("/exports/students.csv").status_code == 403
    response = client_as(teacher).get("/exports/students.xlsx", {"school": school.code})
    assert response.status_code == 403
    school_class = SchoolClass.objects.get(school=school, grade=1, number=1)
    assert (
        client_as(teacher).get(f"/exports/classes/{school_class.pk}/roster.csv").status_code == 403
    )
