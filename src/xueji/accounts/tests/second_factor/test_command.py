"""The operator issues an enrolment code or resets an authenticator from the command line (the
first administrator of a new installation has nobody to ask), audited without an actor."""

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from xueji.accounts.second_factor.codes import enrolment_digest
from xueji.accounts.second_factor.models import Authenticator, EnrolmentCode
from xueji.accounts.tests.second_factor.enrolment import enrol
from xueji.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def run(*args):
    out = io.StringIO()
    call_command("second_factor", *args, stdout=out)
    return out.getvalue()


def test_the_operator_issues_a_code(bureau):
    printed = run("issue", "futian-viewer")
    code = re.search(r": ([0-9A-Z-]{19})$", printed.strip()).group(1)
    assert EnrolmentCode.objects.get(user=bureau).digest == enrolment_digest(code)
    entry = AuditEntry.objects.get(action="account.second_factor_code_issue")
    assert entry.actor is None


def test_the_operator_resets_an_authenticator(bureau):
    enrol(bureau)
    assert "is reset (10 recovery codes removed)" in run("reset", "futian-viewer")
    assert not Authenticator.objects.filter(user=bureau).exists()
    with translation.override("en"), pytest.raises(CommandError, match="no authenticator"):
        run("reset", "futian-viewer")
    with pytest.raises(CommandError, match="no account named"):
        run("issue", "nobody-here")
