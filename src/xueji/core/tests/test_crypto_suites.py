"""The suite in force seals and indexes; every suite held reads and is asked at lookup; a
configuration that does not fit its suite is refused by the system checks."""

import base64
import os

import pytest
from cryptography.exceptions import InvalidTag

from xueji.core import crypto
from xueji.core.checks import crypto_suite_consistent, field_keys_configured
from xueji.core.suites import SM4GCM
from xueji.testing.crypto import Suites, b64

NUMBER = "11010519491231002X"


@pytest.fixture
def suites(monkeypatch):
    yield Suites(monkeypatch)
    crypto.reset_keyring()


def _ids(errors):
    return [error.id for error in errors]


def test_the_sm_suite_seals_with_sm4_gcm_under_its_key_and_names_it(suites):
    suites.use("sm")
    token = crypto.encrypt(NUMBER, context="student.id_number")
    tag, key_id, payload = token.split(".", 2)
    assert (tag, key_id, crypto.suite_of(token)) == ("sm1", "m1", "sm")
    assert NUMBER not in token
    # It is SM4-GCM under the configured key, the context authenticated.
    raw = base64.urlsafe_b64decode(payload)
    cipher = SM4GCM(base64.b64decode(suites.sm_field))
    assert cipher.decrypt(raw[:12], raw[12:], b"student.id_number").decode() == NUMBER
    assert crypto.decrypt(token, context="student.id_number") == NUMBER
    with pytest.raises(InvalidTag):
        crypto.decrypt(token, context="family.id_number")


def test_values_of_either_suite_read_whichever_suite_writes(suites):
    suites.use("intl")
    under_intl = crypto.encrypt(NUMBER, context="c")
    suites.use("sm")
    under_sm = crypto.encrypt(NUMBER, context="c")
    assert (crypto.suite_of(under_intl), crypto.suite_of(under_sm)) == ("intl", "sm")
    assert crypto.decrypt(under_intl, context="c") == crypto.decrypt(under_sm, context="c")
    suites.use("intl")
    assert crypto.decrypt(under_sm, context="c") == NUMBER
    # Once a suite's keys are gone its values can no longer be read, and say why.
    suites.use("intl", sm=False)
    with pytest.raises(crypto.KeyError_, match="sm suite"):
        crypto.decrypt(under_sm, context="c")


def test_a_value_relabelled_as_the_other_suite_is_refused(suites):
    suites.use("intl")
    token = crypto.encrypt(NUMBER, context="c")
    relabelled = "sm1.m1." + token.split(".", 2)[2]
    with pytest.raises(InvalidTag):
        crypto.decrypt(relabelled, context="c")
    with pytest.raises(ValueError, match="unknown ciphertext version"):
        crypto.decrypt("zz.k1." + token.split(".", 2)[2], context="c")


def test_the_blind_index_is_hmac_sm3_under_sm_and_lookups_ask_for_both(suites):
    import hashlib
    import hmac

    suites.use("sm")
    index = crypto.blind_index(NUMBER, context="document")
    sm3 = hmac.new(base64.b64decode(suites.sm_index), f"document\x00{NUMBER}".encode(), "sm3")
    assert index == sm3.hexdigest()[: crypto.INDEX_HEX_CHARS]
    intl = hmac.new(
        base64.b64decode(suites.intl_index), f"document\x00{NUMBER}".encode(), hashlib.sha256
    ).hexdigest()[: crypto.INDEX_HEX_CHARS]
    assert intl != index
    # The active suite's first, then the other held suite's.
    assert crypto.blind_indexes(NUMBER, context="document") == (index, intl)
    suites.use("intl")
    assert crypto.blind_indexes(NUMBER, context="document") == (intl, index)
    # One suite held: one digest.
    suites.use("sm", intl=False)
    assert crypto.blind_indexes(NUMBER, context="document") == (index,)


def test_without_any_configured_key_both_suites_are_derived_for_development(monkeypatch):
    for name in ("XUEJI_FIELD_KEYS", "XUEJI_INDEX_KEY", "XUEJI_SM4_FIELD_KEYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XUEJI_CRYPTO_SUITE", "sm")
    crypto.reset_keyring()
    try:
        ring = crypto.keyring()
        assert list(ring.suites) == ["sm", "intl"]
        assert ring.derived and all(keys.derived for keys in ring.suites.values())
        assert len(ring.of("sm").keys["dev"]) == 16 and len(ring.of("intl").keys["dev"]) == 32
        assert crypto_suite_consistent(None) == []
    finally:
        crypto.reset_keyring()


def test_the_suite_follows_the_settings_too(settings, monkeypatch):
    monkeypatch.delenv("XUEJI_CRYPTO_SUITE", raising=False)
    settings.XUEJI_CRYPTO_SUITE = "sm"
    assert crypto.encrypt(NUMBER, context="c").startswith("sm1.")
    settings.XUEJI_CRYPTO_SUITE = "intl"
    assert crypto.encrypt(NUMBER, context="c").startswith("v1.")


# ---- refused configurations ----------------------------------------------------------------


def test_an_intl_key_given_to_the_sm_suite_is_refused_naming_the_length(suites, monkeypatch):
    suites.use("sm")
    monkeypatch.setenv("XUEJI_SM4_FIELD_KEYS", f"m1:{suites.intl_field}")  # 32 bytes
    crypto.reset_keyring()
    errors = crypto_suite_consistent(None)
    assert _ids(errors) == ["xueji.E003"]
    assert "XUEJI_SM4_FIELD_KEYS 'm1' must be 16 bytes" in errors[0].msg
    assert field_keys_configured(None) == []  # named once, by E003


def test_the_sm_suite_with_only_the_intl_keys_configured_is_refused(suites):
    suites.use("sm", sm=False)
    errors = crypto_suite_consistent(None)
    assert _ids(errors) == ["xueji.E004"]
    assert "XUEJI_CRYPTO_SUITE is sm but only the intl suite's keys are configured" in errors[0].msg
    assert "XUEJI_SM4_FIELD_KEYS" in errors[0].hint
    suites.use("sm")
    assert crypto_suite_consistent(None) == []


def test_an_unknown_suite_and_an_index_key_without_field_keys_are_refused(suites, monkeypatch):
    suites.use("gm")
    assert "'gm' is not a suite: choose intl or sm" in crypto_suite_consistent(None)[0].msg
    suites.use("sm")
    monkeypatch.setenv("XUEJI_SM4_FIELD_KEYS", "")
    crypto.reset_keyring()
    assert "XUEJI_SM3_INDEX_KEY is set without XUEJI_SM4_FIELD_KEYS" in (
        crypto_suite_consistent(None)[0].msg
    )


def test_production_refuses_the_suite_in_force_on_derived_keys(settings, monkeypatch):
    for name in ("XUEJI_FIELD_KEYS", "XUEJI_INDEX_KEY", "XUEJI_SM4_FIELD_KEYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XUEJI_CRYPTO_SUITE", "sm")
    settings.DEBUG = False
    crypto.reset_keyring()
    try:
        assert _ids(field_keys_configured(None)) == ["xueji.E001"]
        monkeypatch.setenv("XUEJI_SM4_FIELD_KEYS", f"m1:{b64(os.urandom(16))}")
        monkeypatch.setenv("XUEJI_SM3_INDEX_KEY", b64(os.urandom(32)))
        crypto.reset_keyring()
        assert field_keys_configured(None) == []
        # The intl suite's keys are not configured: it is not held, not derived.
        assert list(crypto.keyring().suites) == ["sm"]
    finally:
        crypto.reset_keyring()


def test_the_key_file_holds_both_suites(suites, monkeypatch, tmp_path):
    import json

    key_file = tmp_path / "keys.json"
    key_file.write_text(
        json.dumps(
            {
                "active": "f1",
                "keys": {"f1": suites.intl_field},
                "index_key": suites.intl_index,
                "sm": {
                    "active": "g1",
                    "keys": {"g1": suites.sm_field},
                    "index_key": suites.sm_index,
                },
            }
        )
    )
    suites.use("sm", intl=False, sm=False)
    monkeypatch.setenv("XUEJI_KEY_FILE", str(key_file))
    crypto.reset_keyring()
    assert crypto.encrypt(NUMBER, context="c").startswith("sm1.g1.")
    assert list(crypto.keyring().suites) == ["sm", "intl"]
    assert crypto_suite_consistent(None) == []
