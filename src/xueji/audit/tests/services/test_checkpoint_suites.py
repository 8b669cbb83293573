"""Checkpoints signed under either suite: SM2 under sm, Ed25519 under intl, each keeping its
algorithm and key id, and all of them verifiable after the suite changes."""

import base64
import io

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import transaction

from xueji.audit.checkpoints import (
    audit_checkpoint_seal,
    checkpoint_signers,
    statement_bytes,
    statement_of,
)
from xueji.audit.integrity import chain_verify
from xueji.audit.models import AuditCheckpoint
from xueji.audit.services import audit_record
from xueji.audit.signing import (
    SM2_PREFIX,
    new_seed,
    public_key_text,
    signing_keys,
    signing_keys_configured,
)
from xueji.core import crypto
from xueji.core.sm2 import SM2PrivateKey, SM2PublicKey
from xueji.core.suites import ED25519, SM2

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _suite_from_settings(monkeypatch):
    monkeypatch.delenv("XUEJI_CRYPTO_SUITE", raising=False)
    yield
    crypto.reset_keyring()


def _write(action: str = "test.write") -> None:
    with transaction.atomic():
        audit_record(actor=None, action=action)


def _seal(action: str) -> AuditCheckpoint:
    _write(action)
    checkpoint = audit_checkpoint_seal().checkpoint
    assert checkpoint is not None
    return checkpoint


def problems(result):
    return [str(problem) for problem in result.problems]


@pytest.fixture
def configured(settings):
    """An Ed25519 key (intl) and an SM2 key (sm), configured as production configures them."""
    ed25519, sm2 = new_seed(ED25519), new_seed(SM2)
    settings.XUEJI_AUDIT_SIGNING_KEYS = f"e1:{ed25519}"
    settings.XUEJI_AUDIT_SM2_SIGNING_KEYS = f"g1:{sm2}"
    return {"e1": ed25519, "g1": sm2}


def test_the_sm_suite_signs_with_sm2_and_keeps_the_algorithm_with_the_signature(
    settings, configured
):
    settings.XUEJI_CRYPTO_SUITE = "sm"
    checkpoint = _seal("test.under_sm")
    assert checkpoint.key_id == "g1" and checkpoint.signature.startswith(SM2_PREFIX)
    assert len(checkpoint.signature) <= AuditCheckpoint._meta.get_field("signature").max_length
    public = SM2PublicKey.from_bytes(
        SM2PrivateKey.from_bytes(base64.b64decode(configured["g1"])).public_key().to_bytes()
    )
    raw = base64.b64decode(checkpoint.signature.removeprefix(SM2_PREFIX))
    assert public.verify(raw, statement_bytes(statement_of(checkpoint)))
    assert chain_verify().ok


def test_checkpoints_of_both_suites_verify_after_each_switch(settings, configured):
    settings.XUEJI_CRYPTO_SUITE = "intl"
    first = _seal("test.under_intl")
    settings.XUEJI_CRYPTO_SUITE = "sm"
    second = _seal("test.under_sm")
    settings.XUEJI_CRYPTO_SUITE = "intl"
    third = _seal("test.back_under_intl")
    assert [(c.key_id, c.signature.startswith(SM2_PREFIX)) for c in (first, second, third)] == [
        ("e1", False),
        ("g1", True),
        ("e1", False),
    ]
    result = chain_verify()
    assert result.ok, result.problems
    assert [(s.algorithm, s.key_id, s.first, s.last) for s in checkpoint_signers()] == [
        (ED25519, "e1", first.number, third.number),
        (SM2, "g1", second.number, second.number),
    ]
    # The SM2 key retired to its public key: the sm checkpoint still verifies.
    retired = public_key_text(signing_keys().public["g1"])
    settings.XUEJI_AUDIT_SM2_SIGNING_KEYS = ""
    settings.XUEJI_AUDIT_SM2_VERIFY_KEYS = f"g1:{retired}"
    assert chain_verify().ok
    settings.XUEJI_AUDIT_SM2_VERIFY_KEYS = ""
    settings.XUEJI_AUDIT_DERIVED_KEY_ALLOWED = False
    assert (
        f"checkpoint #{second.number}: it is signed with the key 'g1', which is not a known "
        "audit key" in problems(chain_verify())
    )


def test_audit_verify_names_each_checkpoints_algorithm_and_the_suite_in_force(settings, configured):
    settings.XUEJI_CRYPTO_SUITE = "intl"
    _seal("test.under_intl")
    settings.XUEJI_CRYPTO_SUITE = "sm"
    _seal("test.under_sm")
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    text = out.getvalue()
    assert "checkpoints #1 to #1 (1): signed with Ed25519, key e1" in text
    assert "checkpoints #2 to #2 (1): signed with SM2, key g1" in text
    assert (
        "cryptographic suite in force: sm (SM4-GCM fields, HMAC-SM3 blind index, SM2 "
        "signatures); new checkpoints are signed with SM2, key g1." in text
    )
    keys = io.StringIO()
    call_command("audit", "keys", stdout=keys)
    assert "g1:" in keys.getvalue() and "SM2, signs" in keys.getvalue()
    assert "Ed25519, verifies" in keys.getvalue()


def test_a_forged_or_relabelled_sm2_signature_is_refused(settings, configured, attacker_sql):
    settings.XUEJI_CRYPTO_SUITE = "sm"
    checkpoint = _seal("test.under_sm")
    # Someone with the database re-signs an altered statement with an SM2 key of their own.
    own = SM2PrivateKey.generate()
    checkpoint.root = "0" * 64
    signed = own.sign(statement_bytes(statement_of(checkpoint)))
    forged = SM2_PREFIX + base64.b64encode(signed).decode()
    attacker_sql(
        "UPDATE audit_auditcheckpoint SET root = %s, signature = %s WHERE number = 1",
        [checkpoint.root, forged],
    )
    found = problems(chain_verify())
    assert "checkpoint #1: its signature does not verify with the key 'g1'" in found
    # An SM2 signature presented as the Ed25519 key's is named as such.
    attacker_sql("UPDATE audit_auditcheckpoint SET key_id = 'e1' WHERE number = 1", None)
    found = problems(chain_verify())
    assert "checkpoint #1: it is signed with SM2 but the key 'e1' is an Ed25519 key" in found


def test_one_key_id_for_two_algorithms_is_refused(settings, configured):
    settings.XUEJI_AUDIT_SM2_SIGNING_KEYS = f"e1:{configured['g1']}"
    with pytest.raises(ImproperlyConfigured, match="names both an Ed25519 and an SM2 key"):
        signing_keys()


def test_production_under_sm_needs_an_sm2_key(settings):
    settings.XUEJI_CRYPTO_SUITE = "sm"
    settings.XUEJI_AUDIT_DERIVED_KEY_ALLOWED = False
    settings.XUEJI_AUDIT_SIGNING_KEYS = f"e1:{new_seed(ED25519)}"
    errors = signing_keys_configured()
    assert [error.id for error in errors] == ["xueji_audit.E003"]
    assert "No audit signing key of SM2: the sm suite signs checkpoints with SM2" in errors[0].msg
    settings.XUEJI_AUDIT_SM2_SIGNING_KEYS = f"g1:{new_seed(SM2)}"
    assert signing_keys_configured() == []
    assert signing_keys().algorithm == SM2
    # Under intl the SM2 key still verifies, and none is needed.
    settings.XUEJI_CRYPTO_SUITE = "intl"
    assert signing_keys().algorithm == ED25519 and "g1" in signing_keys().public
    settings.XUEJI_AUDIT_SM2_SIGNING_KEYS = ""
    assert signing_keys_configured() == []


def test_an_sm2_private_key_out_of_range_is_refused(settings):
    from xueji.core.sm2 import N

    settings.XUEJI_AUDIT_SM2_SIGNING_KEYS = (
        f"g1:{base64.b64encode((N - 1).to_bytes(32, 'big')).decode()}"
    )
    with pytest.raises(ImproperlyConfigured, match=r"SM2 key 'g1': an SM2 private key lies in"):
        signing_keys()
