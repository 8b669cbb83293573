"""A large Excel export is written in the background: the download link offers it, its button
queues it, its page follows the worker and then gives the file to whoever asked for it, and
nobody else. Small Excel files and every CSV still come at once."""

from __future__ import annotations

import io
import json
import re
import stat
from html import unescape

import openpyxl
import pytest

from xueji.access.models import Role
from xueji.audit.models import AuditEntry
from xueji.core.crypto import decrypt
from xueji.exports.models import ExportJob, ExportState
from xueji.exports.services import CRITERIA_CONTEXT, export_dir
from xueji.exports.tests.conftest import register
from xueji.schools.models import SchoolClass
from xueji.testing.factories import member
from xueji.testing.pages import client_as

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _background_above_two_rows(settings):  # type: ignore[no-untyped-def]
    settings.XUEJI_EXPORT_BACKGROUND_ROWS = 2


@pytest.fixture
def registered(school, registrar):  # type: ignore[no-untyped-def]
    return register(school, registrar, ("张春铭", "李华", "王芳"))


def _sheet_rows(content: bytes) -> list[tuple]:  # type: ignore[type-arg]
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    return [tuple(row) for row in book.worksheets[0].iter_rows(values_only=True)]


def test_a_large_excel_export_is_offered_not_written_by_the_link(registered, school):
    county = member(Role.BUREAU_VIEWER, division=school.county)
    page = client_as(county).get("/exports/students.xlsx")
    assert page.status_code == 200 and not page.streaming
    html = page.content.decode()
    assert 'method="post"' in html and "3" in html
    assert "/exports/students.csv" in html  # the CSV of the same records, at once
    assert not ExportJob.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="export").exists()


def test_the_button_queues_it_and_its_page_gives_the_file(registered, school):
    county = member(Role.BUREAU_VIEWER, division=school.county)
    client = client_as(county)
    response = client.post("/exports/students.xlsx")
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/exports/{job.pk}/"
    assert job.state == ExportState.READY and job.rows_total == 3 and job.created_by == county
    page = client.get(f"/exports/{job.pk}/").content.decode()
    assert f"/exports/{job.pk}/file" in page
    download = client.get(f"/exports/{job.pk}/file")
    assert download.status_code == 200
    assert "filename*=UTF-8''" in download["Content-Disposition"]
    rows = _sheet_rows(b"".join(download.streaming_content))
    assert rows[0][:2] == ("全国学籍号", "姓名") and len(rows) == 4
    assert {row[1] for row in rows[1:]} == {"张春铭", "李华", "王芳"}
    plain = {s.reveal_id_number() for s in registered}
    assert not any(str(cell) in plain for row in rows for cell in row)
    actions = list(AuditEntry.objects.order_by("seq").values_list("action", flat=True))
    assert [a for a in actions if a.startswith("export")] == [
        "export.request", "export", "export.download"
    ]  # fmt: skip
    path = export_dir() / job.stored_path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_search_criteria_travel_with_the_job(registered, registrar, settings):
    settings.XUEJI_EXPORT_BACKGROUND_ROWS = 0
    client = client_as(registrar)
    client.post("/exports/students.xlsx", {"grade": 1, "q": "zh"})
    job = ExportJob.objects.get()
    assert job.rows_total == 1 and job.filters == {"q": "zh", "grade": 1}
    # Kept encrypted, since a search may be a full ID number: no JSON shows through.
    assert '"q"' not in job.criteria_sealed
    criteria = decrypt(job.criteria_sealed, context=CRITERIA_CONTEXT)
    assert json.loads(criteria) == {"q": "zh", "grade": "1"}
    rows = _sheet_rows(b"".join(client.get(f"/exports/{job.pk}/file").streaming_content))
    assert [row[1] for row in rows[1:]] == ["张春铭"]


def _offer_form(html: str) -> tuple[str, dict[str, str]]:
    """The offer's form: its action and its hidden inputs, the CSRF token left out."""
    form = re.search(r'<form method="post" action="([^"]*)">(.*?)</form>', html, re.DOTALL)
    assert form is not None, html
    inputs = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form[2]))
    assert inputs.pop("csrfmiddlewaretoken")
    return unescape(form[1]), {name: unescape(value) for name, value in inputs.items()}


def test_the_offer_posts_the_criteria_in_its_body_not_its_address(registered, registrar, settings):
    settings.XUEJI_EXPORT_BACKGROUND_ROWS = 0
    client = client_as(registrar)
    page = client.get("/exports/students.xlsx", {"grade": 1, "q": "zh"})
    assert page.status_code == 200 and not ExportJob.objects.exists()
    action, inputs = _offer_form(page.content.decode())
    assert action == "/exports/students.xlsx"  # no query string
    assert inputs == {"q": "zh", "grade": "1"}
    response = client.post(action, inputs)
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/exports/{job.pk}/"
    assert job.rows_total == 1 and job.filters == {"q": "zh", "grade": 1} and not job.reveal
    criteria = decrypt(job.criteria_sealed, context=CRITERIA_CONTEXT)
    assert json.loads(criteria) == {"q": "zh", "grade": "1"}


def test_the_offer_carries_the_school_and_the_reveal(registered, school, registrar):
    client = client_as(registrar)
    page = client.get("/exports/students.xlsx", {"school": school.code, "reveal": "1"})
    action, inputs = _offer_form(page.content.decode())
    assert action == "/exports/students.xlsx"
    assert inputs == {"school": school.code, "reveal": "1"}
    client.post(action, inputs)
    job = ExportJob.objects.get()
    assert job.reveal and job.rows_total == 3
    assert json.loads(decrypt(job.criteria_sealed, context=CRITERIA_CONTEXT)) == {
        "school": school.code
    }


def test_criteria_in_a_posts_address_still_narrow_the_file(registered, registrar, settings):
    """An offer page rendered before its form carried the criteria posted them in its address:
    they still count (the body wins where both say), never a file of the whole area instead."""
    settings.XUEJI_EXPORT_BACKGROUND_ROWS = 0
    client = client_as(registrar)
    client.post("/exports/students.xlsx?grade=1&q=zh")
    assert ExportJob.objects.get().rows_total == 1
    ExportJob.objects.all().delete()
    client.post("/exports/students.xlsx?q=zh", {"q": "wf"})
    assert ExportJob.objects.get().filters == {"q": "wf"}


def test_the_search_pages_excel_button_queues_a_large_file_at_once(registered, registrar, settings):
    # The button posts the criteria; above the threshold the job is queued in one click.
    settings.XUEJI_EXPORT_BACKGROUND_ROWS = 0
    number = registered.get(name="李华").reveal_id_number()
    response = client_as(registrar).post("/exports/students.xlsx", {"q": number})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/exports/{job.pk}/"
    assert job.rows_total == 1
    assert job.filters == {"q": number[:6] + "********" + number[-4:]}
    assert number not in job.criteria_sealed


def test_a_class_roster_in_the_background(registered, school, registrar):
    school_class = SchoolClass.objects.get(school=school, grade=1, number=1)
    client = client_as(registrar)
    assert client.get(f"/exports/classes/{school_class.pk}/roster.xlsx").status_code == 200
    client.post(f"/exports/classes/{school_class.pk}/roster.xlsx")
    job = ExportJob.objects.get()
    assert job.table == "roster" and job.rows_total == 3


def test_numbers_in_full_need_the_permission_and_come_in_full(registered, school, registrar):
    county = member(Role.BUREAU_VIEWER, division=school.county)
    assert client_as(county).post("/exports/students.xlsx", {"reveal": "1"}).status_code == 403
    assert not ExportJob.objects.exists()
    client = client_as(registrar)
    client.post("/exports/students.xlsx", {"reveal": "1"})
    job = ExportJob.objects.get()
    assert job.reveal
    rows = _sheet_rows(b"".join(client.get(f"/exports/{job.pk}/file").streaming_content))
    assert {row[6] for row in rows[1:]} == {s.reveal_id_number() for s in registered}


def test_nobody_else_sees_or_downloads_the_file(registered, school, registrar):
    client_as(registrar).post("/exports/students.xlsx")
    job = ExportJob.objects.get()
    colleague = member(Role.REGISTRAR, school=school)
    county = member(Role.BUREAU_APPROVER, division=school.county)
    for user in (colleague, county):
        client = client_as(user)
        for url in (f"/exports/{job.pk}/", f"/exports/{job.pk}/progress/",
                    f"/exports/{job.pk}/file"):  # fmt: skip
            assert client.get(url).status_code == 404, (user, url)
    assert ExportJob.objects.get().downloads == 0


def test_small_excel_files_and_every_csv_come_at_once(registered, school, registrar, settings):
    client = client_as(registrar)
    csv = client.get("/exports/students.csv")
    assert csv.status_code == 200 and csv.streaming
    settings.XUEJI_EXPORT_BACKGROUND_ROWS = 3
    xlsx = client.get("/exports/students.xlsx")
    assert xlsx.status_code == 200 and xlsx.streaming
    assert not ExportJob.objects.exists()


def test_the_progress_card_polls_until_the_file_is_ready(registered, registrar):
    client = client_as(registrar)
    client.post("/exports/students.xlsx")
    job = ExportJob.objects.get()
    ready = client.get(f"/exports/{job.pk}/progress/", headers={"HX-Request": "true"})
    assert "hx-trigger" not in ready.content.decode()
    ExportJob.objects.filter(pk=job.pk).update(state=ExportState.RUNNING, rows_done=1,
                                               stored_path="")  # fmt: skip
    running = client.get(f"/exports/{job.pk}/progress/", headers={"HX-Request": "true"})
    html = running.content.decode()
    assert 'hx-trigger="every 1s"' in html and "/file" not in html
    assert 'value="33"' in html


def test_an_expired_file_is_not_given_and_its_page_says_so(registered, registrar):
    import datetime

    from django.utils import timezone

    client = client_as(registrar)
    client.post("/exports/students.xlsx")
    job = ExportJob.objects.get()
    ExportJob.objects.filter(pk=job.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    response = client.get(f"/exports/{job.pk}/file", follow=True)
    assert response.redirect_chain == [(f"/exports/{job.pk}/", 302)]
    assert "/file" not in response.content.decode().split('id="progress"')[1].split("</section>")[0]
    assert ExportJob.objects.get().downloads == 0


@pytest.mark.django_db(transaction=True)
def test_through_the_database_queue_and_its_worker(registered, registrar, settings):
    """As in production: the button only queues the job; `xueji db_worker` writes the file."""
    from django.core.management import call_command

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    client = client_as(registrar)
    client.post("/exports/students.xlsx")
    job = ExportJob.objects.get()
    assert job.state == ExportState.QUEUED
    waiting = client.get(f"/exports/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in waiting and "/file" not in waiting
    call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
    job.refresh_from_db()
    assert job.state == ExportState.READY
    assert len(_sheet_rows(b"".join(client.get(f"/exports/{job.pk}/file").streaming_content))) == 4


def test_the_list_of_ones_exports_shows_only_ones_own(registered, school, registrar):
    client = client_as(registrar)
    client.post("/exports/students.xlsx")
    mine = ExportJob.objects.get()
    colleague = member(Role.REGISTRAR, school=school)
    client_as(colleague).post("/exports/students.xlsx")
    theirs = ExportJob.objects.exclude(pk=mine.pk).get()
    page = client.get("/exports/").content.decode()
    assert f"/exports/{mine.pk}/" in page and f"/exports/{theirs.pk}/" not in page
    ExportJob.objects.filter(pk=mine.pk).update(state=ExportState.EXPIRED, stored_path="")
    assert f"/exports/{mine.pk}/" not in client.get("/exports/").content.decode()
    search = client.get("/students/search/").content.decode()
    assert 'href="/exports/"' in search


@pytest.mark.parametrize(
    ("state", "minutes", "said"),
    [
        (ExportState.QUEUED, 11, "请告知系统管理员"),
        (ExportState.RUNNING, 11, "请重新申请导出"),
        (ExportState.QUEUED, 9, None),
        (ExportState.RUNNING, 9, None),
    ],
)
def test_a_job_no_worker_moves_says_so(registered, registrar, settings, state, minutes, said):
    """A bar that never moves reads as "still working": after ten minutes without a worker
    taking the job, or without word from the one writing it, the page says what is wrong."""
    import datetime

    from django.utils import timezone

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    client = client_as(registrar)
    client.post("/exports/students.xlsx")
    job = ExportJob.objects.get()
    then = timezone.now() - datetime.timedelta(minutes=minutes)
    ExportJob.objects.filter(pk=job.pk).update(state=state, created_at=then, heartbeat_at=then)
    html = client.get(f"/exports/{job.pk}/progress/", headers={"HX-Request": "true"})
    html = html.content.decode()
    if said is None:
        assert 'id="stalled"' not in html
    else:
        assert 'id="stalled"' in html and said in html
        assert 'hx-trigger="every 1s"' in html  # it keeps looking: the worker may come back
