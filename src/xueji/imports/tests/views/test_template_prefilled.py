"""The updates template pre-filled with a class's students: full student numbers for the roles
that may reveal them, recorded; one query for the students; edited and uploaded, it changes
exactly what was edited."""

import io
from urllib.parse import quote

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.translation import gettext

from xueji.access.models import Role
from xueji.access.policy import MATRIX, Action
from xueji.audit.models import AuditEntry
from xueji.imports import columns as cols
from xueji.imports.models import ImportJob, JobState
from xueji.imports.services import import_job_create, import_template_prefill
from xueji.imports.tests.sheets import row_of, xlsx_bytes
from xueji.imports.workbooks import HELP_SHEET, LISTS_SHEET, template_xlsx
from xueji.schools.models import SchoolClass
from xueji.students.models import EventKind, RecordEvent, Student
from xueji.testing.factories import SchoolClassFactory, SchoolFactory, member, student_data
from xueji.testing.pages import client_as

pytestmark = pytest.mark.django_db

URL = "/imports/templates/updates-prefilled.xlsx"
HEADER = [f.header + ("*" if f.required else "") for f in cols.fields_of(cols.UPDATES)]


@pytest.fixture
def students(upload, school):  # type: ignore[no-untyped-def]
    rows = [
        row_of(student_data(name="张春铭"), class_number=1),
        row_of(student_data(name="李华"), class_number=1),
        row_of(student_data(name="王芳"), class_number=2),
    ]
    assert upload(xlsx_bytes(rows)).state == JobState.IMPORTED
    # What a registrar typed long ago and Excel would take for a formula.
    Student.objects.filter(name="李华").update(address="-3号楼", attendance_mode="2")
    return {s.name: s for s in Student.objects.filter(school=school)}


@pytest.fixture
def class_1_1(school):  # type: ignore[no-untyped-def]
    return SchoolClass.objects.get(school=school, grade=1, number=1)


def _book(response) -> openpyxl.Workbook:  # type: ignore[no-untyped-def]
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def _rows(book: openpyxl.Workbook) -> list[dict[str, object]]:
    data = book.worksheets[0]
    keys = [f.key for f in cols.fields_of(cols.UPDATES)]
    return [
        dict(zip(keys, row, strict=False))
        for row in data.iter_rows(min_row=2, values_only=True)
        if any(row)
    ]


def _upload_updates(actor, content: bytes):  # type: ignore[no-untyped-def]
    return import_job_create(
        actor=actor, purpose="updates", upload=io.BytesIO(content), filename="u.xlsx",
        size=len(content),
    )  # fmt: skip


def test_a_class_comes_with_its_students_numbers_in_full_and_is_recorded(
    registrar, students, class_1_1
):
    response = client_as(registrar).get(URL, {"class_id": class_1_1.pk})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    disposition = response["Content-Disposition"]
    assert quote("非基础信息更新-一年级1班.xlsx") in disposition
    assert f'filename="xueji-updates-{class_1_1.school.code}-class-{class_1_1.pk}.xlsx"' in (
        disposition
    )
    book = _book(response)
    assert [c.value for c in book.worksheets[0][1]] == HEADER
    rows = {row["name"]: row for row in _rows(book)}
    assert set(rows) == {"张春铭", "李华"}  # 王芳 sits in 2班
    a, b = students["张春铭"], students["李华"]
    assert rows["张春铭"]["student_number"] == a.reveal_student_number()
    assert rows["李华"]["student_number"] == b.reveal_student_number()
    assert "*" not in str(rows["张春铭"]["student_number"])
    assert (rows["张春铭"]["attendance_mode"], rows["李华"]["attendance_mode"]) == (
        "1 走读",
        "2 住校",
    )
    assert rows["张春铭"]["only_child"] in ("是", "否")
    assert rows["张春铭"]["disability_type"] == "0 无"
    assert rows["李华"]["address"] == "-3号楼"
    data = book.worksheets[0]
    quoted = [c for c in data["D"][1:] if c.value == "-3号楼"]
    assert quoted and quoted[0].quotePrefix and quoted[0].number_format == "@"
    assert all(c.number_format == "@" for c in data["A"][1:3])  # typed over, stays text
    help_text = "\n".join(str(c.value) for c in book[HELP_SHEET]["A"] if c.value)
    assert "一年级1班" in help_text and "不含任何身份证件号码" in help_text
    entry = AuditEntry.objects.get(action="import.template_prefill")
    assert entry.actor_id == registrar.pk
    assert entry.detail["class"] == class_1_1.pk and entry.detail["rows"] == 2
    assert entry.detail["class_name"] == "一年级1班" and entry.detail["revealed"] is True


def test_it_is_the_blank_template_with_rows(registrar, students, class_1_1):
    book = _book(client_as(registrar).get(URL, {"class_id": class_1_1.pk}))
    blank = openpyxl.load_workbook(io.BytesIO(template_xlsx(cols.UPDATES)))
    assert book.sheetnames == blank.sheetnames and book[LISTS_SHEET].sheet_state == "hidden"

    def drop_downs(workbook: openpyxl.Workbook) -> list[tuple[str, object]]:
        validations = workbook.worksheets[0].data_validations.dataValidation
        return sorted((str(v.sqref), v.formula1) for v in validations)

    assert drop_downs(book) == drop_downs(blank)
    lists = [[c.value for c in column] for column in book[LISTS_SHEET].iter_cols()]
    assert lists == [[c.value for c in column] for column in blank[LISTS_SHEET].iter_cols()]
    formats = {k: d.number_format for k, d in book.worksheets[0].column_dimensions.items()}
    blank_formats = {k: d.number_format for k, d in blank.worksheets[0].column_dimensions.items()}
    assert formats == blank_formats and formats["A"] == "@"


def test_the_whole_school_in_grade_and_class_order(registrar, students, school):
    response = client_as(registrar).get(URL, {"class_id": ""})
    assert response.status_code == 200
    assert quote(f"非基础信息更新-{school.name}.xlsx") in response["Content-Disposition"]
    names = [row["name"] for row in _rows(_book(response))]
    assert len(names) == 3 and names[-1] == "王芳"
    assert AuditEntry.objects.get(action="import.template_prefill").detail["class"] is None


def test_an_edited_cell_changes_that_student_only(registrar, students, class_1_1):
    client = client_as(registrar)
    book = _book(client.get(URL, {"class_id": class_1_1.pk}))
    data = book.worksheets[0]
    phone = [f.key for f in cols.fields_of(cols.UPDATES)].index("phone") + 1
    row = next(r for r in range(2, data.max_row + 1) if data.cell(r, 2).value == "张春铭")
    data.cell(row, phone).value = "13912345678"
    out = io.BytesIO()
    book.save(out)
    upload = SimpleUploadedFile("一年级1班.xlsx", out.getvalue())
    response = client.post("/imports/upload/", {"purpose": "updates", "file": upload})
    job = ImportJob.objects.get(purpose="updates")
    assert response.status_code == 302
    assert job.state == JobState.IMPORTED, job.errors
    assert (job.rows_total, job.rows_written, job.rows_unchanged) == (2, 1, 1)
    before = {name: s for name, s in students.items()}
    for student in Student.objects.filter(pk__in=[s.pk for s in before.values()]):
        old = before[student.name]
        if student.name == "张春铭":
            assert student.phone == "13912345678"
        else:
            assert student.phone == old.phone
        for field in ("address", "attendance_mode", "only_child", "disability_type"):
            assert getattr(student, field) == getattr(old, field)
    events = RecordEvent.objects.filter(kind=EventKind.INFO_UPDATED)
    assert [(e.student.name, e.detail["fields"]) for e in events] == [("张春铭", ["phone"])]


def test_uploaded_as_downloaded_it_changes_nothing(registrar, students, school):
    # As XlsxWriter wrote it (inline strings, quote-prefixed text), not saved again by Excel.
    content = b"".join(client_as(registrar).get(URL).streaming_content)
    job = _upload_updates(registrar, content)
    assert job.state == JobState.IMPORTED, job.errors
    assert (job.rows_total, job.rows_written, job.rows_unchanged) == (3, 0, 3)
    assert Student.objects.get(name="李华").address == "-3号楼"


def test_the_students_are_read_by_one_query(registrar, students, school, class_1_1):
    def queries(class_id: int | None) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            import_template_prefill(actor=registrar, class_id=class_id, out=io.BytesIO())
        return [q["sql"] for q in captured.captured_queries]

    one_class = SchoolClass.objects.get(school=school, grade=1, number=2)
    small, large, whole = queries(one_class.pk), queries(class_1_1.pk), queries(None)
    reading = [sql for sql in large if 'FROM "students_student"' in sql]
    assert len(reading) == 1 and "students_placement" in reading[0]
    # 1, 2 and 3 students: the same queries, none per student.
    assert len(small) == len(large) == len(whole) + 1  # the whole school looks up no class


def test_only_roles_that_may_reveal_get_it(registrar, students, school, class_1_1, monkeypatch):
    assert 'id="prefill"' in client_as(registrar).get("/imports/").content.decode()
    county = member(Role.BUREAU_APPROVER, division=school.county)  # reveals, does not import
    principal = member(Role.PRINCIPAL, school=school)
    for user in (county, principal):
        assert client_as(user).get(URL, {"class_id": class_1_1.pk}).status_code == 403
        assert 'id="prefill"' not in client_as(user).get("/imports/").content.decode()
    monkeypatch.delitem(MATRIX[Role.REGISTRAR], Action.STUDENT_REVEAL_ID)
    page = client_as(registrar).get("/imports/").content.decode()
    assert 'id="prefill"' not in page and 'name="file"' in page  # still imports
    assert client_as(registrar).get(URL, {"class_id": class_1_1.pk}).status_code == 403
    assert client_as(registrar).get(URL).status_code == 403
    assert not AuditEntry.objects.filter(action="import.template_prefill").exists()


def test_a_class_of_another_school_is_not_found(registrar, students):
    elsewhere = SchoolClassFactory(school=SchoolFactory(), grade=1, number=1)
    assert client_as(registrar).get(URL, {"class_id": elsewhere.pk}).status_code == 404
    assert client_as(registrar).get(URL, {"class_id": 999_999}).status_code == 404
    assert not AuditEntry.objects.filter(action="import.template_prefill").exists()


def test_a_class_that_is_no_number_is_refused_naming_the_field(registrar, students):
    response = client_as(registrar).get(URL, {"class_id": "一班"})
    assert response.status_code == 400 and response.content.decode().startswith("班级:")
    response = client_as(registrar, "en").get(URL, {"class_id": "x"})
    assert response.content.decode() == "Class: Enter a whole number."


def test_the_error_report_is_named_in_the_readers_language(registrar, school):
    client = client_as(registrar, "en")
    bad = SimpleUploadedFile("新生.xlsx", xlsx_bytes([row_of(name="张3")]))
    client.post("/imports/upload/", {"purpose": "students", "file": bad})
    job = ImportJob.objects.get()
    disposition = client.get(f"/imports/{job.pk}/report.xlsx")["Content-Disposition"]
    assert quote("新生-errors.xlsx") in disposition
    assert f'filename="import-{job.pk}-errors.xlsx"' in disposition  # ASCII for old clients
    ascii_bad = SimpleUploadedFile("pupils.xlsx", xlsx_bytes([row_of(name="张4")]))
    client.post("/imports/upload/", {"purpose": "students", "file": ascii_bad})
    other = ImportJob.objects.exclude(pk=job.pk).get()
    disposition = client_as(registrar).get(f"/imports/{other.pk}/report.xlsx")[
        "Content-Disposition"
    ]
    assert 'filename="pupils-errors.xlsx"' in disposition
    # In Chinese, "%(name)s-errors" as the catalogue translates it (pupils-错误标注.xlsx).
    with translation.override("zh-hans"):
        expected = gettext("%(name)s-errors") % {"name": "pupils"}
    assert f"''{quote(expected + '.xlsx')}" in disposition
