"""The page of an imported job says how many students it wrote and links each class's roster."""

import re

import pytest

from xueji.access.models import Role
from xueji.imports.models import ImportJob, JobState
from xueji.imports.tests.sheets import row_of, xlsx_bytes
from xueji.schools.models import SchoolClass
from xueji.testing.factories import member, student_data
from xueji.testing.pages import client_as

pytestmark = pytest.mark.django_db

NAMES = [f"李{a}{b}" for a in "春夏" for b in "明亮华伟强"]


def _rows(html: str) -> dict[str, str]:
    """Roster link -> count, from the imported classes' table."""
    section = html[html.index('id="imported"') :]
    pairs = re.findall(r'<a href="(/classes/\d+/)">[^<]*</a></td>\s*<td class="num">(\d+)', section)
    return dict(pairs)


def test_the_page_links_both_classes_rosters_with_their_counts(registrar, school, upload):
    rows = [row_of(student_data(name=NAMES[n]), class_number=1 + (n < 3)) for n in range(5)]
    job = upload(xlsx_bytes(rows))
    assert job.state == JobState.IMPORTED, job.errors
    one = SchoolClass.objects.get(school=school, grade=1, number=1)
    two = SchoolClass.objects.get(school=school, grade=1, number=2)
    html = client_as(registrar).get(f"/imports/{job.pk}/").content.decode()
    assert _rows(html) == {f"/classes/{one.pk}/": "2", f"/classes/{two.pk}/": "3"}
    assert "一年级 1班" in html and "一年级 2班" in html
    english = client_as(registrar, "en").get(f"/imports/{job.pk}/").content.decode()
    assert "5 students imported" in english
    # The county sees the same links; each roster opens for it.
    county = client_as(member(Role.BUREAU_VIEWER, division=school.county))
    for link in _rows(county.get(f"/imports/{job.pk}/").content.decode()):
        assert county.get(link).status_code == 200


def test_a_refused_import_links_no_class(registrar, school, upload):
    good = row_of(student_data(name=NAMES[0]))
    refused = upload(xlsx_bytes([good, row_of(student_data(name="李3"))]), filename="bad.xlsx")
    imported = upload(xlsx_bytes([good]))
    assert (refused.state, imported.state) == (JobState.INVALID, JobState.IMPORTED)
    client = client_as(registrar)
    html = client.get(f"/imports/{refused.pk}/").content.decode()
    # No roster link (the menu's /classes/setup/ is not one).
    assert 'id="imported"' not in html and re.search(r"/classes/\d+/", html) is None
    assert len(_rows(client.get(f"/imports/{imported.pk}/").content.decode())) == 1


def test_an_updates_import_says_which_rows_changed_nothing(registrar, school, upload):
    # Three valid rows, two records written: without a word on the third, the registrar goes
    # looking for the row that was dropped.
    job = upload(xlsx_bytes([row_of(student_data(name=name)) for name in NAMES[:3]]))
    assert job.state == JobState.IMPORTED, job.errors
    updated = ImportJob.objects.create(
        school=school, purpose="updates", state=JobState.IMPORTED, sha256="0" * 64,
        filename="u.xlsx", kind="xlsx", rows_total=3, rows_done=3, rows_written=2,
        created_by=registrar,
    )  # fmt: skip
    english = client_as(registrar, "en").get(f"/imports/{updated.pk}/").content.decode()
    assert "2 records written." in english
    assert "1 row changed nothing: it holds what is recorded already." in english
    students = client_as(registrar, "en").get(f"/imports/{job.pk}/").content.decode()
    assert "changed nothing" not in students


def test_a_file_imported_already_links_the_import_that_wrote_it(registrar, school, upload):
    content = xlsx_bytes([row_of(student_data(name=NAMES[0]))])
    first = upload(content)
    again = upload(content, filename="again.xlsx")
    assert (first.state, again.state) == (JobState.IMPORTED, JobState.DUPLICATE)
    html = client_as(registrar, "en").get(f"/imports/{again.pk}/").content.decode()
    assert f'href="/imports/{first.pk}/"' in html
    assert "and the classes it wrote into" in html
    assert f'href="/imports/{first.pk}/"' not in (
        client_as(registrar, "en").get(f"/imports/{first.pk}/").content.decode()
    )
