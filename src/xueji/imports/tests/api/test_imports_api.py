"""The imports API: a multipart upload, the job with its errors, the templates."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from xueji.access.models import Role
from xueji.imports.tests.sheets import csv_bytes, row_of, xlsx_bytes
from xueji.testing.api import api_as
from xueji.testing.factories import member

pytestmark = pytest.mark.django_db


def _post_file(client, content: bytes, name: str = "students.csv"):  # type: ignore[no-untyped-def]
    upload = SimpleUploadedFile(name, content)
    return client.client.post(
        "/api/imports/", {"purpose": "students", "file": upload}, headers=client._headers()
    )


def test_upload_and_follow_the_job(registrar, school):
    client = api_as(registrar, language="en")
    response = _post_file(client, csv_bytes([row_of(), row_of(phone="x")]))
    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "invalid" and body["error_count"] == 1
    assert body["errors"][0] == {
        "row": 3,
        "column": "联系电话",
        "value": "x",
        "code": "invalid_phone",
        "message": "This is not a phone number.",
    }
    again = client.get(f"/api/imports/{body['id']}").json()
    assert again["id"] == body["id"]
    assert [job["id"] for job in client.get("/api/imports/").json()] == [body["id"]]


def test_the_same_file_twice_reports_the_first_import(registrar, school):
    client = api_as(registrar)
    content = csv_bytes([row_of()])
    assert _post_file(client, content).json()["state"] == "imported"
    second = _post_file(client, content).json()
    assert second["state"] == "duplicate" and registrar.username in second["message"]


def test_a_zip_bomb_is_refused_with_its_code(registrar, school, tmp_path):
    import zipfile

    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        bomb.writestr("[Content_Types].xml", b"<Types/>")
        bomb.writestr("xl/worksheets/sheet1.xml", b"\0" * 50 * 2**20)
    response = _post_file(api_as(registrar), path.read_bytes(), "bomb.xlsx")
    assert response.status_code == 400 and response.json()["code"] == "zip_bomb"


def test_a_workbook_named_csv_is_refused_with_its_code(registrar, school):
    response = _post_file(api_as(registrar, language="en"), xlsx_bytes([row_of()]), "s.csv")
    assert response.status_code == 400 and response.json()["code"] == "name_kind_mismatch"
    assert "spreadsheet, Excel (.xlsx)" in response.json()["message"]


def test_a_county_cannot_upload_but_reads(registrar, school):
    county = api_as(member(Role.BUREAU_VIEWER, division=school.county))
    assert _post_file(county, csv_bytes([row_of()])).status_code == 403
    assert county.get("/api/imports/").status_code == 200
    template = api_as(registrar).get("/api/imports/templates/students")
    assert template.status_code == 200 and template.content[:2] == b"PK"
