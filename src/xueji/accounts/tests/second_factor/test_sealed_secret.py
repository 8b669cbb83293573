"""An authenticator's TOTP secret is sealed with the field keys: the table (or a copy of it) holds
no form of the secret, a code still verifies, `xueji rotate_keys` moves the secret between keys
and suites with the registry's values and `xueji crypto status` counts it, and the migration
seals the devices django-otp kept in hex."""

from __future__ import annotations

import base64
import importlib
import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django_otp.plugins.otp_totp.models import TOTPDevice

from xueji.accounts.second_factor.models import TOTP_KEY_CONTEXT, Authenticator
from xueji.accounts.second_factor.services import second_factor_verify
from xueji.accounts.tests.second_factor.enrolment import KEY, code_for, enrol
from xueji.core import crypto
from xueji.core.errors import FieldErrors
from xueji.testing.crypto import Suites

pytestmark = pytest.mark.django_db

migration = importlib.import_module("xueji.accounts.migrations.0005_authenticator")


@pytest.fixture
def suites(monkeypatch):
    yield Suites(monkeypatch)
    crypto.reset_keyring()


def _forms_of_the_secret(key: str) -> list[str]:
    raw = bytes.fromhex(key)
    return [
        key.lower(),
        key.upper(),
        base64.b32encode(raw).decode(),
        base64.b64encode(raw).decode(),
        raw.decode("latin-1"),  # this key's bytes are printable: "12345678901234567890"
    ]


def _table_text(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
        return " ".join(str(value) for row in cursor.fetchall() for value in row)


def test_the_table_holds_no_form_of_the_secret_and_a_code_still_verifies(bureau):
    enrolment = enrol(bureau)
    stored = _table_text(Authenticator._meta.db_table)
    assert stored  # the device's row is there
    for form in _forms_of_the_secret(KEY):
        assert form not in stored, form
    assert not TOTPDevice.objects.exists()  # nothing kept in django-otp's plain table
    device = Authenticator.objects.get(user=bureau)
    assert crypto.decrypt(device.key_sealed, context=TOTP_KEY_CONTEXT) == KEY
    assert second_factor_verify(actor=bureau, token=code_for(KEY)) == enrolment.device
    with pytest.raises(FieldErrors):  # the same code is not accepted twice
        second_factor_verify(actor=bureau, token=code_for(KEY))


def test_the_secret_is_bound_to_its_context():
    sealed = Authenticator.seal(KEY)
    with pytest.raises(Exception):  # noqa: B017  (InvalidTag: another column's context)
        crypto.decrypt(sealed, context="student.id_number")


def test_django_otps_saves_never_put_back_a_secret_read_before_a_move(bureau):
    enrol(bureau)
    device = Authenticator.objects.get(user=bureau)
    moved = Authenticator.seal(KEY)  # as rotate_keys writes it meanwhile
    Authenticator.objects.filter(pk=device.pk).update(key_sealed=moved)
    assert device.verify_token(int(code_for(KEY)))  # a right code: its step saved
    assert Authenticator.objects.get(pk=device.pk).key_sealed == moved
    assert not device.verify_token(-1)  # a wrong one: counted and saved
    stored = Authenticator.objects.get(pk=device.pk)
    assert stored.key_sealed == moved
    assert stored.last_t == device.last_t and stored.throttling_failure_count == 1


def test_rotate_keys_moves_the_secret_between_suites_and_status_counts_it(bureau, suites):
    suites.use("intl")
    enrol(bureau)
    assert Authenticator.objects.get(user=bureau).key_sealed.startswith("v1.k1.")

    suites.use("sm")
    call_command("rotate_keys", stdout=io.StringIO())
    assert Authenticator.objects.get(user=bureau).key_sealed.startswith("sm1.m1.")
    suites.use("sm", intl=False)  # the intl keys gone: the code still verifies
    second_factor_verify(actor=bureau, token=code_for(KEY))
    status = io.StringIO()
    call_command("crypto", "status", stdout=status)
    assert "accounts_authenticator.key_sealed: 1 sm/m1" in status.getvalue()


def test_the_migration_seals_the_devices_django_otp_kept_in_hex(bureau):
    plain = TOTPDevice.objects.create(
        user=bureau, name="authenticator", key=KEY.upper(), last_t=7, drift=1, confirmed=True
    )
    created = plain.created_at
    migration.seal_devices(apps, None)
    assert not TOTPDevice.objects.exists()
    device = Authenticator.objects.get(user=bureau)
    assert crypto.decrypt(device.key_sealed, context=TOTP_KEY_CONTEXT) == KEY
    assert (device.name, device.last_t, device.drift, device.confirmed) == (
        "authenticator",
        7,
        1,
        True,
    )
    assert device.created_at == created
    for form in _forms_of_the_secret(KEY):
        assert form not in _table_text(Authenticator._meta.db_table)
    device.drift = 0
    device.save()
    assert second_factor_verify(actor=bureau, token=code_for(KEY)).pk == device.pk

    migration.unseal_devices(apps, None)  # and back, should the migration be reversed
    assert not Authenticator.objects.exists()
    assert TOTPDevice.objects.get(user=bureau).key == KEY
