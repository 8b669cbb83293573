"""Creating, editing, sealing, reopening and removing accounts, and resetting passwords: who may
do it to which account (every escalation path refused), what is written and audited."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from xueji.access.models import ApiToken, Membership, Role
from xueji.access.scope import PermissionRefused
from xueji.access.services import api_token_create
from xueji.accounts.administration.models import AccountProfile
from xueji.accounts.administration.services import (
    AccountData,
    account_create,
    account_edit,
    account_password_reset,
    account_remove,
    account_seal,
)
from xueji.accounts.models import AccountSeal, SealReason
from xueji.accounts.services import account_reopen
from xueji.audit.models import AuditEntry
from xueji.core.errors import Conflict, FieldErrors, NotFound, ServiceError
from xueji.testing.api import ApiClient
from xueji.testing.factories import member

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def registrar_data(area, **overrides):
    values = {"name": "王芳", "role": Role.REGISTRAR, "phone": "13800138000"}
    values.update(overrides)
    values.setdefault("school_code", area.school.code)
    return AccountData(**values)


# ---- creating --------------------------------------------------------------------------------


def test_a_county_approver_creates_a_registrar_of_its_school_with_a_password_shown_once(
    area, county_approver
):
    created = account_create(
        actor=county_approver, login_name="wangfang", data=registrar_data(area)
    )
    user = created.user
    assert len(created.password) == 12
    assert authenticate(username="wangfang", password=created.password) == user
    assert created.password not in user.password  # only its hash is kept
    membership = Membership.objects.get(user=user)
    assert (membership.role, membership.scope_level, membership.school) == (
        Role.REGISTRAR,
        "school",
        area.school,
    )
    profile = AccountProfile.objects.get(user=user)
    assert profile.must_change_password and profile.phone == "13800138000"
    assert profile.created_by == county_approver
    assert user.get_full_name() == "王芳"
    entry = AuditEntry.objects.get(action="account.create")
    assert entry.actor == county_approver
    assert entry.detail["user"] == "wangfang" and entry.detail["place"] == area.school.code
    assert entry.detail["phone"] == "138****8000"
    assert created.password not in str(entry.detail)


def test_every_field_is_checked_at_once_and_nothing_is_written(area, county_approver):
    member(Role.REGISTRAR, school=area.school, username="taken")
    with pytest.raises(FieldErrors) as caught:
        account_create(
            actor=county_approver,
            login_name="Taken",
            data=AccountData(name="", role=Role.REGISTRAR, phone="12345", school_code="999"),
        )
    assert set(caught.value.errors) == {"login_name", "name", "phone", "school_code"}
    assert not get_user_model().objects.filter(username="Taken").exists()
    with pytest.raises(FieldErrors) as caught:
        account_create(actor=county_approver, login_name="a b", data=registrar_data(area))
    assert caught.value.errors["login_name"][0].code == "login_name_format"


def test_login_names_differing_only_in_case_cannot_both_be_written_even_around_the_service(
    area,
):
    """The database refuses them (a unique index on the lower-cased name), whoever writes."""
    users = get_user_model()
    first = users.objects.create(username="WangFang")
    for variant in ("wangfang", "WANGFANG", "wangFang"):
        with pytest.raises(IntegrityError), transaction.atomic():
            users.objects.create(username=variant)
    other = users.objects.create(username="lifang")
    with pytest.raises(IntegrityError), transaction.atomic():
        users.objects.filter(pk=other.pk).update(username="wangFANG")
    assert list(users.objects.filter(username__iexact="wangfang")) == [first]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.AUDITOR, Role.SECURITY_ADMIN])
def test_a_county_cannot_create_an_administrator_or_an_auditor(area, county_approver, role):
    with pytest.raises(FieldErrors) as caught:
        account_create(
            actor=county_approver,
            login_name="escalate",
            data=AccountData(name="x", role=role, division_code=area.futian.code),
        )
    assert caught.value.errors["role"][0].code == "role_not_yours_to_give"
    assert not get_user_model().objects.filter(username="escalate").exists()


def test_a_county_cannot_create_a_bureau_account_at_its_own_level(area, county_approver):
    with pytest.raises(FieldErrors) as caught:
        account_create(
            actor=county_approver,
            login_name="peer",
            data=AccountData(name="x", role=Role.BUREAU_APPROVER, division_code="440304"),
        )
    assert caught.value.errors["role"][0].code == "role_not_yours_to_give"


def test_a_registrar_cannot_create_any_account(area, registrar):
    with pytest.raises(PermissionRefused):
        account_create(
            actor=registrar,
            login_name="bureau1",
            data=AccountData(name="x", role=Role.BUREAU_VIEWER, division_code="440304"),
        )
    with pytest.raises(PermissionRefused):
        account_create(actor=registrar, login_name="teacher1", data=registrar_data(area))


def test_the_system_administrator_cannot_create_accounts(area):
    admin = area.manager(Role.ADMIN, "nation")
    with pytest.raises(PermissionRefused):
        account_create(actor=admin, login_name="x1x", data=registrar_data(area))


def test_a_city_bureau_cannot_create_an_account_in_another_city(area):
    shenzhen = area.manager(Role.BUREAU_APPROVER, "city")
    with pytest.raises(FieldErrors) as caught:
        account_create(
            actor=shenzhen,
            login_name="tianhe_reg",
            data=registrar_data(area, school_code=area.tianhe_school.code),
        )
    assert caught.value.errors["school_code"][0].code == "outside_area"
    with pytest.raises(FieldErrors) as caught:
        account_create(
            actor=shenzhen,
            login_name="tianhe_bureau",
            data=AccountData(name="x", role=Role.BUREAU_VIEWER, division_code="440106"),
        )
    assert caught.value.errors["division_code"][0].code == "outside_area"
    # Its own city's county is fine.
    account_create(
        actor=shenzhen,
        login_name="nanshan_viewer",
        data=AccountData(name="x", role=Role.BUREAU_VIEWER, division_code="440305"),
    )


def test_only_the_nations_security_administrator_creates_the_separated_duties(area, security_admin):
    province_sa = area.manager(Role.SECURITY_ADMIN, "province")
    with pytest.raises(FieldErrors):
        account_create(
            actor=province_sa,
            login_name="gd_auditor",
            data=AccountData(name="x", role=Role.AUDITOR, division_code="440000"),
        )
    for role, name in ((Role.AUDITOR, "gd_auditor"), (Role.ADMIN, "gd_admin")):
        created = account_create(
            actor=security_admin,
            login_name=name,
            data=AccountData(name="x", role=role, division_code="440000"),
        )
        assert created.user.membership.role == role
    # A province's security administrator staffs its own bureau.
    account_create(
        actor=province_sa,
        login_name="gd_approver",
        data=AccountData(name="x", role=Role.BUREAU_APPROVER, division_code="440000"),
    )


# ---- nobody grants themselves a role -----------------------------------------------------------


def test_nobody_edits_their_own_role_or_scope(area, security_admin, county_approver):
    for actor, role in ((security_admin, Role.AUDITOR), (county_approver, Role.BUREAU_APPROVER)):
        with pytest.raises(ServiceError) as caught:
            account_edit(
                actor=actor,
                user_id=actor.pk,
                data=AccountData(name="me", role=role, division_code="440000"),
            )
        assert caught.value.status == 403 and caught.value.code == "own_account"
    assert Membership.objects.get(user=security_admin).role == Role.SECURITY_ADMIN
    assert Membership.objects.get(user=county_approver).scope_level == "county"


def test_a_manager_cannot_lift_an_account_to_a_role_it_may_not_give(area, county_approver):
    registrar = member(Role.REGISTRAR, school=area.school)
    with pytest.raises(FieldErrors) as caught:
        account_edit(
            actor=county_approver,
            user_id=registrar.pk,
            data=AccountData(name="x", role=Role.ADMIN, division_code="440304"),
        )
    assert caught.value.errors["role"][0].code == "role_not_yours_to_give"
    assert Membership.objects.get(user=registrar).role == Role.REGISTRAR


def test_an_account_above_or_beside_the_manager_does_not_exist_for_it(area, county_approver):
    peer = area.manager(Role.BUREAU_APPROVER, "county")
    auditor = member(Role.AUDITOR, division=area.futian)
    elsewhere = member(Role.REGISTRAR, school=area.nanshan_school)
    for target in (peer, auditor, elsewhere):
        with pytest.raises(NotFound):
            account_seal(actor=county_approver, user_id=target.pk)
        with pytest.raises(NotFound):
            account_password_reset(actor=county_approver, user_id=target.pk)


def test_editing_changes_name_phone_role_and_place_and_audits_before_and_after(
    area, county_approver
):
    teacher = member(Role.CLASS_TEACHER, school=area.school, username="t1")
    other_school = member(Role.REGISTRAR, school=area.school).membership.school
    account_edit(
        actor=county_approver,
        user_id=teacher.pk,
        data=AccountData(
            name="李雷", role=Role.PRINCIPAL, phone="13900139000", school_code=other_school.code
        ),
    )
    teacher.refresh_from_db()
    assert teacher.membership.role == Role.PRINCIPAL and teacher.last_name == "李雷"
    entry = AuditEntry.objects.get(action="account.edit")
    assert entry.before["role"] == Role.CLASS_TEACHER and entry.after["role"] == Role.PRINCIPAL
    assert entry.after["phone"] == "139****9000"


# ---- sealing, reopening, removing --------------------------------------------------------------


def test_sealing_stops_the_login_sessions_and_tokens_until_reopened(area, county_approver):
    registrar = member(Role.REGISTRAR, school=area.school, username="sealme")
    _, raw = api_token_create(actor=None, user=registrar, name="sis")
    account_seal(actor=county_approver, user_id=registrar.pk, note="调离")
    registrar.refresh_from_db()
    assert not registrar.is_active
    with translation.override("en"), pytest.raises(ValidationError, match="account manager"):
        authenticate(username="sealme", password=PASSWORD)
    assert ApiClient(raw).get("/api/students").status_code == 401
    seal = AccountSeal.objects.get(user=registrar)
    assert (seal.reason, seal.sealed_by, seal.note) == (SealReason.MANAGER, county_approver, "调离")
    with pytest.raises(Conflict):
        account_seal(actor=county_approver, user_id=registrar.pk)
    account_reopen(actor=county_approver, user_id=registrar.pk)
    assert authenticate(username="sealme", password=PASSWORD) == registrar
    entries = AuditEntry.objects.filter(action__startswith="account.").order_by("at")
    assert [e.action for e in entries] == [
        "account.seal",
        "account.reopen",
    ]


def test_removal_seals_for_ever_keeps_the_row_and_never_reuses_the_login_name(
    area, county_approver
):
    registrar = member(Role.REGISTRAR, school=area.school, username="leaver")
    api_token_create(actor=None, user=registrar, name="sis")
    with pytest.raises(FieldErrors):
        account_remove(actor=county_approver, user_id=registrar.pk, reason="")
    removed = account_remove(actor=county_approver, user_id=registrar.pk, reason="退休")
    assert removed.tokens_revoked == 1
    assert not ApiToken.objects.filter(user=registrar, revoked_at__isnull=True).exists()
    assert get_user_model().objects.filter(username="leaver", is_active=False).exists()
    with translation.override("en"), pytest.raises(ValidationError, match="was removed on"):
        authenticate(username="leaver", password=PASSWORD)
    assert Membership.objects.filter(user=registrar).exists()
    with pytest.raises(NotFound):
        account_reopen(actor=county_approver, user_id=registrar.pk)
    with pytest.raises(NotFound):
        account_reopen(actor=None, user_id=registrar.pk)
    for service in (account_seal, account_password_reset):
        with pytest.raises(Conflict):
            service(actor=county_approver, user_id=registrar.pk)
    with pytest.raises(Conflict):
        account_edit(actor=county_approver, user_id=registrar.pk, data=registrar_data(area))
    for name in ("leaver", "LEAVER"):
        with pytest.raises(FieldErrors) as caught:
            account_create(actor=county_approver, login_name=name, data=registrar_data(area))
        with translation.override("en"):
            assert "never used again" in str(caught.value.errors["login_name"][0].message)
    entry = AuditEntry.objects.get(action="account.remove")
    assert entry.detail["reason"] == "退休" and entry.detail["tokens_revoked"] == 1


def test_removing_a_sealed_account_ends_its_seal_and_the_database_refuses_reopening_it(
    area, county_approver
):
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    registrar = member(Role.REGISTRAR, school=area.school)
    account_seal(actor=county_approver, user_id=registrar.pk)
    account_remove(actor=county_approver, user_id=registrar.pk, reason="离职")
    open_seals = AccountSeal.objects.filter(user=registrar, reopened_at__isnull=True)
    assert [seal.reason for seal in open_seals] == [SealReason.REMOVED]
    with pytest.raises(IntegrityError), transaction.atomic():
        open_seals.update(reopened_at=timezone.now())


# ---- passwords ---------------------------------------------------------------------------------


def test_a_password_reset_ends_the_sessions_and_must_be_changed(area, county_approver, client):
    registrar = member(Role.REGISTRAR, school=area.school, username="forgot")
    client.force_login(registrar)
    assert client.get("/").status_code in (200, 302)
    reset = account_password_reset(actor=county_approver, user_id=registrar.pk)
    assert client.get("/students/search/").status_code == 302  # signed out
    assert authenticate(username="forgot", password=PASSWORD) is None
    assert authenticate(username="forgot", password=reset.password) is not None
    assert AccountProfile.objects.get(user=registrar).must_change_password
    entry = AuditEntry.objects.get(action="account.password_reset")
    assert reset.password not in str(entry.detail)


def test_the_initial_hash_is_replaced_by_the_preferred_one_at_the_first_login(
    area, county_approver, settings
):
    from xueji.accounts.administration.hashers import HASHER_PATH

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", HASHER_PATH]
    created = account_create(actor=county_approver, login_name="fresh", data=registrar_data(area))
    created.user.refresh_from_db()
    assert created.user.password.startswith("xueji_initial_pbkdf2_sha256$10000$")
    assert authenticate(username="fresh", password=created.password) is not None
    created.user.refresh_from_db()
    assert created.user.password.startswith("md5$")
