"""The errors of an import shown on its page and through the API: a mistyped ID number is
masked there too."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from xueji.access.models import Role
from xueji.imports.models import ImportJob, JobState
from xueji.imports.tests.services.test_malformed_ids_masked import malformed_rows
from xueji.imports.tests.sheets import xlsx_bytes
from xueji.testing.factories import member

pytestmark = pytest.mark.django_db


def test_the_page_and_the_api_show_mistyped_id_numbers_masked(registrar, school):
    rows, numbers = malformed_rows()
    client = Client()
    client.force_login(registrar)
    upload = SimpleUploadedFile("bad.xlsx", xlsx_bytes(rows))
    client.post("/imports/upload/", {"purpose": "students", "file": upload})
    job = ImportJob.objects.get()
    assert job.state == JobState.INVALID
    county = Client()
    county.force_login(member(Role.BUREAU_VIEWER, division=school.county))
    for viewer in (client, county):
        page = viewer.get(f"/imports/{job.pk}/").content.decode()
        assert "身份证件号" in page and "*******" in page
        api = viewer.get(f"/api/imports/{job.pk}").content.decode()
        assert '"errors"' in api
        for number in numbers.values():
            assert number not in page and number not in api
