"""A refused or failed import's progress bar does not look like one that went through: a file
refused for its errors ends "100 %" checked, and a full blue bar read as success to a registrar.
The bar carries the job's outcome as a class (styled in app.css from the palette's warning and
error colours)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from xueji.access.models import Role
from xueji.core.compile_messages import PACKAGE_DIR
from xueji.imports.models import ImportJob, JobState
from xueji.testing.factories import SchoolFactory, member

pytestmark = pytest.mark.django_db

PROGRESS_TAG = re.compile(r"<progress\b[^>]*>")


def _bar_classes(html: str) -> set[str]:
    tags = PROGRESS_TAG.findall(html)
    assert len(tags) == 1, tags
    found = re.search(r'\bclass="([^"]*)"', tags[0])
    return set(found.group(1).split()) if found else set()


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (JobState.INVALID, {"refused"}),
        (JobState.DUPLICATE, {"refused"}),
        (JobState.FAILED, {"failed"}),
        (JobState.IMPORTED, set()),
        (JobState.RUNNING, set()),
        (JobState.QUEUED, set()),
    ],
)
def test_the_progress_bar_shows_whether_the_import_went_through(state, expected):
    school = SchoolFactory()
    registrar = member(Role.REGISTRAR, school=school)
    job = ImportJob.objects.create(
        school=school, purpose="students", sha256="c" * 64, filename="x.csv", kind="csv:utf-8-sig",
        created_by=registrar, rows_total=40, rows_done=40, state=state,
    )  # fmt: skip
    client = Client()
    client.force_login(registrar)
    page = client.get(f"/imports/{job.pk}/")
    part = client.get(f"/imports/{job.pk}/progress/", headers={"HX-Request": "true"})
    assert page.status_code == 200 and part.status_code == 200
    assert _bar_classes(page.content.decode()) == expected
    assert _bar_classes(part.content.decode()) == expected


def test_the_refused_and_failed_bars_are_drawn_in_the_palettes_warning_and_error_colours():
    css = (Path(PACKAGE_DIR) / "static" / "css" / "app.css").read_text(encoding="utf-8")
    rules = dict(re.findall(r"(progress\.\w+)\s*{\s*([^}]*?)\s*}", css))
    assert "var(--warn)" in rules["progress.refused"]
    assert "var(--error)" in rules["progress.failed"]
    assert "--warn:" in css and "--error:" in css
