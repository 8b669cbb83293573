"""On PostgreSQL, with real threads: two managers creating the same login name at once make one
account (the user table's unique index decides; the other gets the field's refusal); a hand-over
racing a removal of the successor ends either handed over or refused, never with items passed
to a removed account."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from xueji.access.models import Role
from xueji.accounts.administration.services import (
    AccountData,
    account_create,
    account_remove,
    open_items_hand_over,
)
from xueji.accounts.models import AccountSeal, SealReason
from xueji.audit.models import AuditEntry
from xueji.imports.models import ImportJob, JobState
from xueji.testing.concurrency import race
from xueji.testing.factories import member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_one_login_name_makes_one_account(area):
    managers = [area.manager(Role.BUREAU_APPROVER, "county") for _ in range(3)]

    def create(manager):
        return lambda: account_create(
            actor=manager,
            login_name="twice",
            data=AccountData(name="王芳", role=Role.REGISTRAR, school_code=area.school.code),
        )

    outcomes = race(*[create(manager) for manager in managers])
    assert outcomes.count("done") == 1
    assert set(outcomes) - {"done"} == {"login_name_taken"}
    assert get_user_model().objects.filter(username__iexact="twice").count() == 1
    assert AuditEntry.objects.filter(action="account.create").count() == 1


def test_login_names_differing_only_in_case_make_one_account_when_created_at_once(area):
    # Each manager's check of the name (iexact) passes before any insert: the database's index
    # on the lower-cased name decides, and the others get the field's refusal.
    managers = [area.manager(Role.BUREAU_APPROVER, "county") for _ in range(3)]

    def create(manager, login_name):
        return lambda: account_create(
            actor=manager,
            login_name=login_name,
            data=AccountData(name="王芳", role=Role.REGISTRAR, school_code=area.school.code),
        )

    names = ["Twice", "twice", "TWICE"]
    outcomes = race(*[create(m, name) for m, name in zip(managers, names, strict=True)])
    assert outcomes.count("done") == 1
    assert set(outcomes) - {"done"} == {"login_name_taken"}
    assert get_user_model().objects.filter(username__iexact="twice").count() == 1
    assert AuditEntry.objects.filter(action="account.create").count() == 1


def test_a_hand_over_racing_the_successors_removal_never_passes_items_to_a_removed_account(
    area, county_approver
):
    leaving = member(Role.REGISTRAR, school=area.school)
    successor = member(Role.REGISTRAR, school=area.school)
    job = ImportJob.objects.create(
        school=area.school, purpose="students", state=JobState.QUEUED, sha256="a" * 64,
        filename="students.xlsx", kind="xlsx", created_by=leaving,
    )  # fmt: skip
    outcomes = race(
        lambda: open_items_hand_over(
            actor=county_approver, from_user_id=leaving.pk, to_user_id=successor.pk
        ),
        lambda: account_remove(actor=county_approver, user_id=successor.pk, reason="离职"),
    )
    job.refresh_from_db()
    removed = AccountSeal.objects.filter(
        user=successor, reason=SealReason.REMOVED, reopened_at__isnull=True
    ).exists()
    if job.created_by_id == successor.pk:
        # Handed over first: the removal then found open items and was refused.
        assert outcomes == ["done", "open_items"] and not removed
    else:
        # Removed first: the hand-over found the successor out of use.
        assert outcomes == ["done", "successor_sealed"] and removed
        assert job.created_by_id == leaving.pk
