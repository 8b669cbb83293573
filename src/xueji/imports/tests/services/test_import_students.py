import datetime

import pytest

from xueji.audit.models import AuditEntry
from xueji.core import codes
from xueji.imports import columns as cols
from xueji.imports.models import JobState
from xueji.imports.tests.sheets import csv_bytes, row_of, xls_bytes, xlsx_bytes
from xueji.students.models import EventKind, FamilyMember, Placement, RecordEvent, Student
from xueji.testing.factories import resident_id, student_data

pytestmark = pytest.mark.django_db

NAMES = [f"张{a}{b}" for a in "春夏秋冬梅兰竹菊松柏" for b in "明亮华伟强军平刚"]


def test_a_valid_file_registers_every_student_with_family_placement_and_event(upload, school):
    rows = [row_of(student_data(name=NAMES[n]), class_number=1 + n % 2) for n in range(5)]
    job = upload(xlsx_bytes(rows))
    assert job.state == JobState.IMPORTED, (job.message, job.errors)
    assert job.rows_written == 5
    students = Student.objects.filter(school=school)
    assert students.count() == 5
    assert FamilyMember.objects.filter(student__school=school).count() == 10
    assert Placement.objects.filter(school=school, end_date__isnull=True).count() == 5
    assert (
        RecordEvent.objects.filter(kind=EventKind.REGISTERED, student__school=school).count() == 5
    )
    student = students.get(name=NAMES[0])
    assert student.number_kind == "G"
    assert student.number_masked.startswith("G440304")
    entry = AuditEntry.objects.get(action="import.students")
    assert entry.detail["written"] == 5 and entry.detail["sha256"] == job.sha256


def test_a_child_without_a_document_gets_a_j_number(upload, school):
    data = student_data(id_doc_type=codes.IdDocType.NONE, id_number="")
    job = upload(xlsx_bytes([row_of(data)]))
    assert job.state == JobState.IMPORTED, job.errors
    assert Student.objects.get(school=school).number_kind == "J"


def test_gbk_csv_imports_correctly(upload, school):
    rows = [row_of(student_data(name="欧阳翀", address="深圳市南山区粤海街道")) for _ in range(1)]
    job = upload(csv_bytes(rows, encoding="gbk"), filename="students.csv")
    assert job.kind == "csv:gb18030"
    assert job.state == JobState.IMPORTED, job.errors
    student = Student.objects.get(school=school)
    assert student.name == "欧阳翀" and student.address == "深圳市南山区粤海街道"


def test_an_excel_97_2003_xls_imports_correctly(upload, school):
    """A real BIFF8 .xls (numbers as numbers, Chinese text) is read with python-calamine."""
    rows = [row_of(student_data(name=NAMES[n]), class_number=1 + n % 2) for n in range(3)]
    rows.append(row_of(student_data(name=NAMES[3], phone="bad phone")))
    refused = upload(xls_bytes(rows), filename="students.xls")
    assert refused.kind == "xls"
    assert refused.state == JobState.INVALID
    assert [(error[0], error[3]) for error in refused.errors] == [(5, "invalid_phone")]
    job = upload(xls_bytes(rows[:3]), filename="students.xls")
    assert job.state == JobState.IMPORTED, (job.message, job.errors)
    assert set(Student.objects.filter(school=school).values_list("name", flat=True)) == set(
        NAMES[:3]
    )


def test_utf8_csv_imports_correctly(upload, school):
    job = upload(csv_bytes([row_of()]), filename="students.csv")
    assert job.kind == "csv:utf-8-sig"
    assert job.state == JobState.IMPORTED, job.errors


def test_one_bad_row_writes_nothing_and_names_the_cell(upload, school):
    rows = [row_of(student_data(name=NAMES[n])) for n in range(20)]
    rows[13] = row_of(student_data(sex=codes.Sex.FEMALE, id_number=resident_id(male=True)))
    job = upload(xlsx_bytes(rows))
    assert job.state == JobState.INVALID
    assert job.rows_written == 0
    assert Student.objects.filter(school=school).count() == 0
    assert RecordEvent.objects.count() == 0
    row, column, _value, code, zh, en = job.errors[0]
    assert row == 15 and job.header[column].startswith("身份证件号")
    assert code and zh and en and zh != en


def test_the_same_file_twice_is_written_once(upload, school, registrar):
    content = xlsx_bytes([row_of()])
    first = upload(content)
    second = upload(content)
    assert first.state == JobState.IMPORTED
    assert second.state == JobState.DUPLICATE
    assert registrar.username in second.message
    assert Student.objects.filter(school=school).count() == 1


def test_duplicates_within_the_file_and_against_the_registry(upload, school):
    data = student_data()
    job = upload(xlsx_bytes([row_of(data)]))
    assert job.state == JobState.IMPORTED
    again = student_data(name="李四")
    rows = [
        row_of(again),
        row_of(student_data(name="李四", id_number=again.id_number)),
        row_of(data),
    ]
    job = upload(xlsx_bytes(rows))
    assert job.state == JobState.INVALID
    codes_by_row = {error[0]: error[3] for error in job.errors}
    assert codes_by_row == {3: "duplicate_in_file", 4: "id_number_registered"}


@pytest.mark.parametrize("make", [xlsx_bytes, csv_bytes], ids=["xlsx", "csv"])
def test_duplicates_are_reported_with_the_rows_other_errors(upload, school, make):
    """All the file's errors at once: a row with another error still has its ID number checked
    against the file and the registry, so the registrar does not find a duplicate only after
    fixing everything else."""
    registered = student_data(name="王五")
    assert upload(xlsx_bytes([row_of(registered)])).state == JobState.IMPORTED
    twice = student_data(name="李四")
    rows = [
        row_of(twice, phone="bad phone"),
        row_of(student_data(name="张三")),
        row_of(student_data(name="李四", id_number=twice.id_number)),
        row_of(registered, phone="bad phone"),
    ]
    job = upload(make(rows), filename="s." + ("xlsx" if make is xlsx_bytes else "csv"))
    assert job.state == JobState.INVALID
    assert sorted((error[0], error[3]) for error in job.errors) == [
        (2, "invalid_phone"),
        (4, "duplicate_in_file"),
        (5, "id_number_registered"),
        (5, "invalid_phone"),
    ]
    assert Student.objects.filter(school=school).count() == 1


def test_age_unusual_for_the_grade_needs_a_reason_in_its_column(upload, school):
    older = datetime.date(2016, 3, 5)
    data = student_data(birth_date=older, id_number=resident_id(birth_date=older))
    job = upload(xlsx_bytes([row_of(data)]))
    assert [e[3] for e in job.errors] == ["age_unusual_for_grade"]
    data = student_data(birth_date=older, id_number=resident_id(birth_date=older))
    job = upload(xlsx_bytes([row_of(data, age_confirmation="随父母返乡，延迟入学")]))
    assert job.state == JobState.IMPORTED, job.errors


@pytest.mark.parametrize("make", [xlsx_bytes, csv_bytes], ids=["xlsx", "csv"])
def test_blank_optional_cells_take_the_forms_defaults(upload, school, make):
    """A registrar leaves the columns not marked * blank: the child gets what the registration
    form would give (not an error on every row)."""
    optional = {
        f.key: ""
        for f in cols.fields_of(cols.STUDENTS)
        if not f.required and "." not in f.key and f.kind in (cols.CODE, cols.BOOL)
    }
    assert {"left_behind", "disability_type", "attended_preschool"} <= set(optional)
    job = upload(
        make([row_of(student_data(name=NAMES[0]), **optional)]),
        filename="s." + ("xlsx" if make is xlsx_bytes else "csv"),
    )
    assert job.state == JobState.IMPORTED, job.errors
    student = Student.objects.get(school=school)
    assert student.left_behind == codes.LeftBehind.NO
    assert student.disability_type == codes.DisabilityType.NONE
    assert student.attended_preschool is True


def test_a_blank_required_code_is_reported_as_required(upload, school):
    job = upload(xlsx_bytes([row_of(student_data(name=NAMES[0]), ethnicity="")]))
    assert job.state == JobState.INVALID
    assert [(error[0], error[3]) for error in job.errors] == [(2, "required")]
    assert Student.objects.filter(school=school).count() == 0


def test_errors_are_listed_in_the_sheets_order(upload, school):
    """By row, and within a row from left to right, as a registrar reads the sheet."""
    rows = [
        row_of(student_data(name="张三")),
        row_of(student_data(name="李4"), phone="bad phone", birth_date="2019-02-30"),
        row_of(student_data(name="王5")),
    ]
    job = upload(xlsx_bytes(rows))
    assert job.state == JobState.INVALID
    places = [(error[0], error[1]) for error in job.errors]
    assert places == sorted(places) and len({row for row, _column in places}) == 2
    assert len([row for row, _column in places if row == 3]) >= 3


def test_grade_and_class_are_read_as_a_registrar_types_them(upload, school):
    rows = [
        row_of(student_data(name=NAMES[0]), grade="一年级", class_number="2班"),
        row_of(student_data(name=NAMES[1]), grade="1年级", class_number="1 班"),
    ]
    job = upload(xlsx_bytes(rows))
    assert job.state == JobState.IMPORTED, job.errors
    placed = Placement.objects.filter(school=school).order_by("school_class__number")
    assert [p.school_class.number for p in placed] == [1, 2]


def test_a_code_not_in_the_list_is_answered_with_the_entry_it_likely_means(upload, school):
    job = upload(xlsx_bytes([row_of(student_data(name=NAMES[0]), ethnicity="汉")]))
    assert job.state == JobState.INVALID
    [error] = job.errors
    assert error[3] == "invalid_choice"
    assert "“01 汉族”" in error[4] and "drop-down" in error[5]
