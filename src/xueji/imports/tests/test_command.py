"""`xueji import_students`: the same import from the command line, with a progress bar."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils.translation import gettext

from xueji.imports.tests.sheets import csv_bytes, row_of, xlsx_bytes
from xueji.students.models import Student

pytestmark = pytest.mark.django_db


def test_the_command_imports_with_a_progress_bar(registrar, school, tmp_path):
    path = tmp_path / "students.xlsx"
    path.write_bytes(xlsx_bytes([row_of()]))
    out = io.StringIO()
    call_command(
        "import_students", str(path), school=school.code, user=registrar.username, stdout=out
    )
    text = out.getvalue()
    assert "[" in text and "100%" in text and "1 written" in text
    writing = gettext("Every row is checked; writing %(count)d records.") % {"count": 1}
    assert text.index("100%") < text.index(writing)
    assert Student.objects.filter(school=school).count() == 1


def test_the_command_lists_the_errors_and_fails(registrar, school, tmp_path):
    path = tmp_path / "students.csv"
    path.write_bytes(csv_bytes([row_of(name="张3")], encoding="gbk"))
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command(
            "import_students", str(path), school=school.code, user=registrar.username, stdout=out
        )
    assert "row 2 姓名" in out.getvalue()
    assert gettext("Every row is checked; writing %(count)d records.")[:8] not in out.getvalue()
    assert not Student.objects.exists()


def test_the_command_refuses_another_school(registrar, tmp_path):
    path = tmp_path / "students.csv"
    path.write_bytes(csv_bytes([row_of()]))
    with pytest.raises(CommandError):
        call_command("import_students", str(path), school="9999999999", user=registrar.username)


def test_purge_deletes_old_uploads_and_keeps_the_jobs(upload, school, settings):
    import datetime

    from django.utils import timezone

    from xueji.imports.models import ImportJob
    from xueji.imports.services import import_dir

    job = upload(xlsx_bytes([row_of()]))
    stored = import_dir() / job.stored_path
    assert stored.exists()
    ImportJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=31)
    )
    call_command("imports_purge", stdout=io.StringIO())
    job.refresh_from_db()
    assert not stored.exists() and job.stored_path == "" and job.state == "imported"
