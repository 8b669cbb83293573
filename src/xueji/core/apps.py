from typing import Any

from django.apps import AppConfig
from django.core.signals import setting_changed


def _forget_keys(*, setting: str, **kwargs: Any) -> None:
    from xueji.core.crypto import KEYRING_SETTINGS, reset_keyring

    if setting in KEYRING_SETTINGS:
        reset_keyring()


class CoreConfig(AppConfig):
    name = "xueji.core"
    label = "core"

    def ready(self) -> None:
        from xueji.core import checks  # noqa: F401  (registers the system checks)

        # A test that changes the suite or the keys in the settings gets the keyring they say.
        setting_changed.connect(_forget_keys, dispatch_uid="xueji.core.forget_keys")
