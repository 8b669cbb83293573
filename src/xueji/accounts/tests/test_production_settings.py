"""`xueji check --deploy` passes on the production settings, and they refuse to start without
their secrets."""

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import config

SRC = Path(config.__file__).resolve().parent.parent


def deploy_check(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("XUEJI_", "DATABASE_URL", "DJANGO_"))
    }
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings_production",
            "PYTHONPATH": str(SRC),
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION = {
    "XUEJI_SECRET_KEY": secrets.token_urlsafe(64),
    "XUEJI_ALLOWED_HOSTS": "xueji.example.cn",
    "DATABASE_URL": "postgres://xueji@db.example.cn:5432/xueji",
    "XUEJI_FIELD_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
    "XUEJI_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    "XUEJI_AUDIT_SIGNING_KEYS": "a1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
}


def test_the_deploy_check_passes_on_production_settings(tmp_path):
    result = deploy_check(**PRODUCTION, XUEJI_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_development_settings_would_fail_it(tmp_path):
    result = deploy_check(DJANGO_SETTINGS_MODULE="config.settings", XUEJI_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W018"):
        assert warning in result.stderr + result.stdout


def test_a_missing_or_weak_secret_key_stops_production(tmp_path):
    without = {key: value for key, value in PRODUCTION.items() if key != "XUEJI_SECRET_KEY"}
    result = deploy_check(**without, XUEJI_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "XUEJI_SECRET_KEY must be set" in result.stderr
    weak = deploy_check(**{**PRODUCTION, "XUEJI_SECRET_KEY": "short"}, XUEJI_VAR_DIR=str(tmp_path))
    assert "50 characters" in weak.stderr


def test_production_refuses_keys_derived_from_the_secret_key(tmp_path):
    without_keys = {
        k: v for k, v in PRODUCTION.items() if k not in ("XUEJI_FIELD_KEYS", "XUEJI_INDEX_KEY")
    }
    result = deploy_check(**without_keys, XUEJI_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "xueji.E001" in result.stderr + result.stdout


def test_production_refuses_an_audit_signing_key_derived_from_the_secret_key(tmp_path):
    without = {k: v for k, v in PRODUCTION.items() if k != "XUEJI_AUDIT_SIGNING_KEYS"}
    result = deploy_check(**without, XUEJI_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "xueji_audit.E003" in result.stderr + result.stdout


def test_production_runs_on_postgresql(tmp_path):
    result = deploy_check(
        **{**PRODUCTION, "DATABASE_URL": "sqlite:///tmp/x.sqlite3"}, XUEJI_VAR_DIR=str(tmp_path)
    )
    assert result.returncode != 0
    assert "PostgreSQL" in result.stderr


def test_switching_off_the_second_factor_in_development_is_reported(tmp_path):
    result = deploy_check(
        **PRODUCTION,
        XUEJI_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="config.settings",
        XUEJI_TWO_FACTOR_REQUIRED="0",
    )
    assert "xueji_accounts.W002" in result.stderr + result.stdout
