"""The import pages: upload, progress (htmx), errors, the report; the county sees its schools'."""

import io
from urllib.parse import quote

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from xueji.access.models import Role
from xueji.imports.models import ImportJob, JobState
from xueji.imports.tests.sheets import row_of, xlsx_bytes
from xueji.testing.factories import SchoolFactory, member
from xueji.testing.pages import client_as

pytestmark = pytest.mark.django_db


def test_upload_runs_the_import_and_shows_it(registrar, school):
    client = client_as(registrar)
    page = client.get("/imports/")
    assert page.status_code == 200 and 'name="file"' in page.content.decode()
    upload = SimpleUploadedFile("新生.xlsx", xlsx_bytes([row_of()]))
    response = client.post("/imports/upload/", {"purpose": "students", "file": upload})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/"
    assert job.state == JobState.IMPORTED
    detail = client.get(f"/imports/{job.pk}/").content.decode()
    assert "新生.xlsx" in detail and "1" in detail


def test_errors_are_listed_with_row_column_value_and_reason(registrar, school):
    client = client_as(registrar)
    upload = SimpleUploadedFile("bad.xlsx", xlsx_bytes([row_of(), row_of(name="张3")]))
    client.post("/imports/upload/", {"purpose": "students", "file": upload})
    job = ImportJob.objects.get()
    html = client.get(f"/imports/{job.pk}/").content.decode()
    assert "张3" in html and "姓名" in html and "姓名不能包含数字或符号" in html
    assert f"/imports/{job.pk}/report.xlsx" in html
    report = client.get(f"/imports/{job.pk}/report.xlsx")
    assert report.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(report.streaming_content)))
    assert book.worksheets[0].cell(3, 3).comment is not None  # 姓名 of the second row


def test_the_progress_part_polls_while_running_and_stops_when_done(registrar, school):
    job = ImportJob.objects.create(
        school=school, purpose="students", sha256="a" * 64, filename="x.csv", kind="csv:utf-8-sig",
        created_by=registrar, rows_total=200, rows_done=50, state=JobState.RUNNING,
    )  # fmt: skip
    client = client_as(registrar)
    part = client.get(f"/imports/{job.pk}/progress/", headers={"HX-Request": "true"})
    html = part.content.decode()
    assert 'hx-trigger="every 1s"' in html and 'value="25"' in html
    job.state = JobState.INVALID
    job.save()
    done = client.get(f"/imports/{job.pk}/progress/", headers={"HX-Request": "true"})
    assert "hx-trigger" not in done.content.decode() and done["HX-Refresh"] == "true"


def test_the_county_sees_the_imports_of_its_schools_and_no_others(registrar, school, upload):
    job = upload(xlsx_bytes([row_of()]))
    county = member(Role.BUREAU_VIEWER, division=school.county)
    other = member(Role.BUREAU_VIEWER, division=SchoolFactory(county_id="440305").county)
    assert job.filename in client_as(county).get("/imports/").content.decode()
    assert client_as(county).get(f"/imports/{job.pk}/").status_code == 200
    assert client_as(other).get(f"/imports/{job.pk}/").status_code == 404
    assert job.filename not in client_as(other).get("/imports/").content.decode()
    # The county sees; it does not import.
    assert client_as(county).post("/imports/upload/", {}).status_code == 403


def test_a_refused_file_is_reported_on_the_page(registrar, school):
    client = client_as(registrar)
    upload = SimpleUploadedFile("x.xlsx", b"MZ\x90\x00\x03\x00\x00\x00")
    response = client.post("/imports/upload/", {"purpose": "students", "file": upload}, follow=True)
    assert "Excel" in response.content.decode() or "CSV" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_text_file_named_xlsx_is_refused_on_the_page_saying_so(registrar, school):
    from django.conf import settings

    from xueji.imports.tests.sheets import csv_bytes

    client = client_as(registrar)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    upload = SimpleUploadedFile("新生.xlsx", csv_bytes([row_of()]))
    response = client.post("/imports/upload/", {"purpose": "students", "file": upload}, follow=True)
    page = response.content.decode()
    assert "name says Excel (.xlsx), but its content is a text (CSV) file" in page
    assert not ImportJob.objects.exists()


def test_templates_download(registrar, school):
    for purpose in ("students", "updates"):  # intake: a junior or senior high school's (below)
        response = client_as(registrar).get(f"/imports/templates/{purpose}.xlsx")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")


@pytest.mark.parametrize("uploaded_in", ["zh-hans", "en"])
def test_the_files_message_reads_in_each_readers_language(registrar, school, uploaded_in):
    """The summary and the refusals are kept in both languages: whoever uploaded in whichever
    language, a Chinese reader reads Chinese and an English reader English."""
    from django.conf import settings

    client = client_as(registrar)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = uploaded_in
    upload = SimpleUploadedFile("bad.xlsx", xlsx_bytes([row_of(), row_of(name="张3")]))
    client.post("/imports/upload/", {"purpose": "students", "file": upload})
    job = ImportJob.objects.get()
    assert job.state == JobState.INVALID
    shown = {}
    for language in ("zh-hans", "en"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        shown[language] = client.get(f"/imports/{job.pk}/").content.decode()
    assert "在 2 行中发现 1 处问题" in shown["zh-hans"]
    assert "1 problems found in 2 rows" in shown["en"]
    assert "problems found" not in shown["zh-hans"] and "处问题" not in shown["en"]
    api = client.get(f"/api/imports/{job.pk}", HTTP_ACCEPT_LANGUAGE="en")
    assert "problems found" in api.json()["message"]


def test_the_imports_list_heads_its_file_column_as_a_file(registrar, school, upload):
    """ "File" is also a verb of the changes app (提交申请): the list's header has its own."""
    upload(xlsx_bytes([row_of()]))
    html = client_as(registrar).get("/imports/").content.decode()
    assert "<th>文件</th>" in html and "提交申请" not in html


def test_a_queued_import_says_it_waits_rather_than_zero_of_zero_rows(registrar, school):
    job = ImportJob.objects.create(
        school=school, purpose="students", sha256="b" * 64, filename="x.csv", kind="csv:utf-8-sig",
        created_by=registrar, state=JobState.QUEUED,
    )  # fmt: skip
    html = client_as(registrar).get(f"/imports/{job.pk}/progress/").content.decode()
    assert "排队等候中" in html and "0 / 0" not in html and "已检查 0" not in html


def test_the_file_picker_takes_every_kind_the_import_reads(registrar, school):
    html = client_as(registrar).get("/imports/").content.decode()
    assert 'accept=".xlsx,.xls,.ods,.csv"' in html and ".ods" in html


def test_only_a_school_that_admits_graduates_is_offered_intake_lists(registrar, school):
    """A primary school's first grade takes no graduates: it is not offered the intake list,
    its template or its import; a junior high school is."""
    import io as _io

    from xueji.core.errors import ServiceError
    from xueji.imports.services import import_job_create
    from xueji.schools.models import SchoolKind

    primary = client_as(registrar)
    html = primary.get("/imports/").content.decode()
    assert 'value="intake"' not in html and "/imports/templates/intake" not in html
    refusal = primary.get("/imports/templates/intake.xlsx", follow=True)
    assert "录取名单用于初中、高中" in refusal.content.decode()
    with pytest.raises(ServiceError) as refused:
        import_job_create(
            actor=registrar, purpose="intake", upload=_io.BytesIO(b"x"), filename="i.csv", size=1
        )
    assert refused.value.code == "not_an_entry_school"
    junior = client_as(member(Role.REGISTRAR, school=SchoolFactory(kind=SchoolKind.JUNIOR)))
    html = junior.get("/imports/").content.decode()
    assert 'value="intake"' in html
    assert junior.get("/imports/templates/intake.xlsx").status_code == 200


def test_the_upload_is_the_pages_main_button_under_its_two_fields(registrar, school):
    html = client_as(registrar).get("/imports/").content.decode()
    form = html[html.index('id="upload"') :]
    form = form[: form.index("</form>")]
    assert '<button type="submit" class="primary">' in form  # not the browser's grey button
    assert form.count('<div class="field">') == 2  # kind and file, each with its label above


def test_a_template_downloads_under_a_name_in_the_registrars_words(registrar, school):
    # In the reader's language (导入模板-新生及家庭成员.xlsx in Chinese), with the former name
    # as the ASCII fallback.
    client = client_as(registrar)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/imports/templates/students.xlsx")
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert 'filename="xueji-students-template.xlsx"' in disposition
    name = "Import template - New students with their families.xlsx"
    assert f"filename*=UTF-8''{quote(name)}" in disposition
