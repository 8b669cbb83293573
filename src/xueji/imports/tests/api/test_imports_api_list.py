"""The imports API's list: the page's filters, pages by limit and offset; a job's classes."""

from typing import Any

import pytest

from xueji.access.models import Role
from xueji.imports.models import JobState
from xueji.imports.tests.jobs import make_jobs
from xueji.imports.tests.sheets import row_of, xlsx_bytes
from xueji.schools.models import SchoolClass
from xueji.testing.api import api_as
from xueji.testing.factories import SchoolFactory, member, student_data

pytestmark = pytest.mark.django_db


def _names(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {job["filename"] for job in response.json()}


def test_the_list_filters_by_state_purpose_and_school(registrar, school):
    other = SchoolFactory(name="南山实验学校")
    make_jobs(school, registrar, 2, "good")
    make_jobs(school, registrar, 2, "bad", state=JobState.INVALID)
    make_jobs(school, registrar, 1, "upd", purpose="updates")
    make_jobs(other, member(Role.REGISTRAR, school=other), 1, "other")
    county = api_as(member(Role.BUREAU_VIEWER, division=school.county))
    assert _names(county.get("/api/imports/", {"state": "invalid"})) == {
        "bad-000.xlsx",
        "bad-001.xlsx",
    }
    assert _names(county.get("/api/imports/", {"purpose": "updates"})) == {"upd-000.xlsx"}
    assert _names(county.get("/api/imports/", {"school": "南山"})) == {"other-000.xlsx"}
    assert len(_names(county.get("/api/imports/", {"school": school.code}))) == 5
    # A school's token finds nothing of another school through the filter.
    assert _names(api_as(registrar).get("/api/imports/", {"school": other.code})) == set()


def test_the_list_is_paged_by_limit_and_offset(registrar, school):
    make_jobs(school, registrar, 7, "job")
    client = api_as(registrar)
    pages = [_names(client.get("/api/imports/", {"limit": 3, "offset": n})) for n in (0, 3, 6)]
    assert [len(page) for page in pages] == [3, 3, 1]
    assert set().union(*pages) == {f"job-{n:03d}.xlsx" for n in range(7)}


@pytest.mark.parametrize(
    "query", [{"state": "bogus"}, {"purpose": "bogus"}, {"limit": 0}, {"offset": -1}]
)
def test_a_filter_that_cannot_be_read_is_a_422(registrar, school, query):
    response = api_as(registrar).get("/api/imports/", query)
    assert response.status_code == 422


def test_an_imported_job_lists_its_classes(registrar, school):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = api_as(registrar)
    rows = [row_of(student_data(name=name), class_number=2) for name in ("王春", "王夏")]
    upload = SimpleUploadedFile("s.xlsx", xlsx_bytes(rows))
    body = client.client.post(
        "/api/imports/", {"purpose": "students", "file": upload}, headers=client._headers()
    ).json()
    two = SchoolClass.objects.get(school=school, grade=1, number=2)
    assert body["classes"] == [{"class_id": two.pk, "count": 2}]
    assert client.get(f"/api/imports/{body['id']}").json()["classes"] == body["classes"]
