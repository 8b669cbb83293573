from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "xueji.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.core import checks

        from xueji.accounts import signals  # noqa: F401  (connects the receivers)
        from xueji.accounts.checks import check_account_security

        checks.register(check_account_security, checks.Tags.security, deploy=True)

        # The authenticators' sealed secrets move with the registry's values at a change of
        # keys or suite, and are counted by `xueji crypto status`.
        from xueji.accounts.second_factor.models import TOTP_KEY_CONTEXT, Authenticator
        from xueji.students.sealing import SealedColumn, sealed_column_register

        sealed_column_register(SealedColumn(Authenticator, "key_sealed", TOTP_KEY_CONTEXT))

        # The menu (xueji.access.menu): the accounts of the area (管理), and the user's own
        # password (我的).
        from xueji.access.menu import MenuEntry, menu_register
        from xueji.access.policy import Action

        menu_register(
            MenuEntry(
                "administration",
                _("Accounts"),
                "accounts:account_list",
                order=20,
                action=Action.ACCOUNT_MANAGE,
            ),
            MenuEntry("account", _("Change password"), "accounts:password_change", order=20),
        )
