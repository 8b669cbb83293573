"""The bench's plaintext sealer (bench/encryption.py's baseline) is out of production's reach."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from xueji.core import crypto

NUMBER = "11010519491231002X"
SRC = Path(__file__).resolve().parents[3]


def test_refused_without_the_flag_with_production_settings_or_outside_a_bench_database():
    on = {crypto.PLAINTEXT_FLAG: "1"}
    assert crypto.plaintext_refusal({}, "config.settings", "xueji_bench")
    assert crypto.plaintext_refusal(
        {crypto.PLAINTEXT_FLAG: "yes"}, "config.settings", "xueji_bench"
    )
    assert crypto.plaintext_refusal(on, "config.settings_production", "xueji_bench")
    assert crypto.plaintext_refusal(on, "config.settings", "xueji")
    assert crypto.plaintext_refusal(on, "config.settings", "xueji_bench") == ""


@pytest.mark.django_db
def test_the_test_database_refuses_it_even_with_the_flag(monkeypatch):
    monkeypatch.setenv(crypto.PLAINTEXT_FLAG, "1")
    with (
        pytest.raises(ImproperlyConfigured, match="not a bench database"),
        crypto.bench_plaintext(),
    ):
        pass
    assert crypto.encrypt(NUMBER, context="student.id_number").startswith(crypto.VERSION + ".")


def test_production_settings_refuse_it_with_the_flag_and_a_bench_database():
    """In a process configured as production (flag set, a database named like the bench's)."""
    script = (
        "import django; django.setup()\n"
        "from django.core.exceptions import ImproperlyConfigured\n"
        "from xueji.core import crypto\n"
        "try:\n"
        "    with crypto.bench_plaintext():\n"
        "        print('ALLOWED')\n"
        "except ImproperlyConfigured as error:\n"
        "    print('REFUSED', error)\n"
        "from django.core.checks import run_checks\n"
        "print(sorted(m.id for m in run_checks(include_deployment_checks=True)))\n"
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_production",
        "XUEJI_SECRET_KEY": "p" * 64,
        "XUEJI_ALLOWED_HOSTS": "xueji.example",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/xueji_bench",
        crypto.PLAINTEXT_FLAG: "1",
        "PYTHONPATH": str(SRC),
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "ALLOWED" not in done.stdout
    assert "REFUSED" in done.stdout and "production" in done.stdout
    assert "xueji.E002" in done.stdout


def test_deploy_check_fails_while_the_flag_is_set(monkeypatch):
    assert "xueji.E002" not in {m.id for m in run_checks(include_deployment_checks=True)}
    monkeypatch.setenv(crypto.PLAINTEXT_FLAG, "1")
    assert "xueji.E002" in {m.id for m in run_checks(include_deployment_checks=True)}


def test_plaintext_tokens_are_refused_outside_the_block():
    token = crypto._plaintext.set(True)
    try:
        plain = crypto.encrypt(NUMBER, context="student.id_number")
        assert plain == f"{crypto.PLAINTEXT_VERSION}..{NUMBER}"
        assert crypto.decrypt(plain, context="student.id_number") == NUMBER
        assert crypto.blind_index(NUMBER, context="document") == NUMBER
    finally:
        crypto._plaintext.reset(token)
    with pytest.raises(ValueError, match="version"):
        crypto.decrypt(plain, context="student.id_number")
    assert crypto.blind_index(NUMBER, context="document") != NUMBER


def test_the_cached_cipher_and_hmac_state_give_the_same_values_as_fresh_ones():
    """The keyring keeps one AESGCM per key and one keyed HMAC state (bench/encryption.py's
    profile); digests stay those of a fresh HMAC, so stored indexes keep matching."""
    import hashlib
    import hmac

    ring = crypto.keyring()
    fresh = hmac.new(ring.index_key, f"document\x00{NUMBER}".encode(), hashlib.sha256)
    assert crypto.blind_index(NUMBER, context="document") == fresh.hexdigest()[:32]
    assert crypto.blind_index(NUMBER, context="document") == fresh.hexdigest()[:32]
    assert ring.cipher(ring.active_id) is ring.cipher(ring.active_id)
    token = crypto.encrypt(NUMBER, context="student.id_number")
    assert crypto.decrypt(token, context="student.id_number") == NUMBER
    with pytest.raises(crypto.KeyError_):
        ring.cipher("no-such-key")
