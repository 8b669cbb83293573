import pytest

from xueji.access.models import ApiToken, Role
from xueji.access.services import api_token_create, api_token_revoke
from xueji.audit.models import AuditEntry
from xueji.core.errors import FieldErrors, NotFound, ServiceError
from xueji.testing.factories import SchoolFactory, UserFactory, member

pytestmark = pytest.mark.django_db


def test_create_returns_the_raw_token_once_and_stores_only_its_digest():
    owner = member(Role.REGISTRAR, school=SchoolFactory())
    token, raw = api_token_create(actor=owner, user=owner, name="教务系统")
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.digest == ApiToken.digest_of(raw)
    assert raw not in {stored.digest, stored.name, stored.prefix}
    assert raw.startswith(stored.prefix) and len(stored.prefix) == 8
    assert len(raw) > 40
    assert stored.user == owner and stored.revoked_at is None
    entry = AuditEntry.objects.get(action="api_token.create")
    assert entry.actor == owner
    assert entry.detail["token_id"] == token.pk and raw not in str(entry.detail)


def test_two_tokens_are_different():
    owner = UserFactory()
    assert (
        api_token_create(actor=None, user=owner, name="a")[1]
        != api_token_create(actor=None, user=owner, name="b")[1]
    )


@pytest.mark.parametrize("name", ["", "   ", "x" * 65])
def test_a_token_needs_a_name_of_sensible_length(name):
    owner = UserFactory()
    with pytest.raises(FieldErrors) as caught:
        api_token_create(actor=owner, user=owner, name=name)
    assert list(caught.value.errors) == ["name"]
    assert not ApiToken.objects.exists()


def test_nobody_makes_tokens_for_someone_else_except_the_nations_security_administrator():
    owner = UserFactory()
    other = member(Role.REGISTRAR, school=SchoolFactory())
    with pytest.raises(ServiceError) as caught:
        api_token_create(actor=other, user=owner, name="x")
    assert caught.value.status == 403
    security_admin = member(Role.SECURITY_ADMIN)
    token, _ = api_token_create(actor=security_admin, user=owner, name="x")
    assert token.user == owner


def test_the_system_administrator_cannot_make_a_token_to_act_as_the_auditor():
    """三员分立: a token for the auditor would let the admin read the trail; being a superuser
    changes nothing."""
    auditor = member(Role.AUDITOR)
    admin = member(Role.ADMIN)
    admin.is_superuser = True
    admin.save()
    with pytest.raises(ServiceError) as caught:
        api_token_create(actor=admin, user=auditor, name="x")
    assert caught.value.status == 403
    assert not ApiToken.objects.filter(user=auditor).exists()


def test_no_token_for_a_disabled_account():
    owner = UserFactory(is_active=False)
    with pytest.raises(ServiceError) as caught:
        api_token_create(actor=None, user=owner, name="x")
    assert caught.value.code == "account_inactive"


def test_revoke_marks_the_token_and_records_it_once():
    owner = UserFactory()
    token, _ = api_token_create(actor=None, user=owner, name="x")
    api_token_revoke(actor=owner, token_id=token.pk)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEntry.objects.filter(action="api_token.revoke", actor=owner).count() == 1
    with pytest.raises(ServiceError) as caught:
        api_token_revoke(actor=owner, token_id=token.pk)
    assert caught.value.code == "token_already_revoked"


def test_someone_else_cannot_revoke_a_token_nor_learn_that_it_exists():
    token, _ = api_token_create(actor=None, user=UserFactory(), name="x")
    stranger = UserFactory()
    with pytest.raises(NotFound):
        api_token_revoke(actor=stranger, token_id=token.pk)
    with pytest.raises(NotFound):
        api_token_revoke(actor=stranger, token_id=token.pk + 1000)
    token.refresh_from_db()
    assert token.revoked_at is None
