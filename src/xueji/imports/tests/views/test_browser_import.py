"""An import end to end in a real headless Chromium (xueji.testing.browser), with the database
task queue and its worker as in production: the registrar uploads a file, the page waits for
the worker and follows its progress by htmx polling, the records appear; a file with a mistyped
ID number writes nothing, lists the error with its row and column and gives the marked copy;
the county sees both imports of its school."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import translation

from xueji.access.models import Role
from xueji.imports.models import ImportJob, JobState
from xueji.imports.tests.sheets import header, row_of, xlsx_bytes
from xueji.imports.workbooks import BAD_FILL
from xueji.students.models import Student
from xueji.testing.browser import chromium_context, sign_in_session
from xueji.testing.factories import member, student_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def browser(live_server: Any, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[Any]:
    # The queue production uses (the imports' conftest runs jobs at once instead).
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with chromium_context(monkeypatch, locale="zh-CN") as context:
        yield context


def run_the_worker() -> None:
    """What `xueji db_worker` does in production, until the queue is empty."""
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)


def state_label(state: JobState) -> str:
    with translation.override("zh-hans"):
        return str(state.label)


def upload(page: Any, live_server: Any, name: str, content: bytes) -> None:
    page.goto(f"{live_server.url}/imports/")
    page.select_option("#purpose", "students")
    page.set_input_files("#file", files=[{"name": name, "mimeType": XLSX, "buffer": content}])
    page.locator("form[enctype='multipart/form-data'] button[type=submit]").click()


def test_a_registrar_imports_a_file_and_the_county_sees_it(browser, live_server, school):
    from playwright.sync_api import expect

    registrar = member(Role.REGISTRAR, school=school)
    page = browser.new_page()
    sign_in_session(browser, live_server, registrar)

    # A valid file: the page says it waits, then follows the worker to the end.
    upload(page, live_server, "一年级新生.xlsx", xlsx_bytes([row_of(), row_of(), row_of()]))
    expect(page.locator("#progress h2")).to_have_text(state_label(JobState.QUEUED))
    run_the_worker()
    expect(page.locator("#progress h2")).to_have_text(state_label(JobState.IMPORTED))
    expect(page.locator("#progress")).to_contain_text("3")
    assert Student.objects.filter(school=school).count() == 3

    # A file whose third data row has a wrong check character: nothing is written.
    good = student_data()
    mistyped = good.id_number[:-1] + ("1" if good.id_number[-1] == "0" else "0")
    rows = [row_of(), row_of(), row_of(id_number=mistyped)]
    upload(page, live_server, "插班生.xlsx", xlsx_bytes(rows))
    run_the_worker()
    expect(page.locator("#progress h2")).to_have_text(state_label(JobState.INVALID))
    error_row = page.locator("#progress tbody tr")
    expect(error_row).to_have_count(1)
    expect(error_row.locator("td").nth(0)).to_have_text("4")  # the header is row 1
    expect(error_row.locator("td").nth(1)).to_contain_text("身份证件号")
    # The page shows the number masked, never in full.
    expect(error_row.locator("td").nth(2)).not_to_contain_text(mistyped)
    assert Student.objects.filter(school=school).count() == 3

    with page.expect_download() as download:
        page.locator("#progress a[href$='report.xlsx']").click()
    sheet = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).worksheets[0]
    id_column = header().index("身份证件号") + 1
    bad = sheet.cell(4, id_column)
    assert bad.value == mistyped  # the registrar's own file, to correct in place
    assert bad.fill.fgColor.rgb.endswith(BAD_FILL[1:]) and bad.comment is not None

    # The county's officer sees both imports of the school, and the refused one's error.
    county = member(Role.BUREAU_VIEWER, division=school.county)
    sign_in_session(browser, live_server, county)
    page.goto(f"{live_server.url}/imports/")
    for filename in ("一年级新生.xlsx", "插班生.xlsx"):
        expect(page.locator("main")).to_contain_text(filename)
    refused = ImportJob.objects.get(filename="插班生.xlsx")
    page.goto(f"{live_server.url}/imports/{refused.pk}/")
    expect(page.locator("#progress tbody tr")).to_have_count(1)
    expect(page.locator("#progress tbody td").nth(2)).not_to_contain_text(mistyped)
