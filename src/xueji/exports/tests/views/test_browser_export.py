"""A search by ID number and its Excel export, end to end in a real headless Chromium with the
database task queue and its worker: the number never shows in the address bar, the export
button queues the file, its page follows the worker by htmx polling and then gives the file."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import translation

from xueji.exports.models import ExportState
from xueji.exports.tests.conftest import register
from xueji.testing.browser import chromium_context, sign_in_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def registered(school: Any, registrar: Any) -> Any:
    return register(school, registrar, ("张春铭", "李华", "王芳"))


@pytest.fixture
def browser(live_server: Any, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[Any]:
    # The queue production uses (the exports' conftest runs jobs at once instead).
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.XUEJI_EXPORT_BACKGROUND_ROWS = 0
    with chromium_context(monkeypatch, locale="zh-CN") as context:
        yield context


def _state(state: ExportState) -> str:
    with translation.override("zh-hans"):
        return str(state.label)


def test_a_search_by_id_number_exported_in_the_background(
    registered, browser, live_server, registrar
):
    from playwright.sync_api import expect

    child = registered.get(name="李华")
    number = child.reveal_id_number()
    page = browser.new_page()
    sign_in_session(browser, live_server, registrar)
    page.goto(f"{live_server.url}/students/search/")
    page.fill("#id_q", number)
    expect(page.locator("#results")).to_contain_text("李华")
    expect(page.locator("#results")).not_to_contain_text("张春铭")
    # The search went by POST: nothing of the number in the address (not even its birth date).
    assert not re.search(number[6:14], page.url), page.url

    page.locator("#results form[action$='students.xlsx'] button").click()
    expect(page.locator("#progress h2")).to_have_text(_state(ExportState.QUEUED))
    assert "/exports/" in page.url and number[6:14] not in page.url
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    expect(page.locator("#progress h2")).to_have_text(_state(ExportState.READY))

    with page.expect_download() as download:
        page.locator("#progress a[href$='/file']").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()), read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert [row[1] for row in rows[1:]] == ["李华"]
    assert number not in {str(cell) for cell in rows[1]}  # masked by default
