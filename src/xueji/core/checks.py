"""System checks that stop a production deployment from starting unsafely."""

import os
from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from xueji.core.crypto import KEY_SETTINGS, PLAINTEXT_FLAG, configured_keys, keyring
from xueji.core.suites import SUITES


@register()
def crypto_suite_consistent(app_configs: Any, **kwargs: Any) -> list[Error]:
    """The suite named exists and its keys fit it (an SM4 key is 16 bytes, an AES-256 key 32),
    and the suite in force has keys of its own when another suite's are configured: values would
    otherwise be sealed and indexed under keys derived from SECRET_KEY. In every environment:
    a deployment that cannot read its keys, or writes under the wrong ones, must not start."""
    try:
        ring = keyring()
        configured = configured_keys()
    except (ValueError, KeyError, OSError) as refused:
        return [
            Error(
                f"The encryption keys cannot be used: {refused}.",
                hint="XUEJI_CRYPTO_SUITE is intl or sm; intl's field keys are 32 bytes "
                "(XUEJI_FIELD_KEYS), sm's 16 bytes (XUEJI_SM4_FIELD_KEYS); each suite's index "
                "key is 32 bytes.",
                id="xueji.E003",
            )
        ]
    if ring.derived and configured:
        fields, index, section = KEY_SETTINGS[ring.suite.name]
        others = ", ".join(SUITES[name].name for name in configured)
        return [
            Error(
                f"XUEJI_CRYPTO_SUITE is {ring.suite.name} but only the {others} suite's keys are "
                f"configured: {ring.suite.field_cipher} values would be sealed under keys "
                "derived from SECRET_KEY.",
                hint=f"Set {fields} and {index} (or the key file's "
                f'"{section or "keys"}"), keeping the other suite\'s keys to read what they '
                "sealed until `xueji rotate_keys` has moved it.",
                id="xueji.E004",
            )
        ]
    return []


@register(deploy=True)
def field_keys_configured(app_configs: Any, **kwargs: Any) -> list[Error]:
    """Production must hold real encryption keys, not ones derived from SECRET_KEY."""
    try:
        derived = keyring().derived
    except (ValueError, KeyError, OSError):
        return []  # xueji.E003 names it
    if settings.DEBUG or not derived:
        return []
    return [
        Error(
            "Identity numbers would be encrypted with keys derived from SECRET_KEY.",
            hint="Set XUEJI_FIELD_KEYS and XUEJI_INDEX_KEY (sm suite: XUEJI_SM4_FIELD_KEYS and "
            "XUEJI_SM3_INDEX_KEY), or XUEJI_KEY_FILE.",
            id="xueji.E001",
        )
    ]


@register(deploy=True)
def bench_plaintext_off(app_configs: Any, **kwargs: Any) -> list[Error]:
    """The bench's plaintext sealer must not even be switchable on a deployment."""
    if not os.environ.get(PLAINTEXT_FLAG):
        return []
    return [
        Error(
            f"{PLAINTEXT_FLAG} is set: identity numbers could be stored unsealed.",
            hint=f"Unset {PLAINTEXT_FLAG}; it is for bench/encryption.py only.",
            id="xueji.E002",
        )
    ]
