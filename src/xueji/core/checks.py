"""System checks that stop a production deployment from starting unsafely."""

import os
from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from xueji.core.crypto import PLAINTEXT_FLAG, keyring


@register(deploy=True)
def field_keys_configured(app_configs: Any, **kwargs: Any) -> list[Error]:
    """Production must hold real encryption keys, not ones derived from SECRET_KEY."""
    if settings.DEBUG or not keyring().derived:
        return []
    return [
        Error(
            "Identity numbers would be encrypted with keys derived from SECRET_KEY.",
            hint="Set XUEJI_FIELD_KEYS and XUEJI_INDEX_KEY, or XUEJI_KEY_FILE.",
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
