import io

import pytest
from django.core.management import CommandError, call_command

from xueji.access.models import ApiToken
from xueji.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_create_api_token_prints_the_raw_token_once():
    UserFactory(username="jwxt")
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", "jwxt", "教务系统", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    token = ApiToken.objects.get()
    assert token.digest == ApiToken.digest_of(raw)
    assert token.user.username == "jwxt" and token.name == "教务系统"
    assert raw not in err.getvalue() and token.prefix in err.getvalue()


def test_create_api_token_for_an_unknown_user_fails():
    with pytest.raises(CommandError, match="nobody"):
        call_command("create_api_token", "nobody", "x", stdout=io.StringIO())
    assert not ApiToken.objects.exists()


def test_create_api_token_reports_a_bad_name():
    UserFactory(username="jwxt")
    with pytest.raises(CommandError):
        call_command("create_api_token", "jwxt", " ", stdout=io.StringIO())


def test_revoke_api_token():
    UserFactory(username="jwxt")
    out = io.StringIO()
    call_command("create_api_token", "jwxt", "x", stdout=out, stderr=io.StringIO())
    token = ApiToken.objects.get()
    call_command("revoke_api_token", str(token.pk), stdout=io.StringIO())
    token.refresh_from_db()
    assert token.revoked_at is not None
    with pytest.raises(CommandError):
        call_command("revoke_api_token", str(token.pk), stdout=io.StringIO())
