"""The operator makes the first security administrator of a deployment from the command line."""

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError

from xueji.access.models import Membership, Role
from xueji.accounts.administration.models import AccountProfile
from xueji.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_the_operator_creates_the_first_security_administrator():
    out = io.StringIO()
    call_command(
        "create_account", "sa_nation", "--name", "张安", "--role", "security_admin", stdout=out
    )
    password = out.getvalue().rsplit(": ", 1)[1].strip()
    assert authenticate(username="sa_nation", password=password) is not None
    membership = Membership.objects.get(user__username="sa_nation")
    assert (membership.role, membership.scope_level) == (Role.SECURITY_ADMIN, "nation")
    assert AccountProfile.objects.get(user__username="sa_nation").must_change_password
    entry = AuditEntry.objects.get(action="account.create")
    assert entry.actor is None and password not in str(entry.detail)


def test_what_is_missing_or_wrong_is_named():
    with pytest.raises(CommandError, match="school_code"):
        call_command("create_account", "reg", "--name", "x", "--role", "registrar")
    with pytest.raises(CommandError, match="division_code"):
        call_command("create_account", "aud", "--name", "x", "--role", "auditor", "--division", "1")
    with pytest.raises(CommandError, match="login_name"):
        call_command("create_account", "a b", "--name", "x", "--role", "auditor")
