"""The electronic file: a PDF of the whole record read back (CJK text, not boxes), made in the
background for a child or a class, with progress, opened only by its requester; masked where
the reader may not see more; a font that covers rare characters, and what it does not."""

from __future__ import annotations

import io
import subprocess

import pytest
from django.test import Client
from pypdf import PdfReader

from xueji.archive.models import FileJobState
from xueji.archive.pdf.fonts import covers, printable
from xueji.archive.services.files import file_job_create, file_job_open
from xueji.archive.services.growth import conduct_add, conduct_lift, term_report_save
from xueji.core.errors import NotFound
from xueji.schools.models import Term

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def immediate_tasks(settings, tmp_path):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.XUEJI_ARCHIVE_DIR = tmp_path / "archive"


def _text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "file.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    ).stdout.decode()


def test_the_font_covers_extension_a_and_names_what_it_lacks():
    assert covers("䶮") and covers("张") and covers("龘")
    assert not covers("𠮷")  # CJK Extension B: not in WenQuanYi Zen Hei
    assert printable("𠮷祥") == "〔U+20BB7〕祥"


def test_a_childs_file_in_the_background_with_the_growth_record(school, tmp_path):
    term = Term.objects.filter(academic_year__start_year=2026, number=1).get()
    term_report_save(
        actor=school["teacher"],
        student_id=school["pupil"].pk,
        data={"term": term.pk, "comment": "热爱劳动，乐于助人", "moral": "A", "arts": "B"},
    )
    job = file_job_create(actor=school["registrar"], student_id=school["pupil"].pk)
    job.refresh_from_db()
    assert job.state == FileJobState.DONE and job.rows_done == 1 and job.pages >= 1
    pdf = file_job_open(actor=school["registrar"], job_id=job.pk).read()
    text = _text(pdf, tmp_path)
    assert "电子学籍档案" in text and "张春铭" in text and "热爱劳动" in text
    assert school["school"].name in text
    # Masked: the full ID number never appears.
    assert school["pupil"].reveal_id_number() not in text
    assert len(PdfReader(io.BytesIO(pdf)).pages) == job.pages
    # Only the requester opens it.
    with pytest.raises(NotFound):
        file_job_open(actor=school["principal"], job_id=job.pk)
    client = Client()
    client.force_login(school["principal"])
    assert client.get(f"/archive/files/{job.pk}/").status_code == 404


def test_a_class_file_has_each_child(school, tmp_path):
    job = file_job_create(actor=school["principal"], school_class_id=school["mine"].pk)
    job.refresh_from_db()
    assert job.rows_total == 1 and job.state == FileJobState.DONE
    client = Client()
    client.force_login(school["principal"])
    page = client.get(f"/archive/files/{job.pk}/")
    assert page.status_code == 200 and "100" in page.content.decode()
    download = client.get(f"/archive/files/{job.pk}/pdf/")
    pdf = b"".join(download.streaming_content)
    assert "张春铭" in _text(pdf, tmp_path) and "李小红" not in _text(pdf, tmp_path)


def test_a_lifted_sanction_is_shown_to_no_other_school(school, today):
    from xueji.archive.selectors import archive_of

    conduct = conduct_add(
        actor=school["registrar"],
        student_id=school["pupil"].pk,
        data={
            "kind": "sanction",
            "level": "warning",
            "title": "打架",
            "decided_on": "2026-09-01",
            "issuer": "学校",
            "evidence": "校发〔2026〕3号",
        },
    )
    conduct_lift(actor=school["registrar"], conduct_id=conduct.pk, reason="表现良好")
    # The school that decided it still sees it, lifted.
    assert [c.pk for c in archive_of(school["registrar"], school["pupil"].pk).conduct] == [
        conduct.pk
    ]
    # The county (and any next school) no longer does.
    assert archive_of(school["approver"], school["pupil"].pk).conduct == []
