"""An upload whose multipart body cannot be read (no boundary) is a 400 in the API's JSON error
shape; with DEBUG on (the demo's default) it was a 500, Django's error page reading the body
again."""

import pytest
from django.test import Client

from xueji.testing.api import api_as

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary="])
def test_a_multipart_body_without_a_boundary_is_a_json_400(
    registrar, settings, debug, content_type
):
    settings.DEBUG = debug
    token = api_as(registrar).raw
    client = Client(raise_request_exception=False)
    response = client.post(
        "/api/imports/",
        b'--x\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc\r\n--x--\r\n',
        content_type=content_type,
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "bad_request"
